package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
)

// layerTars is --layer-tars DIR: a directory of uncompressed layer tars,
// DIR/<hex of the diff_id>.tar, that a docker-archive rebuild copies
// reference layers from. DIR is opened once and every entry is opened,
// created and renamed relative to that descriptor, never following a
// symlink: whoever can write DIR decides the bytes of the layers copied
// from it, so it must be the user's own and writable by nobody else.
type layerTars struct {
	name    string   // DIR as given, for messages
	dir     *os.File // nil: DIR does not exist (--print-holdings only)
	verify  bool     // hash a cached tar as it is copied (--verify)
	root    *os.Root // DIR again, for its temporaries (nil: only read)
	temp    *os.File // this build's temporary directory in DIR, held; nil: none yet
	pending []*pendingTar
}

// pendingTar is a stream layer written from bytes, copied to a temporary
// file as it passes (in the build's temporary directory in DIR), renamed
// to its diff_id on commit.
type pendingTar struct {
	layer  int    // the stream layer's position
	tmp    string // the name in the temporary directory
	size   int64
	digest string // of the bytes copied: an entry is named by it
}

// tarName is the entry of a diff_id: its hex digits and ".tar".
func tarName(diffID string) string { return strings.TrimPrefix(diffID, "sha256:") + ".tar" }

// openLayerTars opens --layer-tars DIR, making it when create is set and
// it does not exist. A DIR that is missing (create unset) holds nothing.
func openLayerTars(o *cli.IO, dir string, verify, create bool) (*layerTars, error) {
	t := &layerTars{name: dir, verify: verify}
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, t.errorf("%w", cli.PathCause(err))
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) && !create {
		return t, nil
	}
	if err != nil {
		return nil, t.errorf("%w", cli.PathCause(&os.PathError{Op: "open", Path: dir, Err: err}))
	}
	t.dir = os.NewFile(uintptr(fd), dir)
	fi, err := t.dir.Stat()
	if err == nil {
		err = cli.OwnDir(fi, "the bytes of the layers copied from it")
	}
	if err == nil && create {
		err = t.openRoot(o, fi)
	}
	if err != nil {
		t.dir.Close()
		return nil, t.errorf("%w", err)
	}
	return t, nil
}

// tempPrefix names the temporary directories of builds in DIR, ".tmp-N";
// builds before them made temporary entries ".tmp-<16 hex digits>",
// which the same cleanup removes.
const tempPrefix = ".tmp-"

// openRoot opens DIR (fi) for a build's temporaries, checking it is the
// directory opened, and removes the temporaries of builds that were
// killed (SIGKILL skips every cleanup), which no live build holds.
func (t *layerTars) openRoot(o *cli.IO, fi os.FileInfo) error {
	root, err := os.OpenRoot(t.name)
	if err != nil {
		return cli.PathCause(err)
	}
	if rfi, err := root.Stat("."); err != nil || !os.SameFile(rfi, fi) {
		root.Close()
		return fmt.Errorf("it was replaced as it was opened: %w", errdefs.ErrChanged)
	}
	t.root = root
	for _, name := range cli.RemoveStaleTemps(root, tempPrefix) {
		o.Debugf("--layer-tars %q: removed %s, left by a build that was killed", t.name, name)
	}
	return nil
}

func (t *layerTars) errorf(format string, args ...any) error {
	return fmt.Errorf("--layer-tars %q: "+format, append([]any{t.name}, args...)...)
}

func (t *layerTars) fd() int { return int(t.dir.Fd()) }

// holdings adds the entries of DIR to h: every regular file named by a
// diff_id's hex digits and ".tar" (not following a symlink; anything else
// is not listed) as the uncompressed layer tar of that diff_id at the
// file's size. An entry whose size is not its layer's is then not
// referenced by layer-pack, which knows the size: that layer is packed,
// and the entry replaced.
func (t *layerTars) holdings(o *cli.IO, h layercache.Holdings) error {
	if t.dir == nil {
		return nil
	}
	entries, err := t.dir.ReadDir(-1)
	if err != nil {
		return t.errorf("%w", cli.PathCause(err))
	}
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), ".tar")
		d := "sha256:" + hex
		if !ok || checkBlobDigest(d) != nil {
			continue
		}
		if !e.Type().IsRegular() {
			o.Debugf("--layer-tars %q: %s is not a regular file: not listed", t.name, e.Name())
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return t.errorf("%w", cli.PathCause(err))
		}
		if !takenOnName(fi) {
			o.Debugf("--layer-tars %q: %s is another user's or others may write it: not listed", t.name, e.Name())
			continue
		}
		holdTar(h, d, fi.Size())
	}
	return nil
}

