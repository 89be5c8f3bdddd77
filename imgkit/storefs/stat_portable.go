package storefs

import (
	"io/fs"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// statBeneathPortable is StatBeneath without O_PATH: rel's directory is
// opened below dirfd as OpenBeneath opens it, and its last name is looked
// at there with fstatat, not opened, since an O_RDONLY open of a FIFO
// would wait for a writer and one of a device acts on it.
func statBeneathPortable(dirfd int, rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if path.IsAbs(rel) {
		return st, &fs.PathError{Op: "open", Path: rel, Err: unix.EXDEV}
	}
	dir, name := ".", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, name = rel[:i], rel[i+1:]
	}
	switch name {
	case "", ".":
		dir, name = rel, "."
	case "..":
		return st, &fs.PathError{Op: "open", Path: rel, Err: unix.EXDEV}
	}
	fd, err := OpenBeneath(dirfd, dir, SearchOnly|unix.O_DIRECTORY)
	if err != nil {
		return st, &fs.PathError{Op: "open", Path: rel, Err: err.(*fs.PathError).Err}
	}
	defer unix.Close(fd)
	err = unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		err = unix.ELOOP
	}
	if err != nil {
		return st, &fs.PathError{Op: "stat", Path: rel, Err: err}
	}
	return st, nil
}
