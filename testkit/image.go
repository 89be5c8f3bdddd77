package testkit

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// ImageOptions choose the archive MakeImage writes.
type ImageOptions struct {
	OCI           bool     // an OCI image layout in a tar instead of a docker-archive
	Tags          []string // RepoTags (docker-archive) or ref names (OCI)
	LayerCompress string   // "", "gzip", "gzip-fast" (other bytes) or "zstd": how each layer is stored
	Compress      string   // "", "gzip", "zstd" or "xz": the whole archive
	Cmd           []string // the config's Cmd
	// Repositories, for a docker-archive, are refs written to a legacy
	// `repositories` file naming the top layer (docker save writes the
	// RepoTags there; listing others tests readers of the file).
	Repositories []string
	// BadDiffID, when > 0, gives that layer (1-based) a wrong diff_id in
	// the config, to test verification.
	BadDiffID int
	// History, when set, is the JSON of the config's history member.
	History string
	// Platform is the config's OS/ARCHITECTURE[/VARIANT]; default
	// linux/ and the host's architecture. "none" leaves os and
	// architecture out (a config that names no platform).
	Platform string
}

// MakeImage writes an image archive to w holding the uncompressed layer
// tars in the files layers, bottom first. A file named twice is a layer
// listed twice. It is meant for test fixtures: a compressed layer is held
// in memory.
func MakeImage(w io.Writer, layers []string, opts ImageOptions) error {
	out, closeOut, err := compressWriter(w, opts.Compress)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	b := &imageBuilder{tw: tw, opts: opts}
	for i, file := range layers {
		if err := b.addLayer(i, file); err != nil {
			return fmt.Errorf("mkimage: layer %s: %w", file, err)
		}
	}
	if err := b.finish(); err != nil {
		return fmt.Errorf("mkimage: %w", err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return closeOut()
}

type imageBuilder struct {
	tw      *tar.Writer
	opts    ImageOptions
	diffIDs []string
	names   []string // member names, docker-archive
	descs   []map[string]any
	written map[string]bool
}

func (b *imageBuilder) addLayer(i int, file string) error {
	diffID, size, err := fileDigest(file)
	if err != nil {
		return err
	}
	if b.opts.BadDiffID == i+1 {
		diffID = "sha256:" + strings.Repeat("0", 64)
	}
	b.diffIDs = append(b.diffIDs, diffID)
	var body io.Reader
	if b.opts.LayerCompress == "" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		body = f
	} else {
		var buf bytes.Buffer
		zw, closeZ, err := compressWriter(&buf, b.opts.LayerCompress)
		if err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		_, err = io.Copy(zw, f)
		f.Close()
		if err == nil {
			err = closeZ()
		}
		if err != nil {
			return err
		}
		size = int64(buf.Len())
		body = &buf
	}
	if !b.opts.OCI {
		name := fmt.Sprintf("%03d/layer.tar", i)
		b.names = append(b.names, name)
		return b.member(name, size, body)
	}
	digest := diffID
	if b.opts.LayerCompress != "" || b.opts.BadDiffID == i+1 {
		raw, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		digest = digestOfBytes(raw)
		body = bytes.NewReader(raw)
	}
	b.descs = append(b.descs, map[string]any{
		"mediaType": layerMediaType(b.opts.LayerCompress), "digest": digest, "size": size,
	})
	return b.blob(digest, size, body)
}

func layerMediaType(c string) string {
	switch c {
	case "gzip", "gzip-fast":
		return "application/vnd.oci.image.layer.v1.tar+gzip"
	case "zstd":
		return "application/vnd.oci.image.layer.v1.tar+zstd"
	}
	return "application/vnd.oci.image.layer.v1.tar"
}

func (b *imageBuilder) finish() error {
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      "1970-01-01T00:00:01Z",
		"config":       map[string]any{},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": nonNil(b.diffIDs)},
	}
	switch p := strings.Split(b.opts.Platform, "/"); {
	case b.opts.Platform == "":
	case b.opts.Platform == "none":
		delete(cfg, "os")
		delete(cfg, "architecture")
	case len(p) == 2 || len(p) == 3:
		cfg["os"], cfg["architecture"] = p[0], p[1]
		if len(p) == 3 {
			cfg["variant"] = p[2]
		}
	default:
		return fmt.Errorf("platform %q: want OS/ARCHITECTURE[/VARIANT] or none", b.opts.Platform)
	}
	if len(b.opts.Cmd) > 0 {
		cfg["config"] = map[string]any{"Cmd": b.opts.Cmd}
	}
	if b.opts.History != "" {
		cfg["history"] = json.RawMessage(b.opts.History)
	}
	cfgBytes, _ := json.Marshal(cfg)
	cfgDigest := digestOfBytes(cfgBytes)
	hexd := strings.TrimPrefix(cfgDigest, "sha256:")
	if !b.opts.OCI {
		if err := b.member(hexd+".json", int64(len(cfgBytes)), bytes.NewReader(cfgBytes)); err != nil {
			return err
		}
		manifest, _ := json.Marshal([]map[string]any{{
			"Config": hexd + ".json", "RepoTags": nonNil(b.opts.Tags), "Layers": nonNil(b.names),
		}})
		if err := b.member("manifest.json", int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
			return err
		}
		return b.repositories()
	}
	if err := b.blob(cfgDigest, int64(len(cfgBytes)), bytes.NewReader(cfgBytes)); err != nil {
		return err
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{
			"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfgDigest, "size": len(cfgBytes),
		},
		"layers": nonNil(b.descs),
	})
	mDigest := digestOfBytes(manifest)
	if err := b.blob(mDigest, int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	var entries []map[string]any
	desc := func(tag string) map[string]any {
		d := map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mDigest, "size": len(manifest)}
		if tag != "" {
			d["annotations"] = map[string]string{"org.opencontainers.image.ref.name": tag}
		}
		return d
	}
	for _, t := range b.opts.Tags {
		entries = append(entries, desc(t))
	}
	if len(entries) == 0 {
		entries = append(entries, desc(""))
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := b.member("oci-layout", int64(len(layout)), bytes.NewReader(layout)); err != nil {
		return err
	}
	return b.member("index.json", int64(len(index)), bytes.NewReader(index))
}

// repositories writes the legacy file: repo → tag → top layer directory.
func (b *imageBuilder) repositories() error {
	if len(b.opts.Repositories) == 0 {
		return nil
	}
	top := ""
	if n := len(b.names); n > 0 {
		top = strings.TrimSuffix(b.names[n-1], "/layer.tar")
	}
	repos := map[string]map[string]string{}
	for _, ref := range b.opts.Repositories {
		name, tag, ok := strings.Cut(ref, ":")
		if !ok {
			tag = "latest"
		}
		if repos[name] == nil {
			repos[name] = map[string]string{}
		}
		repos[name][tag] = top
	}
	data, _ := json.Marshal(repos)
	return b.member("repositories", int64(len(data)), bytes.NewReader(data))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// blob writes an OCI blob once.
func (b *imageBuilder) blob(digest string, size int64, body io.Reader) error {
	if b.written == nil {
		b.written = map[string]bool{}
	}
	if b.written[digest] {
		return nil
	}
	b.written[digest] = true
	return b.member("blobs/"+strings.Replace(digest, ":", "/", 1), size, body)
}

func (b *imageBuilder) member(name string, size int64, body io.Reader) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := io.Copy(b.tw, body)
	return err
}

func fileDigest(file string) (string, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, err
}

func digestOfBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