// open opens the entry of a reference layer for reading: not through a
// symlink (O_NOFOLLOW), a regular file (a FIFO or device is not waited
// on: O_NONBLOCK) of exactly the reference's size. Anything else is an
// error: the image would not be the one the stream describes.
func (t *layerTars) open(ref *layerstream.Ref) (*os.File, error) {
	if err := checkBlobDigest(ref.DiffID); err != nil {
		return nil, err
	}
	name := tarName(ref.DiffID)
	fd, err := unix.Openat(t.fd(), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ELOOP):
		return nil, t.errorf("%s is a symbolic link, not a layer tar: refused: %w", name, errdefs.ErrUnsafeEntry)
	case errors.Is(err, unix.ENOENT):
		return nil, t.errorf("no %s for the reference to %s: pack with a holdings list of this directory (--print-holdings) or without --reuse: %w", name, ref.DiffID, errdefs.ErrNotFound)
	case err != nil:
		return nil, t.errorf("%s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(t.name, name))
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: refused: %w", errdefs.ErrUnsafeEntry)
	}
	if err == nil {
		err = cli.OwnDir(fi, "the bytes copied from it")
	}
	if err == nil && fi.Size() != ref.Size {
		err = fmt.Errorf("%d bytes, the layer %s has %d: %w", fi.Size(), ref.DiffID, ref.Size, errdefs.ErrInvalidInput)
	}
	if err == nil {
		err = unix.SetNonblock(fd, false)
	}
	if err != nil {
		f.Close()
		return nil, t.errorf("%s: %w", name, err)
	}
	return f, nil
}

// create makes a temporary entry in the build's temporary directory in
// DIR, made at the first: a directory, ".tmp-N", which no listing takes
// for a layer tar, held by this build (cli.MkdirHeldTemp) so that no
// other build's cleanup removes it, and removed by the next build into
// DIR when this one is killed.
func (t *layerTars) create() (*os.File, string, error) {
	if t.temp == nil {
		_, hold, err := cli.MkdirHeldTemp(t.root, tempPrefix)
		if err != nil {
			return nil, "", t.errorf("creating a temporary directory: %w", cli.PathCause(err))
		}
		t.temp = hold
	}
	for range 100 {
		name := fmt.Sprintf("%016x", rand.Uint64())
		fd, err := unix.Openat(t.tempFd(), name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return nil, "", t.errorf("creating an entry: %w", err)
		}
		return os.NewFile(uintptr(fd), filepath.Join(t.temp.Name(), name)), name, nil
	}
	return nil, "", t.errorf("creating an entry: %w", unix.EEXIST)
}

// commit renames the temporary entries of the store layers (those whose
// trailer entry lists paths: the only ones layer-pack refers to) to their
// diff_id, replacing an entry of that name (a wrong one, say); the others
// are removed. A reader of DIR sees a whole entry or none.
func (t *layerTars) commit(layers []layerstream.LayerInfo) error {
	if t == nil {
		return nil
	}
	for len(t.pending) > 0 {
		p := t.pending[0]
		if p.layer >= len(layers) {
			return t.errorf("layer %d is not in the trailer: %w", p.layer, errdefs.ErrInvalidInput)
		}
		info := layers[p.layer]
		if info.Paths != nil {
			if err := checkBlobDigest(info.DiffID); err != nil {
				return err
			}
			if info.Size != p.size {
				return t.errorf("layer %d: %d bytes copied, the trailer says %d: %w", p.layer, p.size, info.Size, errdefs.ErrInvalidInput)
			}
			// Every later build takes the entry by its name (without
			// --verify): named for bytes it does not hold, it would put
			// them into an honest rebuild.
			if info.DiffID != p.digest {
				return t.errorf("layer %d: %s says %s, the bytes hash to %s: %w", p.layer, layerstream.TrailerMember, info.DiffID, p.digest, errdefs.ErrDigestMismatch)
			}
			if err := t.sync(p.tmp); err != nil {
				return t.errorf("storing layer %d as %s: %w", p.layer, tarName(info.DiffID), err)
			}
			if err := unix.Renameat(t.tempFd(), p.tmp, t.fd(), tarName(info.DiffID)); err != nil {
				return t.errorf("storing layer %d as %s: %w", p.layer, tarName(info.DiffID), err)
			}
		} else {
			unix.Unlinkat(t.tempFd(), p.tmp, 0)
		}
		t.pending = t.pending[1:]
	}
	return nil
}

