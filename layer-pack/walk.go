package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

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
// walk holds the directories of the current path in a storefs.DirPath,
// at most its window of descriptors however deep the tree (a deeper
// directory the walk comes back up to is opened again, and must be the
// same), and one listing per level in memory.
func walkTree(ctx context.Context, at place, name string, st *unix.Stat_t, less func(a, b string) bool, visit visitFunc) error {
	w := &walker{ctx: ctx, dirs: storefs.NewDirPath(at.dirfd, unix.O_RDONLY), top: at.base, topName: name, less: less, visit: visit}
	defer w.dirs.Close()
	return w.walk(at.base, at.rel, name, st)
}

// walker is walkTree's state.
type walker struct {
	ctx   context.Context
	dirs  *storefs.DirPath // the directories above the file being visited
	less  func(a, b string) bool
	visit visitFunc

	top, topName string // the first directory of dirs, and its member name
}

// walk visits the file base of the deepest directory of w.dirs, whose
// path below the layer's base is rel and whose member name is name, and
// what is below it.
func (w *walker) walk(base, rel, name string, st *unix.Stat_t) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	dirfd, err := w.dirs.Fd()
	if err != nil {
		return w.reopenErr(err)
	}
	descend, err := w.visit(place{dirfd, base, rel}, name, st)
	if err != nil || !descend || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return err
	}
	if err := w.dirs.Push(base, st.Ino); err != nil {
		return fmt.Errorf("%q %w", name, dirErr(err))
	}
	defer w.dirs.Pop()
	fd, err := w.dirs.Fd()
	if err != nil {
		return w.reopenErr(err)
	}
	names, stats, err := readDir(fd, w.less)
	if err != nil {
		var gone *vanishedError
		if errors.As(err, &gone) {
			return fmt.Errorf("%q vanished while packing: %w", name+"/"+gone.name, errdefs.ErrChanged)
		}
		return fmt.Errorf("reading directory %q: %w", name, err)
	}
	for i, n := range names {
		if err := w.walk(n, rel+"/"+n, name+"/"+n, &stats[i]); err != nil {
			return err
		}
	}
	return nil
}

// reopenErr words an error of opening again the directories w.dirs
// closed, naming the one that failed.
func (w *walker) reopenErr(err error) error {
	name := w.topName
	var pe *fs.PathError
	if errors.As(err, &pe) {
		name += strings.TrimPrefix(pe.Path, w.top)
	}
	return fmt.Errorf("%q %w", name, dirErr(err))
}

// dirErr words an error of opening a directory of the walk, or one above
// it again. It completes a sentence that starts with the directory's
// name.
func dirErr(err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("vanished while packing: %w", errdefs.ErrChanged)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("is no longer a directory (a symlink or a file now) while packing: %w", errdefs.ErrChanged)
	case errors.Is(err, storefs.ErrReplaced):
		return fmt.Errorf("was replaced while packing: %w", errdefs.ErrChanged)
	}
	return fmt.Errorf("cannot be opened: %w", errors.Unwrap(err))
}

// vanishedError is a directory entry that was listed but is gone.
type vanishedError struct{ name string }

func (e *vanishedError) Error() string { return e.name + " vanished" }

// readDir lists the open directory fd, sorted by less, with each entry's
// lstat.
func readDir(fd int, less func(a, b string) bool) ([]string, []unix.Stat_t, error) {
	names, err := storefs.ReadDirNames(fd)
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
