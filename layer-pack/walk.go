package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
)

// visitFunc is called for every file of a tree, parents before children.
// phys is where the file is read, name is its member name without the
// trailing "/" of directories. Returning descend=false skips a directory's
// children.
type visitFunc func(phys, name string, st *unix.Stat_t) (descend bool, err error)

// walkTree visits the file at phys and, when it is a directory (never a
// symlink to one), everything below it depth first, each directory's
// entries sorted by less. Only one directory listing per level is held,
// so memory does not grow with the size of the tree.
func walkTree(ctx context.Context, phys, name string, st *unix.Stat_t, less func(a, b string) bool, visit visitFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	descend, err := visit(phys, name, st)
	if err != nil || !descend || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return err
	}
	names, err := readDirNames(phys)
	if err != nil {
		return fmt.Errorf("reading directory %q: %w", name, err)
	}
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	for _, n := range names {
		var cst unix.Stat_t
		cphys, cname := phys+"/"+n, name+"/"+n
		if err := lstat(cphys, &cst); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%q vanished while packing: %w", cname, errdefs.ErrChanged)
			}
			return fmt.Errorf("%q: %w", cname, err)
		}
		if err := walkTree(ctx, cphys, cname, &cst, less, visit); err != nil {
			return err
		}
	}
	return nil
}

// readDirNames lists a directory with getdents directly: os.Open would
// also set the descriptor non-blocking and try to register it with the
// poller, two system calls per directory for nothing.
func readDirNames(dir string) ([]string, error) {
	fd, err := openDir(dir)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	buf := direntBuf.Get().(*[]byte)
	defer direntBuf.Put(buf)
	var names []string
	for {
		n, err := unix.ReadDirent(fd, *buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent((*buf)[:n], -1, names)
	}
}

var direntBuf = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func openDir(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// lstat is unix.Lstat with EINTR retried and errors as *fs.PathError.
func lstat(path string, st *unix.Stat_t) error {
	for {
		err := unix.Lstat(path, st)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "lstat", Path: path, Err: err}
		}
		return nil
	}
}
