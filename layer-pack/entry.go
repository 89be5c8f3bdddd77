package main

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/imgkit/tarw"
)

// entry is one member of a layer: its header and, for a regular file,
// where its data is read (its path below the layer's base directory) and
// the identity it had when it was examined.
type entry struct {
	hdr   tarw.Header
	rel   string
	ino   uint64
	dev   uint64
	ctime unix.Timespec // a regular file's change time: any write moves it
	nlink uint64        // a regular file's link count: a link or an unlink moves it with the change time, a write does not (see checkStat)
	fds   *keptFDs      // where the hashing pass keeps its descriptor for the writer, at index idx; nil: none kept
	idx   int
	// adopted: ino, dev, ctime and nlink are a copy's that replaced the file
	// examined (see adopt).
	adopted bool
}

// errSocket marks a file that no layer can hold.
var errSocket = fmt.Errorf("is a socket")

// statEntry fills e from the lstat result of the file at at, named name
// in the layer: type, permission bits, owner ids from disk, size,
// symlink target and device numbers. Hardlinks are not looked for: every
// regular file is stored with its content, as both nixpkgs writers do.
func statEntry(e *entry, at place, name string, st *unix.Stat_t) error {
	if base := path.Base(name); strings.HasPrefix(base, ".wh.") {
		return fmt.Errorf("%q: a file named .wh.* would be a whiteout in the image: %w", name, errdefs.ErrUnsafeEntry)
	}
	*e = entry{rel: at.rel, ino: st.Ino, dev: uint64(st.Dev), ctime: st.Ctim}
	h := &e.hdr
	h.Name = name
	h.Mode = int64(st.Mode & 0o7777)
	h.Uid, h.Gid = int64(st.Uid), int64(st.Gid)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		h.Type, h.Size, e.nlink = tarw.TypeReg, st.Size, uint64(st.Nlink)
	case unix.S_IFDIR:
		h.Type = tarw.TypeDir
		if !strings.HasSuffix(name, "/") {
			h.Name = name + "/"
		}
	case unix.S_IFLNK:
		h.Type = tarw.TypeSymlink
		target, err := storefs.Readlinkat(at.dirfd, at.base)
		if err != nil {
			return fmt.Errorf("%q: %w", name, errors.Unwrap(err))
		}
		h.Linkname = target
	case unix.S_IFCHR, unix.S_IFBLK:
		h.Type = tarw.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			h.Type = tarw.TypeBlock
		}
		h.Devmajor, h.Devminor = int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
	case unix.S_IFIFO:
		h.Type = tarw.TypeFifo
	case unix.S_IFSOCK:
		return fmt.Errorf("%q %w", name, errSocket)
	default:
		return fmt.Errorf("%q: unknown file type %#o: %w", name, st.Mode&unix.S_IFMT, errdefs.ErrInvalidInput)
	}
	return nil
}
