package nar

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// StatMode converts a stat(2) mode to the fs.FileMode bits a NAR looks
// at: the type and the permissions, of which the owner's execute bit
// decides a regular file's executable flag.
func StatMode(m uint32) fs.FileMode {
	perm := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return perm
	case unix.S_IFDIR:
		return perm | fs.ModeDir
	case unix.S_IFLNK:
		return perm | fs.ModeSymlink
	case unix.S_IFIFO:
		return perm | fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return perm | fs.ModeSocket
	case unix.S_IFCHR:
		return perm | fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return perm | fs.ModeDevice
	}
	return perm | fs.ModeIrregular
}

// Holds tells whether a NAR has a node for a file of mode m: a regular
// file, a directory or a symlink.
func Holds(m fs.FileMode) bool {
	return m.IsRegular() || m&(fs.ModeDir|fs.ModeSymlink) != 0
}

// TypeName names the file types a NAR has no node for, for messages.
func TypeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a file of type " + m.Type().String()
}
