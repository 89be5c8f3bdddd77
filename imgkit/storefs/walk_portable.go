package storefs

import "golang.org/x/sys/unix"

// openComponentPortable is openComponent without O_PATH, which only Linux
// has (and which can open a symlink itself): c is opened as a directory
// with O_NOFOLLOW, which no kernel follows; a symlink there fails (ELOOP
// from openDirAt) and is reported as one, its target read next by name.
// Had c been swapped meanwhile for something else, that read fails
// (EINVAL) or reads the new symlink, which the walk resolves inside the
// root as any other: what is opened is never outside it.
func openComponentPortable(cur int, c string) (fd int, link bool, err error) {
	fd, err = openDirAt(cur, c, unix.O_RDONLY)
	switch {
	case err == nil:
		return fd, false, nil
	case err == unix.ELOOP:
		return -1, true, nil
	default:
		return -1, false, err
	}
}
