package tarsafe

import (
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/storefs"
)

// DirView is a View of a directory on disk that layers are extracted into
// (the root of the tree). Lookup never follows a symlink: it walks down
// from the root one name at a time, each looked up (fstatat without
// following) and opened (O_NOFOLLOW) relative to its parent's descriptor,
// so each name costs the same however deep the path (a path given whole
// to lstat is walked again from the root for each of its parents). Below
// a directory that cannot be opened so (one that may be searched but not
// read, off Linux, where there is no O_PATH), names are looked up by
// their whole path (lstat), which follows no symlink at the end.
type DirView string

// Lookup implements View.
func (root DirView) Lookup(p string) (Kind, bool) {
	if p == "" {
		var st unix.Stat_t
		if unix.Lstat(string(root), &st) != nil {
			return Ignored, false
		}
		return kindOfMode(uint32(st.Mode)), true
	}
	at, k, ok := root.walk(p)
	if !ok || at != len(p) {
		return Ignored, false
	}
	return k, true
}

// firstNonDir implements parentWalker: one walk down p.
func (root DirView) firstNonDir(p string) (string, Kind, bool) {
	at, k, ok := root.walk(p)
	if !ok || k == Dir {
		return "", Ignored, false
	}
	return p[:at], k, true
}

// walk looks up the names of the clean path p from the root down to the
// first that is missing (ok false), not a directory, or p itself: it
// returns where that name ends in p and its kind.
func (root DirView) walk(p string) (end int, k Kind, ok bool) {
	dir, err := unix.Open(string(root), dirSearch|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.EACCES {
		return root.lstatWalk(p, 0)
	}
	if err != nil {
		return 0, Ignored, false
	}
	defer func() { unix.Close(dir) }()
	for {
		name, _, more := strings.Cut(p[end:], "/")
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			return 0, Ignored, false
		}
		end += len(name)
		if k = kindOfMode(uint32(st.Mode)); !more || k != Dir {
			return end, k, true
		}
		// SearchOnly (O_PATH on Linux): a directory we may search but not read (mode 0311,
		// say) is opened too, and fstatat below it needs only search.
		next, err := unix.Openat(dir, name, dirSearch|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.EACCES {
			// Off Linux SearchOnly is O_RDONLY, which such a directory
			// refuses; taken for missing, a symlink below it went unseen
			// and was written through. What is below it is looked up by
			// path instead.
			return root.lstatWalk(p, end+1)
		}
		if err != nil {
			return 0, Ignored, false
		}
		unix.Close(dir)
		dir = next
		end++ // the slash
	}
}

// dirSearch opens the directories of walk: SearchOnly, which tests set to
// O_RDONLY, as it is off Linux.
var dirSearch = storefs.SearchOnly

// lstatWalk is walk from the name of p that starts at start on, each
// looked up by its whole path (lstat follows the directories above it,
// which walk saw as directories).
func (root DirView) lstatWalk(p string, start int) (int, Kind, bool) {
	for {
		name, _, more := strings.Cut(p[start:], "/")
		end := start + len(name)
		var st unix.Stat_t
		if unix.Lstat(string(root)+"/"+p[:end], &st) != nil {
			return 0, Ignored, false
		}
		if k := kindOfMode(uint32(st.Mode)); !more || k != Dir {
			return end, k, true
		}
		start = end + 1
	}
}

func kindOfMode(m uint32) Kind {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return Dir
	case unix.S_IFLNK:
		return Symlink
	case unix.S_IFCHR:
		return Char
	case unix.S_IFBLK:
		return Block
	case unix.S_IFIFO:
		return Fifo
	}
	return Regular
}
