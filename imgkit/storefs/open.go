package storefs

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symlinks followed in one resolution, as the kernel's
// ELOOP does.
const maxLinks = 40

// pathMax is Linux's PATH_MAX: openat2 refuses a path of as many bytes or
// more (ENAMETOOLONG), and so do the walks that stand in for it, whose
// single names never reach it; a tree nesting past it (which Nix, naming
// files by path, cannot hold either) is refused the same on every kernel
// and system (macOS's own PATH_MAX is 1024).
const pathMax = 4096

// noOpenat2 is set once the kernel has answered ENOSYS to openat2; tests
// set it to run the component walk. Off Linux there is no openat2 and the
// walk always runs.
var noOpenat2 atomic.Bool

// dirFlags open a directory to list it or to open what it holds.
const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC

// OpenDirInRoot opens the directory dir (an absolute logical path such as
// /nix/store) as a process chrooted to root sees it, and returns the
// descriptor (O_RDONLY|O_DIRECTORY, close-on-exec), which the caller
// closes. Symlinks on the way are followed inside root: an absolute target
// starts again at root and ".." stops there, so nothing outside root is
// ever opened. root itself is followed as given: it is the caller's.
// Errors are *fs.PathError naming dir.
func OpenDirInRoot(root, dir string) (int, error) {
	rootfd, err := openat(unix.AT_FDCWD, root, searchOnly()|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootfd)
	rel := strings.TrimPrefix(path.Clean("/"+dir), "/")
	if rel == "" {
		rel = "."
	}
	fd, err := -1, error(unix.ENOSYS)
	if !noOpenat2.Load() {
		fd, err = openat2InRoot(rootfd, rel)
	}
	if unavailable(err) {
		fd, err = walkInRoot(rootfd, rel)
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

// walkInRoot is OpenDirInRoot without openat2: one component at a time,
// each opened relative to the directory before it without following it,
// a symlink's target spliced in and resolved the same way.
func walkInRoot(rootfd int, rel string) (int, error) {
	if len(rel) >= pathMax {
		return -1, unix.ENAMETOOLONG
	}
	stack := []int{rootfd} // the directories on the way; rootfd is borrowed
	defer func() {
		for _, fd := range stack[1:] {
			unix.Close(fd)
		}
	}()
	pop := func(to int) {
		for len(stack) > to {
			unix.Close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		}
	}
	todo := strings.Split(rel, "/")
	for links := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			pop(max(1, len(stack)-1))
			continue
		}
		cur := stack[len(stack)-1]
		fd, link, err := openComponent(cur, c)
		if err != nil {
			return -1, err
		}
		if !link {
			stack = append(stack, fd)
			continue
		}
		if links++; links > maxLinks {
			return -1, unix.ELOOP
		}
		target, err := readlinkat(cur, c)
		if err != nil {
			return -1, err
		}
		if path.IsAbs(target) {
			pop(1)
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return openat(stack[len(stack)-1], ".", dirFlags)
}

// OpenBeneath opens rel, a relative path below the open directory dirfd,
// following no symlink, neither on the way nor at its end (ELOOP), and
// refusing ".." (EXDEV). flags are open(2)'s; O_NOFOLLOW and O_CLOEXEC are
// added. Errors are *fs.PathError naming rel.
func OpenBeneath(dirfd int, rel string, flags int) (int, error) {
	flags |= unix.O_CLOEXEC
	fd, err := -1, error(unix.ENOSYS)
	switch {
	case rel == "":
		// open(2)'s and openat2's answer; the walk alone would open
		// dirfd itself.
		err = unix.ENOENT
	case hasDotDot(rel):
		// openat2 takes a ".." that stays below dirfd, the walk (which
		// keeps no parents) none: refused before either, so that the
		// answer is the same on every kernel and system.
		err = unix.EXDEV
	case !noOpenat2.Load():
		fd, err = openat2Beneath(dirfd, rel, flags)
	}
	if unavailable(err) {
		fd, err = walkBeneath(dirfd, rel, flags|unix.O_NOFOLLOW)
	}
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: rel, Err: err}
	}
	return fd, nil
}

