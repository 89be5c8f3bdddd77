package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"dockertools.dev/imgkit/pyjson"
)

// outerMtime is the modification time of every member of the archive:
// nixpkgs' default mtime, 1970-01-01T00:00:01Z.
var outerMtime = time.Unix(1, 0)

// dockerArchive writes Docker's docker-save layout (Image Spec v1.2) as a
// stream: layer members as they arrive, then the config, manifest.json and
// repositories. Every header is fixed (mode 0644, owner 0:0, no user names,
// mtime 1): the bytes depend on nothing but the content.
type dockerArchive struct {
	tw     *tar.Writer
	layers []string // member names, bottom first
}

func newDockerArchive(w io.Writer) *dockerArchive { return &dockerArchive{tw: tar.NewWriter(w)} }

// layerMember names the layer at position i. A digest name would need the
// digest before the bytes; the position is known at once and never repeats
// (nixpkgs' digest names repeat when two layers are equal).
func layerMember(i int) string { return fmt.Sprintf("%03d/layer.tar", i) }

func (a *dockerArchive) header(name string, size int64) error {
	// No Format: USTAR, or PAX for a layer of 8 GiB or more.
	return a.tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  outerMtime,
	})
}

// addLayer copies the next layer, of exactly size bytes, from r.
func (a *dockerArchive) addLayer(size int64, r io.Reader) error {
	name := layerMember(len(a.layers))
	if err := a.header(name, size); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := io.CopyN(a.tw, r, size); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	a.layers = append(a.layers, name)
	return nil
}

func (a *dockerArchive) file(name string, data []byte) error {
	if err := a.header(name, int64(len(data))); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := a.tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// finish writes the config as <sha256>.json, manifest.json and
// repositories, and ends the tar (it does not close the underlying writer).
// repoTag returns the name and tag from the config's hex digest.
func (a *dockerArchive) finish(config []byte, repoTag func(configHex string) (string, string)) error {
	sum := sha256.Sum256(config)
	hexID := hex.EncodeToString(sum[:])
	name, tag := repoTag(hexID)
	configName := hexID + ".json"
	if err := a.file(configName, config); err != nil {
		return err
	}
	// nixpkgs' manifest: json.dumps(indent=4), keys Config, RepoTags, Layers.
	manifest := pyjson.Array{pyjson.NewObject(
		pyjson.Member{Key: "Config", Value: pyjson.String(configName)},
		pyjson.Member{Key: "RepoTags", Value: pyjson.Strings([]string{name + ":" + tag})},
		pyjson.Member{Key: "Layers", Value: pyjson.Strings(a.layers)},
	)}
	if err := a.file("manifest.json", pyjson.Dumps(manifest, 4)); err != nil {
		return err
	}
	// The legacy repositories file maps the tag to the top layer's
	// directory, as docker save does; current loaders read manifest.json.
	top := ""
	if n := len(a.layers); n > 0 {
		top = a.layers[n-1][:len(a.layers[n-1])-len("/layer.tar")]
	}
	repos := pyjson.NewObject(pyjson.Member{Key: name, Value: pyjson.NewObject(pyjson.Member{Key: tag, Value: pyjson.String(top)})})
	compact := pyjson.Options{Indent: pyjson.None, ItemSeparator: ",", KeySeparator: ":"}
	if err := a.file("repositories", append(compact.Dumps(repos), '\n')); err != nil {
		return err
	}
	if err := a.tw.Close(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}
