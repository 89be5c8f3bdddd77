package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// blobStore is where an OCI layout's files go: a tar (oci) or a directory
// (oci-dir). A blob's name is its digest, known only after its bytes, so a
// blob is written through a writer and named when it is committed.
type blobStore interface {
	// newBlob returns a writer for the next blob's bytes; commit names
	// it (size bytes, digest "sha256:<hex>"), or drops it when a blob
	// of that digest is already stored.
	newBlob() (w io.Writer, commit func(digest string, size int64) error, err error)
	// file writes a file that is not a blob (oci-layout, index.json).
	file(name string, data []byte) error
	// close ends the store (the tar's end; nothing for a directory).
	close() error
}

// ociLayout writes an OCI image layout (oci-layout, index.json,
// blobs/sha256/…) with a Docker manifest.json beside it, for docker load
// versions that read only that.
type ociLayout struct {
	store blobStore
	kind  compress.Kind
	blobs []layerstream.Blob // stored layers, bottom first
	diffs []string
}

func newOCILayout(store blobStore, kind compress.Kind) (*ociLayout, error) {
	l := &ociLayout{store: store, kind: kind}
	if err := store.file("oci-layout", oci.LayoutFile); err != nil {
		return nil, err
	}
	return l, nil
}

// addLayer compresses the layer (or not) into the store, hashing the layer
// tar and the stored bytes in the same pass.
func (l *ociLayout) addLayer(size int64, r io.Reader) error {
	w, commit, err := l.store.newBlob()
	if err != nil {
		return err
	}
	layer, err := oci.WriteBlob(w, io.LimitReader(r, size), l.kind)
	if err != nil {
		return err
	}
	if layer.Size != size {
		return fmt.Errorf("%d bytes of the announced %d: %w", layer.Size, size, io.ErrUnexpectedEOF)
	}
	if err := commit(layer.Blob.Digest, layer.Blob.Size); err != nil {
		return err
	}
	l.blobs = append(l.blobs, layer.Blob)
	l.diffs = append(l.diffs, layer.DiffID)
	return nil
}

func (l *ociLayout) addRef(ref *layerstream.Ref) error {
	return errNeedsBytes("an OCI layout", len(l.blobs))
}

func (l *ociLayout) diffIDs() []string { return l.diffs }

// putBlob stores a small blob (config, manifest).
func (l *ociLayout) putBlob(data []byte) (string, error) {
	d := oci.DigestOf(data)
	w, commit, err := l.store.newBlob()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		return "", err
	}
	return d, commit(d, int64(len(data)))
}

// finish writes the config, the manifest, index.json and manifest.json.
func (l *ociLayout) finish(config []byte, repoTag func(configHex string) (string, string)) error {
	configDigest, err := l.putBlob(config)
	if err != nil {
		return fmt.Errorf("writing the config: %w", err)
	}
	name, tag := repoTag(strings.TrimPrefix(configDigest, "sha256:"))
	manifest := oci.Manifest(config, l.blobs)
	if _, err := l.putBlob(manifest); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	if err := l.store.file("index.json", oci.Index(manifest, archive.Normalize(name+":"+tag), tag)); err != nil {
		return err
	}
	// Docker's own manifest, with the blob paths: docker load before
	// version 25 reads only this (compressed layers included).
	layers := make([]string, len(l.blobs))
	for i, b := range l.blobs {
		layers[i] = blobPath(b.Digest)
	}
	dm, err := json.Marshal([]struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{blobPath(configDigest), []string{name + ":" + tag}, layers}})
	if err != nil {
		return err
	}
	if err := l.store.file("manifest.json", dm); err != nil {
		return err
	}
	return l.store.close()
}

func blobPath(digest string) string { return "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:") }

// checkBlobDigest guards blob names: a digest is "sha256:" and 64 hex digits.
func checkBlobDigest(d string) error {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("blob digest %q: %w", d, errdefs.ErrInvalidInput)
	}
	return nil
}
