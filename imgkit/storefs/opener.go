package storefs

import (
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
)

// An Opener opens the files of a tree below an open directory, in the
// order a depth-first walk meets them, without following any symlink and
// without resolving each path again: it keeps the directories of the last
// path open, each opened relative to its parent with O_NOFOLLOW, so a
// directory is opened once for all the files below it that come in a row,
// and a directory that became a symlink since it was listed is refused
// (ELOOP), not followed. It holds one descriptor per level of the
// current path; Close releases them. It is not safe for concurrent use.
type Opener struct {
	base int
	open []openDir // the directories of the last path, each its parent plus one name
}

type openDir struct {
	rel   string
	fd    int
	owned bool // false for a "." component, which shares its parent's
}

// NewOpener returns an Opener for paths relative to the open directory
// base, which stays the caller's.
func NewOpener(base int) *Opener { return &Opener{base: base} }

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

// dir returns a descriptor of the directory rel ("" is the base), closing
// the open directories that are not above it and opening the rest.
func (o *Opener) dir(rel string) (int, error) {
	if rel == "" {
		return o.base, nil
	}
	n := len(o.open)
	for n > 0 && rel != o.open[n-1].rel && !strings.HasPrefix(rel, o.open[n-1].rel+"/") {
		n--
	}
	o.truncate(n)
	parent, done := o.base, 0
	if n > 0 {
		parent, done = o.open[n-1].fd, len(o.open[n-1].rel)+1
	}
	for done <= len(rel) {
		end := strings.IndexByte(rel[done:], '/')
		if end < 0 {
			end = len(rel)
		} else {
			end += done
		}
		d := openDir{rel: rel[:end], fd: parent}
		switch name := rel[done:end]; name {
		case "", ".":
		case "..":
			return -1, &fs.PathError{Op: "open", Path: d.rel, Err: unix.EXDEV}
		default:
			fd, err := openDirAt(parent, name, unix.O_PATH)
			if err != nil {
				return -1, &fs.PathError{Op: "open", Path: d.rel, Err: err}
			}
			d.fd, d.owned = fd, true
		}
		o.open = append(o.open, d)
		parent, done = d.fd, end+1
	}
	return parent, nil
}

// truncate closes the open directories from the n-th on.
func (o *Opener) truncate(n int) {
	for _, d := range o.open[n:] {
		if d.owned {
			unix.Close(d.fd)
		}
	}
	o.open = o.open[:n]
}

// Close closes the directories the Opener holds open.
func (o *Opener) Close() { o.truncate(0) }
