package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

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
	// notOwn is why the blobs cannot be taken on their names (nil: they
	// can): DIR, blobs or blobs/sha256 is another user's, or writable by
	// group or others, who then decide the bytes a blob of that name holds
	// (cli.OwnDir, as for --layer-tars and a layer cache). Rebuilding such
	// a layout without references takes nothing from it, and is allowed.
	notOwn error
	forms  map[string][]layerstream.Blob // storedForms, once asked (pairs)
	// verify is --verify: each blob link takes is hashed (verifyBlob).
	verify bool
	// image is the digest of the image manifest index.json lists, and
	// attached the artifacts it lists about that image (otherImages):
	// signatures, SBOMs, which a rebuild keeps when it writes the same
	// manifest (carryAttached, then kept is set) and drops otherwise.
	image    string
	attached []attachedArtifact
	kept     bool
	// dropped says why a rebuild that wrote the same image did not keep
	// its artifacts (carryAttached): the warning then says that, not
	// that the image changed.
	dropped string
}

// trust returns nil when the old layout's blobs can be taken on their
// names: listed for layer-pack --reuse, linked for a reference.
func (o *oldLayout) trust() error {
	if o.notOwn != nil {
		return fmt.Errorf("-o %q: %w", o.dir, o.notOwn)
	}
	return nil
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
	if cli.MountRoot(dir) {
		// Found only at the end, as "file exists" (Go's os.Rename
		// refuses a directory, and the empty one was not removed).
		return nil, fmt.Errorf("-o %q: a mount point, which the layout cannot replace (it takes the directory's place in one rename): give a directory inside it: %w", dir, errdefs.ErrInvalidInput)
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
		if e.Name() == "ingest" && e.Type() == fs.ModeDir && emptyDir(filepath.Join(dir, "ingest")) {
			continue // oras' staging directory, which it leaves behind, empty
		}
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
	l.notOwn = ownLayout(dir, fi)
	for _, e := range sub {
		if checkBlobDigest("sha256:"+e.Name()) != nil || !e.Type().IsRegular() {
			return nil, notLayout(dir, fmt.Sprintf("blobs/sha256/%q is not a blob", e.Name()))
		}
		if l.blobs[e.Name()], err = e.Info(); err != nil {
			return nil, fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
		}
	}
	if why := l.otherImages(); why != "" {
		return nil, notLayout(dir, why)
	}
	return l, nil
}

// emptyDir reports whether dir is a directory without entries.
func emptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// ownLayout applies cli.OwnDir to DIR (fi) and to the directories below
// it that hold the blobs: whoever can write one of them can put other
// bytes under a blob's name.
func ownLayout(dir string, fi fs.FileInfo) error {
	const what = "the bytes of the blobs a rebuild takes from it on their names"
	if err := cli.OwnDir(fi, what); err != nil {
		return err
	}
	for _, sub := range []string{"blobs", "blobs/sha256"} {
		fi, err := os.Lstat(filepath.Join(dir, sub))
		if err == nil {
			err = cli.OwnDir(fi, what)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sub, cli.PathCause(err))
		}
	}
	return nil
}

func notLayout(dir, why string) error {
	return fmt.Errorf("-o %q: not empty and not an OCI layout manifest-gen wrote (%s); --format oci-dir writes a new or empty directory or rebuilds its own layout: %w", dir, why, fs.ErrExist)
}

// link puts the old layout's blob into the new layout in dir as a hard
// link: not one byte is read or written, and the blob keeps its inode and
// mtime. The blob is trusted by its name, which is its digest (an
// uncompressed layer's digest is its diff_id, the one the layer cache gave
// layer-pack; a compressed one's is paired with its diff_id by the
// layout's manifest and config, see storedForms), its size and its mode;
// its bytes are not hashed again, which would read what the rebuild is
// meant not to read. The name is linked, not opened, and what the link
// points to is checked to be the regular file listed, so a name swapped
// for a symlink or another file in the meantime is refused. A compressed
// blob must be paired with diffID, the layer it is linked for.
func (o *oldLayout) link(blob layerstream.Blob, diffID, dir string) error {
	if err := checkBlobDigest(blob.Digest); err != nil {
		return err
	}
	if err := o.trust(); err != nil {
		return err
	}
	if !o.holds(blob.Digest, blob.Size) {
		return fmt.Errorf("a reference to blob %s (%d bytes), which %q does not hold as a blob of that size (mode 0644): the holdings list is not of %q as it is now (another build may have replaced it since): pack with a holdings list of this layout (--print-holdings) or without --reuse: %w", blob.Digest, blob.Size, o.dir, o.dir, errdefs.ErrInvalidInput)
	}
	if k, _ := oci.LayerKind(blob.MediaType); k != compress.None && !o.pairs(diffID, blob) {
		return fmt.Errorf("a reference to blob %s, which %q does not pair with the layer %s (its manifest and config): pack with a holdings list of this layout (--print-holdings) or without --reuse: %w", blob.Digest, o.dir, diffID, errdefs.ErrInvalidInput)
	}
	fi := o.blobs[strings.TrimPrefix(blob.Digest, "sha256:")]
	dst := filepath.Join(dir, blobPath(blob.Digest))
	src := filepath.Join(o.dir, blobPath(blob.Digest))
	if err := os.Link(src, dst); err != nil {
		if _, serr := os.Lstat(src); errors.Is(serr, fs.ErrNotExist) {
			// Listed when the build began, gone now: another build
			// replaced DIR with a layout without it.
			return changedDuring(blob, o.dir)
		}
		return fmt.Errorf("reusing blob %s of %q: %w", blob.Digest, o.dir, cli.PathCause(err))
	}
	if now, err := os.Lstat(dst); err != nil || !os.SameFile(fi, now) {
		os.Remove(dst)
		return changedDuring(blob, o.dir)
	}
	if o.verify {
		if err := verifyBlob(dst, blob.Digest, "rebuild without its blobs (no --reuse)"); err != nil {
			os.Remove(dst)
			return fmt.Errorf("reusing blob %s of %q: %w", blob.Digest, o.dir, err)
		}
	}
	return nil
}