// hasDotDot reports whether the path rel has a ".." component.
func hasDotDot(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, "../") || strings.HasSuffix(rel, "/..") || strings.Contains(rel, "/../")
}

// walkBeneath is OpenBeneath without openat2.
func walkBeneath(dirfd int, rel string, flags int) (int, error) {
	if len(rel) >= pathMax {
		return -1, unix.ENAMETOOLONG
	}
	if path.IsAbs(rel) {
		return -1, unix.EXDEV
	}
	comps := strings.Split(rel, "/")
	last := comps[len(comps)-1]
	cur, owned := dirfd, -1
	defer func() {
		if owned >= 0 {
			unix.Close(owned)
		}
	}()
	for _, c := range comps[:len(comps)-1] {
		switch c {
		case "", ".":
			continue
		case "..":
			return -1, unix.EXDEV
		}
		fd, err := openDirAt(cur, c, searchOnly())
		if err != nil {
			return -1, err
		}
		if owned >= 0 {
			unix.Close(owned)
		}
		cur, owned = fd, fd
	}
	switch last {
	case "":
		last = "."
	case "..":
		return -1, unix.EXDEV
	}
	if flags&unix.O_DIRECTORY != 0 {
		return openDirAt(cur, last, flags)
	}
	return openat(cur, last, flags)
}

// openDirAt opens the directory name of dirfd without following it; a
// symlink there is ELOOP, as openat2's RESOLVE_NO_SYMLINKS says, rather
// than the ENOTDIR of O_DIRECTORY|O_NOFOLLOW (Linux's answer; macOS says
// ELOOP itself, FreeBSD EMLINK).
func openDirAt(dirfd int, name string, flags int) (int, error) {
	fd, err := openat(dirfd, name, flags|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err == unix.ENOTDIR || err == unix.EMLINK {
		var st unix.Stat_t
		if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			err = unix.ELOOP
		}
	}
	return fd, err
}

// unavailable reports whether openat2 failed for want of openat2: ENOSYS
// from the kernel, or EPERM from a seccomp filter older than openat2
// (container runtimes answered EPERM to system calls they did not know).
// A genuine EPERM comes back from the walk as well.
func unavailable(err error) bool { return err == unix.ENOSYS || err == unix.EPERM }

// openat is unix.Openat with EINTR retried.
func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readlinkat reads the target of the symlink name of dirfd.
func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// Readlinkat reads the target of the symlink name of the open directory
// dirfd. Errors are *fs.PathError naming name.
func Readlinkat(dirfd int, name string) (string, error) {
	target, err := readlinkat(dirfd, name)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// ErrReplaced is a directory that is not the one its parent listed.
var ErrReplaced = errors.New("replaced by another directory")

// OpenListedDir opens the directory name of the open directory dirfd,
// which must still be the directory the caller found there (inode ino)
// when it listed dirfd: O_RDONLY|O_DIRECTORY, close-on-exec, not
// following a symlink. A symlink there is ELOOP, another file ENOTDIR,
// another directory ErrReplaced; errors are *fs.PathError naming name.
// Walking a tree this way, each directory held open while its entries are
// visited, no path is resolved twice and no symlink is followed; a
// DirPath walks so within a bounded number of descriptors.
func OpenListedDir(dirfd int, name string, ino uint64) (int, error) {
	fd, err := openSameDir(dirfd, name, unix.O_RDONLY, anyDev, ino)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return fd, nil
}

// anyDev is a device number openSameDir does not check.
const anyDev = ^uint64(0)

// openSameDir opens the directory name of dirfd with flags, not following
// a symlink (openDirAt), and, with ino non-zero, only when it is inode ino
// of device dev (any with anyDev): ErrReplaced otherwise.
func openSameDir(dirfd int, name string, flags int, dev, ino uint64) (int, error) {
	fd, err := openDirAt(dirfd, name, flags)
	if err != nil || ino == 0 {
		return fd, err
	}
	var st unix.Stat_t
	if err = unix.Fstat(fd, &st); err == nil && (st.Ino != ino || dev != anyDev && uint64(st.Dev) != dev) {
		err = ErrReplaced
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
