package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// oldLayout is the OCI layout already in -o DIR when --format oci-dir
// rebuilds it: its blobs, listed once (by hex digest, without following
// a symlink) and never opened. DIR may be anyone's, so only what has
// exactly the shape manifest-gen writes is taken for a layout.
type oldLayout struct {
	dir   string
	blobs map[string]fs.FileInfo
}

// readOldLayout returns the layout in dir, or nil when dir does not exist
// or is empty (a fresh build). Anything else in dir is refused: the
// rebuild replaces dir, and must not take other files with it.
func readOldLayout(dir string) (*oldLayout, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
	}
	if !fi.IsDir() {
		return nil, notLayout(dir, "not a directory")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
	}
	if len(entries) == 0 {
		return nil, nil
	}
	want := map[string]fs.FileMode{"oci-layout": 0, "index.json": 0, "manifest.json": 0, "blobs": fs.ModeDir}
	for _, e := range entries {
		t, ok := want[e.Name()]
		if !ok || e.Type() != t {
			return nil, notLayout(dir, fmt.Sprintf("%q is no part of one", e.Name()))
		}
		delete(want, e.Name())
	}
	for name := range want {
		return nil, notLayout(dir, "no "+name)
	}
	sub, err := os.ReadDir(filepath.Join(dir, "blobs"))
	if err == nil && (len(sub) != 1 || sub[0].Name() != "sha256" || sub[0].Type() != fs.ModeDir) {
		return nil, notLayout(dir, "blobs/ holds more than the directory sha256")
	}
	if err == nil {
		sub, err = os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	}
	if err != nil {
		return nil, fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
	}
	l := &oldLayout{dir: dir, blobs: make(map[string]fs.FileInfo, len(sub))}
	for _, e := range sub {
		if checkBlobDigest("sha256:"+e.Name()) != nil || !e.Type().IsRegular() {
			return nil, notLayout(dir, fmt.Sprintf("blobs/sha256/%q is not a blob", e.Name()))
		}
		if l.blobs[e.Name()], err = e.Info(); err != nil {
			return nil, fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
		}
	}
	return l, nil
}

func notLayout(dir, why string) error {
	return fmt.Errorf("-o %q: not empty and not an OCI layout manifest-gen wrote (%s); --format oci-dir writes a new or empty directory or rebuilds its own layout: %w", dir, why, fs.ErrExist)
}

// link puts the old layout's blob of the reference layer ref into the new
// layout in dir as a hard link: not one byte is read or written, and the
// blob keeps its inode and mtime. The blob is trusted by its name, which
// is its digest (an uncompressed layer's digest is its diff_id, the one
// the layer cache gave layer-pack), its size and its mode; its bytes are
// not hashed again, which would read what the rebuild is meant not to
// read. The name is linked, not opened, and what the link points to is
// checked to be the regular file listed, so a name swapped for a symlink
// or another file in the meantime is refused.
func (o *oldLayout) link(ref *layerstream.Ref, dir string) (layerstream.Blob, error) {
	blob := layerstream.Blob{MediaType: oci.LayerMediaType(compress.None), Digest: ref.DiffID, Size: ref.Size}
	if err := checkBlobDigest(ref.DiffID); err != nil {
		return blob, err
	}
	hex := strings.TrimPrefix(ref.DiffID, "sha256:")
	fi, ok := o.blobs[hex]
	if !ok || fi.Size() != ref.Size || fi.Mode() != 0o644 {
		return blob, fmt.Errorf("a reference to %s (%d bytes), which %q does not hold as a blob of that size (mode 0644): pack with a holdings list of this layout (--print-holdings) or without --reuse: %w", ref.DiffID, ref.Size, o.dir, errdefs.ErrInvalidInput)
	}
	dst := filepath.Join(dir, blobPath(ref.DiffID))
	if err := os.Link(filepath.Join(o.dir, blobPath(ref.DiffID)), dst); err != nil {
		return blob, fmt.Errorf("reusing blob %s of %q: %w", ref.DiffID, o.dir, cli.PathCause(err))
	}
	if now, err := os.Lstat(dst); err != nil || !os.SameFile(fi, now) {
		os.Remove(dst)
		return blob, fmt.Errorf("reusing blob %s: %q changed during the build: %w", ref.DiffID, o.dir, errdefs.ErrInvalidInput)
	}
	return blob, nil
}

// printHoldings writes the holdings list of the layout in -o DIR for
// layer-pack --reuse: every blob as the layer tar of its own digest (true
// of uncompressed layers; the config's, the manifest's and compressed
// blobs' digests match no layer-pack diff_id). A new or empty DIR holds
// nothing: the list is empty. With --layer-tars, the list is of the tars
// in that directory (layerTars.holdings).
func (c *command) printHoldings(o *cli.IO) error {
	h := layercache.Holdings{}
	if c.LayerTars != "" {
		t, err := openLayerTars(c.LayerTars, false, false)
		if err != nil {
			return err
		}
		defer t.abort()
		if err := t.holdings(o, h); err != nil {
			return err
		}
	} else {
		old, err := readOldLayout(c.Output)
		if err != nil {
			return err
		}
		if old != nil {
			for hex, fi := range old.blobs {
				if fi.Mode() == 0o644 {
					holdTar(h, "sha256:"+hex, fi.Size())
				}
			}
		}
	}
	if err := layercache.WriteHoldings(o.Stdout, h); err != nil {
		return fmt.Errorf("writing the holdings list: %w", err)
	}
	return nil
}

// holdTar lists d as held: an uncompressed layer tar, whose blob's digest
// is its diff_id, of size bytes.
func holdTar(h layercache.Holdings, d string, size int64) {
	h[d] = []layerstream.Blob{{MediaType: oci.LayerMediaType(compress.None), Digest: d, Size: size}}
}