// verifyBlob hashes the blob linked at name (--verify) and compares it
// with its digest: a blob damaged since it was written (a disk error, an
// edit, a crash before it reached the disk in a version that did not
// sync) would otherwise go into the new layout under a digest it does
// not have. A compressed blob is checked as stored; its pairing with its
// diff_id stays the layout's word, as a registry's manifest is. remedy
// says what to do about a mismatch.
//
// The blob is opened non-blocking and must be a regular file: a FIFO
// (linked as a blob of 0 bytes) waited in open(2) for a writer, for ever
// and deaf to SIGTERM.
func verifyBlob(name, digest, remedy string) error {
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return cli.PathCause(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file: %s: %w", remedy, errdefs.ErrInvalidInput)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("reading it: %w", cli.PathCause(err))
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("it hashes to %s: the layout was damaged since it was written: %s: %w", got, remedy, errdefs.ErrDigestMismatch)
	}
	return nil
}

// changedDuring: the blob listed in the layout at the start of the build
// is not the one there now.
func changedDuring(blob layerstream.Blob, dir string) error {
	return fmt.Errorf("reusing blob %s: %q changed during the build: %w", blob.Digest, dir, errdefs.ErrInvalidInput)
}

// printHoldings writes the holdings list of --layer-tars DIR, or of the
// layout in -o DIR, for layer-pack --reuse (readHoldings says what is
// listed).
func (c *command) printHoldings(o *cli.IO) error {
	h := layercache.Holdings{}
	if err := c.readHoldings(o, h); err != nil {
		return err
	}
	if err := layercache.WriteHoldings(o.Stdout, h); err != nil {
		return fmt.Errorf("writing the holdings list: %w", err)
	}
	return nil
}

// readHoldings fills h. With --layer-tars, with the tars of that
// directory (layerTars.holdings). Else with the layout in -o DIR, in the
// --layer-compression the rebuild writes: uncompressed, every blob as the
// layer tar of its own digest (the config's and the manifest's digests
// match no layer-pack diff_id); compressed, the blobs of that compression
// the layout's manifests pair with a diff_id (storedForms). A new or empty
// DIR holds nothing: the list is empty.
func (c *command) readHoldings(o *cli.IO, h layercache.Holdings) error {
	if c.LayerTars != "" {
		t, err := openLayerTars(o, c.LayerTars, false, false)
		if err != nil {
			return err
		}
		defer t.abort()
		return t.holdings(o, h)
	}
	old, err := readOldLayout(c.Output)
	if err != nil {
		return err
	}
	if old != nil {
		if err := old.trust(); err != nil {
			return err
		}
	}
	switch {
	case old == nil:
	case c.LayerCompression == compress.None:
		for hex, fi := range old.blobs {
			if fi.Mode() == 0o644 && takenOnName(fi) {
				holdTar(h, "sha256:"+hex, fi.Size())
			}
		}
	default:
		want := oci.LayerMediaType(c.LayerCompression)
		for diffID, blobs := range old.storedForms() {
			for _, b := range blobs {
				if b.MediaType == want {
					h[diffID] = []layerstream.Blob{b}
				}
			}
		}
	}
	return nil
}

// holdTar lists d as held: an uncompressed layer tar of size bytes.
func holdTar(h layercache.Holdings, d string, size int64) {
	h[d] = []layerstream.Blob{tarBlob(d, size)}
}

// tarBlob is the blob of an uncompressed layer tar: its digest is its
// diff_id.
func tarBlob(diffID string, size int64) layerstream.Blob {
	return layerstream.Blob{MediaType: oci.LayerMediaType(compress.None), Digest: diffID, Size: size}
}
