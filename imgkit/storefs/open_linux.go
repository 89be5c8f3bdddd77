package storefs

import (
	"io/fs"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/internal/offlinux"
)

// SearchOnly is the open(2) flag of a descriptor that is only resolved
// below (openat, fstatat, fstat), never read: O_PATH here, so that a
// directory that may be searched but not read (mode 0311) opens too, and
// opening it has no effect on the file. Elsewhere it is O_RDONLY (see the
// package doc).
const SearchOnly = unix.O_PATH

// portable, set by tests (or by the build tag of imgkit/internal/offlinux,
// with openat2 then never tried), makes the component walk open as it
// does off Linux (O_RDONLY, no O_PATH descriptor of a symlink), so that
// the tests run here check the walk macOS and FreeBSD take.
var portable = offlinux.Forced

func init() {
	if offlinux.Forced {
		noOpenat2.Store(true)
	}
}

// searchOnly is SearchOnly, or O_RDONLY for the portable walk.
func searchOnly() int {
	if portable {
		return unix.O_RDONLY
	}
	return SearchOnly
}

// openat2InRoot opens the directory rel below rootfd as a process chrooted
// to rootfd sees it, the kernel resolving it atomically.
func openat2InRoot(rootfd int, rel string) (int, error) {
	return openat2(rootfd, rel, dirFlags, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS)
}

// openat2Beneath opens rel below dirfd following no symlink, refusing
// "..": RESOLVE_NO_SYMLINKS covers the last component too, with ELOOP
// where O_NOFOLLOW|O_DIRECTORY would say ENOTDIR.
func openat2Beneath(dirfd int, rel string, flags int) (int, error) {
	return openat2(dirfd, rel, flags&^unix.O_NOFOLLOW, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
}

// openComponent opens the name c of the directory cur for the component
// walk without following it: a directory (its descriptor), or a symlink
// (link true, nothing left open); anything else is ENOTDIR. An O_PATH
// descriptor of c, whatever it is, tells which with one fstat.
func openComponent(cur int, c string) (fd int, link bool, err error) {
	if portable {
		return openComponentPortable(cur, c)
	}
	fd, err = openat(cur, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		return -1, false, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, false, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return fd, false, nil
	case unix.S_IFLNK:
		unix.Close(fd)
		return -1, true, nil
	default:
		unix.Close(fd)
		return -1, false, unix.ENOTDIR
	}
}

// openat2 is unix.Openat2 with EINTR retried, and EAGAIN (the kernel's
// answer when a rename raced with a scoped resolution) retried a bounded
// number of times; ENOSYS from a kernel without it is remembered.
func openat2(dirfd int, name string, flags int, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags), Resolve: resolve}
	for again := 0; ; {
		fd, err := unix.Openat2(dirfd, name, &how)
		switch {
		case err == unix.EINTR, err == unix.EAGAIN && again < 100:
			again++
			continue
		case err == unix.ENOSYS:
			noOpenat2.Store(true)
		}
		return fd, err
	}
}

// StatBeneath is fstat(2) of what OpenBeneath(dirfd, rel, SearchOnly)
// opens: rel below dirfd, following no symlink, not even at its end
// (ELOOP), and refusing ".." (EXDEV). Errors are *fs.PathError naming
// rel.
func StatBeneath(dirfd int, rel string) (unix.Stat_t, error) {
	if portable {
		return statBeneathPortable(dirfd, rel)
	}
	var st unix.Stat_t
	fd, err := OpenBeneath(dirfd, rel, unix.O_PATH)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	err = unix.Fstat(fd, &st)
	if err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		// The walk without openat2 opens a symlink at the end itself
		// (O_PATH|O_NOFOLLOW), where openat2 says ELOOP.
		err = unix.ELOOP
	}
	if err != nil {
		return st, &fs.PathError{Op: "stat", Path: rel, Err: err}
	}
	return st, nil
}
