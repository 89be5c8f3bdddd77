package storefs

import (
	"errors"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
)

// An Opener opens the files of a tree below an open directory, in the
// order a depth-first walk meets them, without following any symlink and
// without resolving each path again: it keeps the directories of the last
// path open (a DirPath), each opened relative to its parent with
// O_NOFOLLOW, so a directory is opened once for all the files below it
// that come in a row, and a directory that became a symlink since it was
// listed is refused (ELOOP), not followed. It holds at most a DirPath's
// window of descriptors, however deep the path; Close releases them. It
// is not safe for concurrent use.
type Opener struct {
	base int
	dirs *DirPath
	open []openDir // the components of the last path, each its parent plus one name
}

type openDir struct {
	rel   string
	depth int // dirs.Len() with it: a "." component has its parent's
}

// NewOpener returns an Opener for paths relative to the open directory
// base, which stays the caller's.
func NewOpener(base int) *Opener {
	return &Opener{base: base, dirs: NewDirPath(base, searchOnly())}
}

// Open opens rel, a relative "/"-separated path below the base without
// ".." (a "." component stands for its directory), with the open(2)
// flags; O_NOFOLLOW and O_CLOEXEC are added. Errors are *fs.PathError
// naming rel, or the directory above it that could not be opened.
func (o *Opener) Open(rel string, flags int) (int, error) {
	dir, name := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, name = rel[:i], rel[i+1:]
	}
	parent, err := o.dir(dir)
	if err != nil {
		return -1, err
	}
	if name == ".." {
		return -1, &fs.PathError{Op: "open", Path: rel, Err: unix.EXDEV}
	}
	fd, err := openat(parent, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	return fd, nil
}

// dir returns a descriptor of the directory rel ("" is the base), leaving
// the components that are not above it and opening the rest.
func (o *Opener) dir(rel string) (int, error) {
	if rel == "" {
		return o.base, nil
	}
	n := len(o.open)
	for n > 0 && rel != o.open[n-1].rel && !strings.HasPrefix(rel, o.open[n-1].rel+"/") {
		n--
	}
	o.truncate(n)
	done := 0
	if n > 0 {
		done = len(o.open[n-1].rel) + 1
	}
	for done <= len(rel) {
		end := strings.IndexByte(rel[done:], '/')
		if end < 0 {
			end = len(rel)
		} else {
			end += done
		}
		d := openDir{rel: rel[:end]}
		switch name := rel[done:end]; name {
		case "", ".":
		case "..":
			return -1, &fs.PathError{Op: "open", Path: d.rel, Err: unix.EXDEV}
		default:
			if err := o.dirs.Push(name, 0); err != nil {
				return -1, o.pathErr(err, d.rel)
			}
		}
		d.depth = o.dirs.Len()
		o.open = append(o.open, d)
		done = end + 1
	}
	fd, err := o.dirs.Fd()
	if err != nil {
		return -1, o.pathErr(err, rel)
	}
	return fd, nil
}

// pathErr is a DirPath's error naming the directory that could not be
// opened by its path as the Opener was given it: the component of the
// path opened so far at its depth (one more than its slashes, since a
// name holds none), or else rel, the one being opened.
func (o *Opener) pathErr(err error, rel string) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	depth := strings.Count(pe.Path, "/") + 1
	for _, d := range o.open {
		if d.depth == depth {
			rel = d.rel
			break
		}
	}
	return &fs.PathError{Op: "open", Path: rel, Err: pe.Err}
}

// truncate leaves the components from the n-th on.
func (o *Opener) truncate(n int) {
	o.open = o.open[:n]
	depth := 0
	if n > 0 {
		depth = o.open[n-1].depth
	}
	o.dirs.Truncate(depth)
}

// Close closes the directories the Opener holds open.
func (o *Opener) Close() {
	o.open = o.open[:0]
	o.dirs.Close()
}
