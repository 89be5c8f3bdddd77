package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
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
}

// phys is where the logical path p is read.
func (o *storeOptions) phys(p string) string {
	if o.root == "/" {
		return p
	}
	return filepath.Join(o.root, p)
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
	walk := func(ctx context.Context, fn func(e *entry) error) error {
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
			phys := o.phys(p)
			var st unix.Stat_t
			if err := lstat(phys, &st); err != nil {
				return fmt.Errorf("store path %w", notFound(p, err))
			}
			err := walkTree(ctx, phys, p, &st, tarw.PythonLess, func(phys, name string, st *unix.Stat_t) (bool, error) {
				if err := statEntry(&e, phys, name, st); err != nil {
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
	return &treeLayer{format: tarw.Python, walk: walk, info: info}
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
	walk := func(ctx context.Context, fn func(e *entry) error) error {
		var st unix.Stat_t
		if err := lstat(o.root, &st); err != nil {
			return fmt.Errorf("customisation directory %w", notFound(o.root, err))
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return fmt.Errorf("customisation directory %q is not a directory: %w", o.root, errdefs.ErrInvalidInput)
		}
		var e entry
		err := walkTree(ctx, o.root, ".", &st, tarw.GNULess, func(phys, name string, st *unix.Stat_t) (bool, error) {
			if o.excludes[name] {
				return false, nil
			}
			if err := statEntry(&e, phys, name, st); err != nil {
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
	return &treeLayer{format: tarw.GNU, walk: walk, info: info}
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