// sync forces the temporary entry name to disk before commit names it
// for its diff_id. Every later build takes an entry on its name and size,
// unread: unsynced, a crash or power cut after the rename could leave it
// under its name at its size with other bytes (XFS reads the blocks not
// yet written as zeros), which every rebuild would then copy into its
// image. Only entries kept are synced, each once, when it is new.
func (t *layerTars) sync(name string) error {
	fd, err := unix.Openat(t.tempFd(), name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = unix.Fsync(fd)
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	return err
}

// abort removes what commit has not renamed and the temporary directory,
// and closes DIR (after a commit, only the empty directory is left).
func (t *layerTars) abort() {
	if t == nil || t.dir == nil {
		return
	}
	if t.temp != nil {
		for _, p := range t.pending {
			unix.Unlinkat(t.tempFd(), p.tmp, 0)
		}
		t.root.Remove(filepath.Base(t.temp.Name()))
		t.temp.Close()
	}
	t.pending = nil
	if t.root != nil {
		t.root.Close()
	}
	t.dir.Close()
}

func (t *layerTars) tempFd() int { return int(t.temp.Fd()) }

// wrap returns w with reference layers copied from DIR and the layers
// written from bytes kept for DIR; a nil layerTars returns w.
func (t *layerTars) wrap(w imageWriter) imageWriter {
	if t == nil {
		return w
	}
	return &tarCacheWriter{imageWriter: w, t: t}
}

// tarCacheWriter is the docker-archive writer seen through --layer-tars,
// fed the stream's layers (not the base image's).
type tarCacheWriter struct {
	imageWriter
	t *layerTars
	n int // stream layers added
}

// addLayer copies the layer into the archive and, as it passes, into a
// temporary entry of DIR, hashing it: commit names the entry by the
// trailer's diff_id only when the bytes have it.
func (w *tarCacheWriter) addLayer(size int64, r io.Reader) error {
	f, name, err := w.t.create()
	if err != nil {
		return err
	}
	p := &pendingTar{layer: w.n, tmp: name, size: size}
	w.t.pending = append(w.t.pending, p)
	bw := bufio.NewWriterSize(f, 1<<20)
	h := sha256.New()
	err = w.imageWriter.addLayer(size, io.TeeReader(r, io.MultiWriter(bw, h)))
	if err == nil {
		p.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
		if err = bw.Flush(); err != nil {
			err = w.t.errorf("writing %s: %w", name, err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = w.t.errorf("writing %s: %w", name, cerr)
	}
	w.n++
	return err
}

// addRef copies the reference's layer tar from DIR into the archive: from
// file to file, the kernel copies it (copy_file_range, imgkit/kcopy;
// into a pipe, splice). The entry is trusted by its name, size and type; with
// --verify it is hashed as it is copied and compared with the diff_id.
func (w *tarCacheWriter) addRef(ref *layerstream.Ref) error {
	f, err := w.t.open(ref)
	if err != nil {
		return err
	}
	defer f.Close()
	var src io.Reader = f
	var h hash.Hash
	if w.t.verify {
		h = sha256.New()
		src = io.TeeReader(f, h)
	}
	if err := w.imageWriter.addLayer(ref.Size, src); err != nil {
		return err
	}
	if h != nil {
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != ref.DiffID {
			return w.t.errorf("%s hashes to %s: %w", tarName(ref.DiffID), got, errdefs.ErrDigestMismatch)
		}
	}
	w.n++
	return nil
}

// openLayerTars opens --layer-tars for a build, or returns nil without it.
func (c *command) openLayerTars(o *cli.IO) (*layerTars, error) {
	if c.LayerTars == "" {
		return nil, nil
	}
	return openLayerTars(o, c.LayerTars, c.Verify, true)
}
