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
// entries sorted by less. A directory's entries are examined with fstatat
// relative to the open directory, which spares the kernel resolving the
// whole path for each one; the descriptor is closed before descending, so
// deep trees hold no descriptors and memory holds one listing per level.
func walkTree(ctx context.Context, phys, name string, st *unix.Stat_t, less func(a, b string) bool, visit visitFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	descend, err := visit(phys, name, st)
	if err != nil || !descend || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return err
	}
	names, stats, err := readDir(phys, less)
	if err != nil {
		var gone *vanishedError
		if errors.As(err, &gone) {
			return fmt.Errorf("%q vanished while packing: %w", name+"/"+gone.name, errdefs.ErrChanged)
		}
		return fmt.Errorf("reading directory %q: %w", name, err)
	}
	for i, n := range names {
		if err := walkTree(ctx, phys+"/"+n, name+"/"+n, &stats[i], less, visit); err != nil {
			return err
		}
	}
	return nil
}

// vanishedError is a directory entry that was listed but is gone.
type vanishedError struct{ name string }

func (e *vanishedError) Error() string { return e.name + " vanished" }

// readDir lists a directory, sorted by less, with each entry's lstat.
func readDir(dir string, less func(a, b string) bool) ([]string, []unix.Stat_t, error) {
	fd, err := openDir(dir)
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	names, err := readDirNames(fd)
	if err != nil {
		return nil, nil, &fs.PathError{Op: "getdents", Path: dir, Err: err}
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
	stats := make([]unix.Stat_t, len(names))
	for i, n := range names {
		for {
			err = unix.Fstatat(fd, n, &stats[i], unix.AT_SYMLINK_NOFOLLOW)
			if err != unix.EINTR {
				break
			}
		}
		if err == unix.ENOENT {
			return nil, nil, &vanishedError{n}
		}
		if err != nil {
			return nil, nil, &fs.PathError{Op: "lstat", Path: dir + "/" + n, Err: err}
		}
	}
	return names, stats, nil
}

// readDirNames lists the open directory fd with getdents directly:
// os.Open would also set the descriptor non-blocking and try to register
// it with the poller, two system calls per directory for nothing.
func readDirNames(fd int) ([]string, error) {
	buf := direntBuf.Get().(*[]byte)
	defer direntBuf.Put(buf)
	var names []string
	for {
		n, err := unix.ReadDirent(fd, *buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
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
