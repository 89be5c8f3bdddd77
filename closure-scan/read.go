package main

import (
	"io"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/pagecache"
	"dockertools.dev/imgkit/storefs"
)

// Reading the files the walk found. Small files are opened relative to
// their directory, one open of it per batch, so no path is walked from the
// root per file; reads go straight to the system, without the runtime
// poller that os.File registers every file with, and without the
// scheduler's handoff where the page cache holds the bytes
// (imgkit/pagecache).

// openFlags open a file the walk saw as regular: O_NOFOLLOW and O_NONBLOCK
// keep a file replaced by a symlink or a FIFO since from being followed or
// from blocking the scan.
const openFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC

// files scans a batch of regular files of the directory dir, below the
// node's base.
func (w *worker) files(n *node, dir string, files []fileRef) error {
	dirfd, err := storefs.OpenBeneath(n.base, dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return readErr("reading", n.logical(join(dir, files[0].name)), err)
	}
	defer unix.Close(dirfd)
	for _, f := range files {
		if err := w.file(n, dirfd, dir, f); err != nil {
			return err
		}
	}
	return nil
}

func (w *worker) file(n *node, dirfd int, dir string, f fileRef) error {
	fd, err := unix.Openat(dirfd, f.name, openFlags, 0)
	if err != nil {
		return readErr("reading", n.logical(join(dir, f.name)), err)
	}
	got, err := w.scanStream(fdReader(fd), f.size)
	unix.Close(fd)
	if err != nil {
		return fileErr("reading", n.logical(join(dir, f.name)), err)
	}
	if got != f.size {
		return changed(n.logical(join(dir, f.name)), f.size, got)
	}
	w.nfiles++
	return nil
}

// chunk scans one piece of a big file, starting hashLen-1 bytes early so that
// a hash across the boundary is seen (exactly once: no window fits in the
// overlap).
func (w *worker) chunk(t task) error {
	fd, err := storefs.OpenBeneath(t.n.base, t.rel, openFlags)
	if err != nil {
		return readErr("reading", t.n.logical(t.rel), err)
	}
	defer unix.Close(fd)
	start := max(0, t.off-(hashLen-1))
	got, err := w.scanStream(&fdSection{fd: fd, off: start, end: t.end}, t.end-start)
	if err != nil {
		return fileErr("reading", t.n.logical(t.rel), err)
	}
	if got != t.end-start {
		return changed(t.n.logical(t.rel), t.size, start+got)
	}
	if t.end == t.size {
		var b [1]byte
		if m, _ := pagecache.ReadAt(fd, b[:], t.size); m > 0 {
			return changed(t.n.logical(t.rel), t.size, t.size+1)
		}
		w.nfiles++
	}
	return nil
}

// scanStream searches everything r yields and returns its length. The last
// hashLen-1 bytes of each read are kept in front of the next, so a hash
// split between two reads is found. A read shorter than asked for that
// ends at size, the length the walk saw, is taken as the end: that spares
// one more read per file, which would only find the end.
func (w *worker) scanStream(r io.Reader, size int64) (int64, error) {
	buf := w.buf
	carry := 0
	var total int64
	for {
		m, err := r.Read(buf[carry:])
		if m > 0 {
			total += int64(m)
			w.nbytes += int64(m)
			end := carry + m
			if err := search(buf[:end], w.match); err != nil {
				return total, err
			}
			if total == size && end < len(buf) {
				return total, nil
			}
			carry = min(end, hashLen-1)
			copy(buf, buf[end-carry:end])
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// fdReader reads a file descriptor from its offset.
type fdReader int

func (fd fdReader) Read(b []byte) (int, error) {
	m, err := pagecache.Read(int(fd), b)
	switch {
	case err != nil:
		return 0, err
	case m == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return m, nil
}

// fdSection reads a file descriptor from off to end, at offsets.
type fdSection struct {
	fd       int
	off, end int64
}

func (s *fdSection) Read(b []byte) (int, error) {
	if s.off >= s.end {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), s.end-s.off)]
	m, err := pagecache.ReadAt(s.fd, b, s.off)
	switch {
	case err != nil:
		return 0, err
	case m == 0 && len(b) > 0:
		return 0, io.EOF
	}
	s.off += int64(m)
	return m, nil
}
