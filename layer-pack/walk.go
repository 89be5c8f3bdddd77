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
	"dockertools.dev/imgkit/storefs"
)

// place is where a file of a tree is: the open directory that holds it,
// its name there, and its path below the layer's base directory (what a
// storefs.Opener opens it by when it is read).
type place struct {
	dirfd int
	base  string
	rel   string
}

// visitFunc is called for every file of a tree, parents before children.
// name is its member name without the trailing "/" of directories.
// Returning descend=false skips a directory's children.
type visitFunc func(at place, name string, st *unix.Stat_t) (descend bool, err error)

// walkTree visits the file at at, whose lstat is st, and, when it is a
// directory (never a symlink to one), everything below it depth first,
// each directory's entries sorted by less. Every directory is opened
// relative to its parent without following a symlink, and must be the
// directory that was listed (same device and inode): a directory swapped
// for a symlink or another directory while packing is an error, never a
// way out of the tree. Its entries are examined with fstatat relative to
// it, which also spares the kernel resolving a whole path for each. The
// walk holds one descriptor per level of the current path and one listing
// per level in memory.
func walkTree(ctx context.Context, at place, name string, st *unix.Stat_t, less func(a, b string) bool, visit visitFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	descend, err := visit(at, name, st)
	if err != nil || !descend || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return err
	}
	fd, err := openDir(at.dirfd, at.base, st)
	if err != nil {
		return fmt.Errorf("%q %w", name, err)
	}
	defer unix.Close(fd)
	names, stats, err := readDir(fd, less)
	if err != nil {
		var gone *vanishedError
		if errors.As(err, &gone) {
			return fmt.Errorf("%q vanished while packing: %w", name+"/"+gone.name, errdefs.ErrChanged)
		}
		return fmt.Errorf("reading directory %q: %w", name, err)
	}
	for i, n := range names {
		if err := walkTree(ctx, place{fd, n, at.rel + "/" + n}, name+"/"+n, &stats[i], less, visit); err != nil {
			return err
		}
	}
	return nil
}

// openDir opens the directory name of dirfd, which must still be the one
// whose lstat is st. Its errors complete a sentence that starts with the
// directory's name.
func openDir(dirfd int, name string, st *unix.Stat_t) (int, error) {
	fd, err := storefs.OpenListedDir(dirfd, name, st.Ino)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOENT):
		return -1, fmt.Errorf("vanished while packing: %w", errdefs.ErrChanged)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return -1, fmt.Errorf("is no longer a directory (a symlink or a file now) while packing: %w", errdefs.ErrChanged)
	case errors.Is(err, storefs.ErrReplaced):
		return -1, fmt.Errorf("was replaced while packing: %w", errdefs.ErrChanged)
	}
	return -1, fmt.Errorf("cannot be opened: %w", errors.Unwrap(err))
}

// vanishedError is a directory entry that was listed but is gone.
type vanishedError struct{ name string }

func (e *vanishedError) Error() string { return e.name + " vanished" }

// readDir lists the open directory fd, sorted by less, with each entry's
// lstat.
func readDir(fd int, less func(a, b string) bool) ([]string, []unix.Stat_t, error) {
	names, err := readDirNames(fd)
	if err != nil {
		return nil, nil, err
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
			return nil, nil, fmt.Errorf("%q: %w", n, err)
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

// openAt is unix.Openat with EINTR retried.
func openAt(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
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
