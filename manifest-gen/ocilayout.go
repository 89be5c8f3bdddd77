package main

import (
	"bufio"
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
// blob is written through a pendingBlob and named when it is committed.
type blobStore interface {
	// newBlob starts the next blob. It may be called from several
	// goroutines; commits come in layout order, from one.
	newBlob() (*pendingBlob, error)
	// file writes a file that is not a blob (oci-layout, index.json).
	file(name string, data []byte) error
	// close ends the store (the tar's end; nothing for a directory).
	close() error
}

// pendingBlob is a blob being written. commit names it (size bytes, digest
// "sha256:<hex>"; a blob of that digest already stored is dropped);
// discard drops it.
type pendingBlob struct {
	bw      *bufio.Writer
	commit  func(digest string, size int64) error
	discard func()
}

// ociLayout writes an OCI image layout (oci-layout, index.json,
// blobs/sha256/…) with a Docker manifest.json beside it, for docker load
// versions that read only that.
type ociLayout struct {
	store blobStore
	kind  compress.Kind
	par   *parallelLayers    // compressing layers in parallel; nil: one by one
	blobs []layerstream.Blob // stored layers, bottom first
	diffs []string
}

func newOCILayout(store blobStore, kind compress.Kind, jobs int) (*ociLayout, error) {
	l := &ociLayout{store: store, kind: kind}
	l.par = newParallel(l, jobs)
	if err := store.file("oci-layout", oci.LayoutFile); err != nil {
		return nil, err
	}
	return l, nil
}

// addLayer compresses the layer (or not) into the store, hashing the layer
// tar and the stored bytes in the same pass.
func (l *ociLayout) addLayer(size int64, r io.Reader) error {
	if l.par != nil {
		return l.par.add(size, r)
	}
	b, err := l.store.newBlob()
	if err != nil {
		return err
	}
	layer, err := writeLayerBlob(b, io.LimitReader(r, size), size, l.kind)
	if err == nil {
		err = b.commit(layer.Blob.Digest, layer.Blob.Size)
	}
	if err != nil {
		return err
	}
	l.blobs = append(l.blobs, layer.Blob)
	l.diffs = append(l.diffs, layer.DiffID)
	return nil
}

// writeLayerBlob writes the stored form of a layer of size bytes into b
// (discarded on failure).
func writeLayerBlob(b *pendingBlob, r io.Reader, size int64, kind compress.Kind) (oci.Layer, error) {
	layer, err := oci.WriteBlob(b.bw, r, kind)
	if err == nil && layer.Size != size {
		err = fmt.Errorf("%d bytes of the announced %d: %w", layer.Size, size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		b.discard()
	}
	return layer, err
}

// addRef takes a reference layer's blob, in the layout's compression,
// from the layout that an oci-dir build replaces; any other OCI layout
// needs the layer's bytes.
func (l *ociLayout) addRef(ref *layerstream.Ref) error {
	d, ok := l.store.(*dirBlobs)
	if !ok || d.old == nil {
		return errNeedsBytes("an OCI layout", len(l.blobs))
	}
	blob := tarBlob(ref.DiffID, ref.Size)
	if l.kind != compress.None {
		if blob, ok = ref.Blob(oci.LayerMediaType(l.kind)); !ok {
			return fmt.Errorf("a reference layer %s (layer-pack --reuse) without a %s blob: pack with the holdings list --print-holdings gives for --layer-compression %s: %w", ref.DiffID, l.kind, l.kind, errdefs.ErrInvalidInput)
		}
	}
	if err := d.old.link(blob, ref.DiffID, d.dir); err != nil {
		return err
	}
	l.blobs = append(l.blobs, blob)
	l.diffs = append(l.diffs, ref.DiffID)
	return nil
}

func (l *ociLayout) diffIDs() ([]string, error) {
	if l.par != nil {
		if err := l.par.wait(); err != nil {
			return nil, err
		}
	}
	return l.diffs, nil
}

// putBlob stores a small blob (config, manifest).
func (l *ociLayout) putBlob(data []byte) (string, error) {
	d := oci.DigestOf(data)
	b, err := l.store.newBlob()
	if err != nil {
		return "", err
	}
	if _, err := b.bw.Write(data); err != nil {
		b.discard()
		return "", err
	}
	return d, b.commit(d, int64(len(data)))
}

// finish writes the config, the manifest, index.json and manifest.json.
func (l *ociLayout) finish(config []byte, repoTag func(configHex string) (string, string)) error {
	if l.par != nil {
		if err := l.par.wait(); err != nil {
			return err
		}
	}
	configDigest, err := l.putBlob(config)
	if err != nil {
		return fmt.Errorf("writing the config: %w", err)
	}
	name, tag := repoTag(strings.TrimPrefix(configDigest, "sha256:"))
	manifest := oci.Manifest(config, l.blobs)
	if _, err := l.putBlob(manifest); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	index := oci.Index(manifest, archive.Normalize(name+":"+tag), tag)
	if d, ok := l.store.(*dirBlobs); ok && d.old != nil {
		if index, err = d.old.carryAttached(manifest, index, d.dir); err != nil {
			return err
		}
	}
	if err := l.store.file("index.json", index); err != nil {
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
