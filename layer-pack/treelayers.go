package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sync"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/imgkit/tarw"
)

// storeOptions are the settings of nixpkgs' store layers.
type storeOptions struct {
	storeDir string // logical store directory; every path is inside it
	root     string // the logical path P is read at root+P
	mtime    int64
	uid, gid int64
	uname    string
	gname    string

	mu      sync.Mutex // for the measuring goroutine and the writing one
	storeFd int        // the store directory opened inside root, once storeOK; open for the rest of the run
	storeOK bool
}

// openStore opens the store directory as a process chrooted to root sees
// it (imgkit/storefs), once: symlinks on its way never lead out of root.
func (o *storeOptions) openStore() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.storeOK {
		return nil
	}
	fd, err := storefs.OpenDirInRoot(o.root, o.storeDir)
	if err != nil {
		where := fmt.Sprintf("%q", o.storeDir)
		if o.root != "/" {
			where += fmt.Sprintf(" under --root %q", o.root)
		}
		cause := errors.Unwrap(err) // the errno of the *fs.PathError
		if errors.Is(err, fs.ErrNotExist) {
			cause = errdefs.ErrNotFound
		}
		return fmt.Errorf("store directory %s: %w", where, cause)
	}
	o.storeFd, o.storeOK = fd, true
	return nil
}

// storeBase is a store layer's base directory: its own descriptor of the
// store directory (the layer closes it), or -1 for a layer without paths.
func (o *storeOptions) storeBase(paths []string) func() (int, error) {
	return func() (int, error) {
		if len(paths) == 0 {
			return -1, nil
		}
		if err := o.openStore(); err != nil {
			return -1, err
		}
		return unix.FcntlInt(uintptr(o.storeFd), unix.F_DUPFD_CLOEXEC, 0)
	}
}

// own forces the configured owner and mtime, as nixpkgs does for every
// store-layer entry.
func (o *storeOptions) own(h *tarw.Header) {
	h.Uid, h.Gid, h.Uname, h.Gname, h.Mtime = o.uid, o.gid, o.uname, o.gname, o.mtime
}

// storeLayer is one layer of the plan, packed byte for byte as nixpkgs'
// stream_layered_image.py does (reference §5.3): /nix/ and /nix/store/
// first, then each path in plan order with everything below it in
// pathlib order, names absolute, owner and mtime forced.
func storeLayer(o *storeOptions, paths []string) *treeLayer {
	info := layerstream.LayerInfo{Paths: paths}
	if len(paths) == 0 {
		info.Comment = "store paths: []"
	}
	walk := func(ctx context.Context, store int, fn func(e *entry) error) error {
		var e entry
		for _, dir := range []string{"/nix/", "/nix/store/"} {
			// Always the literal /nix, whatever the store directory.
			e = entry{hdr: tarw.Header{Name: dir, Type: tarw.TypeDir, Mode: 0o755}}
			o.own(&e.hdr)
			if err := fn(&e); err != nil {
				return err
			}
		}
		for _, p := range paths {
			// checkPlan made sure p is storeDir/NAME, so NAME is one
			// component: a store path that is a symlink is that symlink.
			name := path.Base(p)
			var st unix.Stat_t
			if err := unix.Fstatat(store, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("store path %w", notFound(p, err))
			}
			err := walkTree(ctx, place{store, name, name}, p, &st, tarw.PythonLess, func(at place, name string, st *unix.Stat_t) (bool, error) {
				if err := statEntry(&e, at, name, st); err != nil {
					if errors.Is(err, errSocket) {
						err = fmt.Errorf("%w; a layer cannot hold it: %w", err, errdefs.ErrInvalidInput)
					}
					return false, err
				}
				o.own(&e.hdr)
				return true, fn(&e)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	return &treeLayer{format: tarw.Python, base: o.storeBase(paths), walk: walk, info: info}
}

// gnuTarMtime is the mtime nixpkgs' GNU tar gives the customisation layer
// (--mtime @$SOURCE_DATE_EPOCH in the Nix sandbox).
const gnuTarMtime = 315532800

// dirOptions are the settings of a customisation directory.
type dirOptions struct {
	root     string
	excludes map[string]bool // member names ("./dev") left out with what is below them
	fake     fakeState       // nil: owners from disk
	warn     func(format string, args ...any)
}

// dirLayer packs a directory exactly as nixpkgs' customisation layer is
// packed: `tar --sort name --numeric-owner --mtime @315532800
// --hard-dereference -cf layer.tar .` run inside it (GNU tar 1.34, gnu
// format), inside the fakeroot session when a state is given.
func dirLayer(o *dirOptions, info layerstream.LayerInfo) *treeLayer {
	warned := false
	walk := func(ctx context.Context, top int, fn func(e *entry) error) error {
		var st unix.Stat_t
		if err := unix.Fstat(top, &st); err != nil {
			return fmt.Errorf("customisation directory %w", notFound(o.root, err))
		}
		var e entry
		err := walkTree(ctx, place{top, ".", "."}, ".", &st, tarw.GNULess, func(at place, name string, st *unix.Stat_t) (bool, error) {
			if o.excludes[name] {
				return false, nil
			}
			if err := statEntry(&e, at, name, st); err != nil {
				if errors.Is(err, errSocket) {
					// GNU tar leaves sockets out with a warning.
					if !warned {
						o.warn("customisation directory: %q: socket ignored", name)
					}
					return false, nil
				}
				return false, err
			}
			if o.fake != nil {
				o.fake.apply(&e)
			}
			e.hdr.Mtime = gnuTarMtime
			return true, fn(&e)
		})
		warned = true
		return err
	}
	return &treeLayer{format: tarw.GNU, base: o.open, walk: walk, info: info}
}

// open opens the customisation directory, the base of its entries. DIR is
// the user's and its path is followed, but DIR itself must be a directory,
// not a symlink to one, as before; nothing below it is followed.
func (o *dirOptions) open() (int, error) {
	fd, err := openAt(unix.AT_FDCWD, o.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	switch {
	case err == unix.ENOTDIR || err == unix.ELOOP:
		return -1, fmt.Errorf("customisation directory %q is not a directory: %w", o.root, errdefs.ErrInvalidInput)
	case err != nil:
		return -1, fmt.Errorf("customisation directory %w", notFound(o.root, err))
	}
	return fd, nil
}

// excludeName turns an --exclude value ("./dev", "dev" or "/dev") into the
// member name it leaves out.
func excludeName(x string) (string, error) {
	c := path.Clean("/" + x)
	if c == "/" {
		return "", fmt.Errorf("--exclude %q would leave out the whole directory", x)
	}
	return "." + c, nil
}
