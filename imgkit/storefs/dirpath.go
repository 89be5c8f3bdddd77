package storefs

import (
	"io/fs"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// A DirPath is the directories of a path below an open base directory,
// as a depth-first walk goes down and back up: each is opened relative
// to its parent without following a symlink. It keeps at most a window
// of them open, the deepest, however deep the path: a tree thousands of
// directories deep would otherwise need a descriptor per level, and fail
// with EMFILE under a CI runner's or a Nix builder's limit. A directory it
// closed records its identity (device and inode) first; when the walk
// comes back up to it, the path is opened again from the base, component
// by component with O_NOFOLLOW, and each directory must be the one it
// closed, or the open fails with ErrReplaced: reopening never follows a
// symlink, nor leads into another directory moved in its place. (Going
// back up one level, it opens ".." of the directory it leaves, which is
// no symlink, with the same check; see Pop.) A path no deeper than the
// window is never reopened. It is not safe for
// concurrent use.
type DirPath struct {
	base   int
	flags  int
	window int
	dirs   []pathDir
	low    int // dirs[:low] are closed, with their identity recorded; dirs[low:] are open
}

type pathDir struct {
	name     string
	fd       int
	dev, ino uint64
}

// NewDirPath returns an empty DirPath below the open directory base,
// which stays the caller's; flags are the open(2) flags of its
// directories (O_RDONLY to list them, O_PATH to open what they hold).
func NewDirPath(base, flags int) *DirPath {
	return &DirPath{base: base, flags: flags, window: dirWindow()}
}

// dirWindow is how many directories a DirPath keeps open: 32, or fewer
// under a low limit on open descriptors (a 64th of it, at least 2), since
// several walks run at once (a pack's measure, prefetch, hashing and
// writing passes). Store trees are rarely a dozen directories deep, so
// the common walk never reopens one. It is read once, after package os
// raised the soft limit to the hard one.
var dirWindow = sync.OnceValue(func() int {
	limit, ok := OpenFileLimit()
	if !ok {
		return 2
	}
	return int(min(max(limit/64, 2), 32))
})

// WindowFds is how many descriptors a DirPath holds at most, for a tool
// that runs several walks at once to bound them (FitJobs).
func WindowFds() int { return dirWindow() }

// Len is the number of directories on the path.
func (p *DirPath) Len() int { return len(p.dirs) }

// Fd returns a descriptor of the deepest directory (the base when the
// path is empty), valid until the next Push, Pop or Close. Its errors are
// those of reopening the path (see DirPath), *fs.PathError naming the
// directory that could not be opened by its path below the base.
func (p *DirPath) Fd() (int, error) {
	n := len(p.dirs)
	switch {
	case n == 0:
		return p.base, nil
	case n > p.low:
		return p.dirs[n-1].fd, nil
	}
	return p.reopen()
}

// Push opens the directory name of the deepest one, without following a
// symlink (ELOOP; ENOTDIR for another file), and makes it the deepest;
// with ino non-zero, it must be that inode (ErrReplaced). Errors are
// *fs.PathError naming the directory by its path below the base.
func (p *DirPath) Push(name string, ino uint64) error {
	parent, err := p.Fd()
	if err != nil {
		return err
	}
	fd, err := openSameDir(parent, name, p.flags, anyDev, ino)
	if err != nil {
		return &fs.PathError{Op: "open", Path: p.rel(len(p.dirs), name), Err: err}
	}
	p.dirs = append(p.dirs, pathDir{name: name, fd: fd})
	if len(p.dirs)-p.low > p.window {
		p.evict()
	}
	return nil
}

// evict closes the shallowest open directory, recording its identity
// first; one fstat fails only for a bad descriptor, and then it stays
// open.
func (p *DirPath) evict() {
	d := &p.dirs[p.low]
	var st unix.Stat_t
	if unix.Fstat(d.fd, &st) != nil {
		return
	}
	d.dev, d.ino = uint64(st.Dev), st.Ino
	unix.Close(d.fd)
	d.fd = -1
	p.low++
}

// Pop closes the deepest directory and leaves the path without it. When
// it was the only one open, its parent is opened as its ".." first, which
// must be the directory closed there (device and inode), as reopen
// would; otherwise the parent is left closed for reopen, which names
// what changed. So a walk back up a deep path opens each directory once
// more, not the whole path again for each window of it.
func (p *DirPath) Pop() {
	n := len(p.dirs) - 1
	if n >= p.low {
		if n == p.low && n > 0 {
			p.climb(n)
		}
		unix.Close(p.dirs[n].fd)
	}
	p.dirs = p.dirs[:n]
	p.low = min(p.low, n)
}

// climb opens the closed parent of the open n-th directory by "..".
func (p *DirPath) climb(n int) {
	up := &p.dirs[n-1]
	if fd, err := openSameDir(p.dirs[n].fd, "..", p.flags, up.dev, up.ino); err == nil {
		up.fd = fd
		p.low = n - 1
	}
}

// Truncate pops the directories past the n-th.
func (p *DirPath) Truncate(n int) {
	for len(p.dirs) > n {
		p.Pop()
	}
}

// Close closes the directories the path holds open, and empties it.
func (p *DirPath) Close() {
	for _, d := range p.dirs[p.low:] {
		unix.Close(d.fd)
	}
	p.dirs, p.low = p.dirs[:0], 0
}

// reopen opens the path again from the base when none of it is open
// (every directory was closed by evict), keeping the deepest window of
// it open, and returns the deepest.
func (p *DirPath) reopen() (int, error) {
	keep := max(0, len(p.dirs)-p.window)
	parent := p.base
	for i := range p.dirs {
		d := &p.dirs[i]
		fd, err := openSameDir(parent, d.name, p.flags, d.dev, d.ino)
		if i > 0 && i-1 < keep {
			unix.Close(parent)
		}
		if err != nil {
			for j := keep; j < i; j++ {
				unix.Close(p.dirs[j].fd)
				p.dirs[j].fd = -1
			}
			return -1, &fs.PathError{Op: "open", Path: p.rel(i, d.name), Err: err}
		}
		if i >= keep {
			d.fd = fd
		}
		parent = fd
	}
	p.low = keep
	return parent, nil
}

// rel is the path below the base of name in the i-th directory's parent.
func (p *DirPath) rel(i int, name string) string {
	var b strings.Builder
	for _, d := range p.dirs[:i] {
		b.WriteString(d.name)
		b.WriteByte('/')
	}
	b.WriteString(name)
	return b.String()
}

// ReadDirNames lists the open directory fd ("." and ".." left out) with
// getdents directly: os.Open would also set the descriptor non-blocking
// and try to register it with the poller, two system calls per directory
// for nothing, and would own the descriptor.
func ReadDirNames(fd int) ([]string, error) {
	buf := direntBuf.Get().(*[]byte)
	defer direntBuf.Put(buf)
	var names []string
	for {
		n, err := unix.ReadDirent(fd, *buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent((*buf)[:n], -1, names)
	}
}

var direntBuf = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
