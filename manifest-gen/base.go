package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/pyjson"
)

// baseImage is the image of --from-image whose layers go first.
type baseImage struct {
	// config is the "config" member of the base image config: its Docker
	// config (an empty object when it has none).
	config *pyjson.Object
	// history is the base config's own history when it describes exactly
	// its layers (one entry per layer besides empty_layer ones), else nil.
	history pyjson.Array
	// platform is the one the base config names, nil when it names none.
	platform *v1.Platform
	layers   []*archive.Layer
	close    func() error
}

// openBase opens the base image archive and picks the image: the first one
// unless name or tag is given; of a multi-platform image (an OCI layout of
// an image index, as build-index writes), the one for the platform being
// built (archive.FindFor), not the first platform's.
func openBase(o *cli.IO, file, name, tag string, platform v1.Platform) (*baseImage, error) {
	a, err := archive.OpenWith(file, nil, archive.Options{Open: o.OpenNamed})
	if err != nil {
		return nil, fmt.Errorf("base image: %w", err)
	}
	img, err := a.FindFor(name, tag, platform)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("base image: %w", err)
	}
	cfg, err := dockerConfig(img.ConfigBytes)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("base image %q: config %s: %w", file, img.ConfigDigest, err)
	}
	b := &baseImage{config: cfg, history: baseHistory(img.ConfigBytes, len(img.Layers)), layers: img.Layers, close: a.Close}
	if p, err := oci.ConfigPlatform(img.ConfigBytes); err == nil {
		b.platform = &p
	}
	return b, nil
}

// warnPlatform says, in one line, when the base's programs do not run on
// the platform the image is built for (as an index's clients judge it,
// oci.Serves: an arm/v6 base serves arm/v7). nixpkgs builds such an image
// without a word, and so does this tool, for the bytes are nixpkgs'; but
// its config names one architecture and its base layers hold another's
// programs, which docker run only reports as "exec format error". The
// base's platform is any string its config holds, shown as Printable
// makes it: a warning does not pass through the error line's cleaning.
func (b *baseImage) warnPlatform(o *cli.IO, file string, want v1.Platform) {
	if b.platform == nil {
		return
	}
	if _, ok := oci.Serves(*b.platform, want); ok {
		return
	}
	o.Logf("warning: --from-image %q is a %s image, this one %s: its programs will not run there (give --architecture and --variant of the base, or a base for %s)",
		file, errdefs.Printable(oci.PlatformString(*b.platform), errdefs.MaxQuoted), oci.PlatformString(want), oci.PlatformString(want))
}

// baseHistory returns an image config's history entries when they account
// for exactly its layers and their readers read them, and nil otherwise
// (no history, or one that does not match or is not readable, which
// --keep-base-history then replaces by synthesized entries).
func baseHistory(imageConfig []byte, layers int) pyjson.Array {
	v, err := pyjson.Parse(imageConfig)
	if err != nil {
		return nil
	}
	doc, ok := v.(*pyjson.Object)
	if !ok {
		return nil
	}
	h, err := memberOf(doc, "history")
	if err != nil {
		return nil
	}
	entries, ok := h.(pyjson.Array)
	if !ok {
		return nil
	}
	nonEmpty := 0
	for _, e := range entries {
		obj, ok := e.(*pyjson.Object)
		if !ok {
			return nil
		}
		if !historyReadable(obj) {
			return nil
		}
		if empty, _ := obj.Get(keyOf(obj, "empty_layer")); empty != (pyjson.Bool(true)) {
			nonEmpty++
		}
	}
	if nonEmpty != layers {
		return nil
	}
	return entries
}

// dockerConfig returns the "config" member of an image config, read as
// Python reads it (key order kept), found as Go's decoder finds it
// ("Config" is config: docker runs the base with it).
func dockerConfig(imageConfig []byte) (*pyjson.Object, error) {
	v, err := pyjson.Parse(imageConfig)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(*pyjson.Object)
	if !ok {
		return nil, fmt.Errorf("not a JSON object: %w", errdefs.ErrInvalidInput)
	}
	cfg, err := memberOf(doc, "config")
	if err != nil {
		return nil, err
	}
	switch cfg := cfg.(type) {
	case *pyjson.Object:
		return cfg, nil
	case nil, pyjson.Null:
		return &pyjson.Object{}, nil
	}
	return nil, fmt.Errorf("its config member is not an object: %w", errdefs.ErrInvalidInput)
}

// copyBaseLayers writes the base image's layers, verified against their
// diff_ids as they are copied. Their history comment is nixpkgs':
// "store paths: ['<member in the base archive>']".
func copyBaseLayers(ctx context.Context, o *cli.IO, a imageWriter, base *baseImage, file string) ([]layerEntry, error) {
	var entries []layerEntry
	for i, l := range base.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o.Debugf("adding base layer %d from %q", i, l.Member)
		if err := copyBaseLayer(ctx, a, l); err != nil {
			return nil, fmt.Errorf("base image %q: layer %d %s: %w", file, i, l.DiffID, err)
		}
		entries = append(entries, layerEntry{DiffID: l.DiffID, Comment: historyComment("", []string{l.Member})})
	}
	return entries, nil
}

func copyBaseLayer(ctx context.Context, a imageWriter, l *archive.Layer) error {
	return l.CopyUncompressed(func(size int64, r io.Reader) error {
		return a.addLayer(size, cli.ContextReader(ctx, r))
	})
}

// printBaseLayers prints the number of layers of the --from-image base
// image. Workflows need it before any layer is packed: popularity
// --base-layers takes it to keep the whole image within --max-layers
// (nixpkgs runs jq '.[0].Layers | length' on the base manifest), and only
// this tool reads base images in every storage and compression.
func (c *command) printBaseLayers(o *cli.IO) error {
	base, err := openBase(o, c.FromImage, c.FromImageName, c.FromImageTag, c.flagPlatform())
	if err != nil {
		return err
	}
	defer base.close()
	if _, err := fmt.Fprintln(o.Stdout, len(base.layers)); err != nil {
		return fmt.Errorf("writing the layer count: %w", err)
	}
	return nil
}

// flagPlatform is the platform --os, --architecture and --variant name,
// with their defaults (linux, this machine's architecture, no variant):
// the image's, which --print-base-layers and --print-platform use without
// reading --conf.
func (c *command) flagPlatform() v1.Platform {
	return v1.Platform{OS: firstOf(c.OS, "linux"), Architecture: firstOf(c.Architecture, runtime.GOARCH), Variant: c.Variant}
}

// historyFields are the fields of a history entry as docker, skopeo and
// containerd decode it (the image-spec's History), by lower-cased name.
var historyFields = map[string]fieldType{
	"created": typeString, "created_by": typeString, "author": typeString,
	"comment": typeString, "empty_layer": typeBool,
}

// historyReadable reports whether a history entry's fields have the types
// its readers decode them into, and created (a time to them) is RFC 3339:
// one that is not makes the image's config unreadable, so docker load
// refuses the image built on it.
func historyReadable(entry *pyjson.Object) bool {
	if checkFields(entry, historyFields, "") != nil {
		return false
	}
	for _, m := range entry.Members() {
		if key, _, _ := fieldOf(historyFields, m.Key); key == "created" {
			if s, ok := m.Value.(pyjson.String); ok {
				if _, err := time.Parse(time.RFC3339Nano, string(s)); err != nil {
					return false
				}
			}
		}
	}
	return true
}
