package graphplan

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
)

// A large graph in a regular file is mapped rather than read: reading
// 600 MB (1,000,000 paths) into memory zeroes and copies every page of
// it, and keeps all of it resident until the decoding ends. The decoder
// copies what it keeps (interned strings), so nothing outlives the
// mapping, and it drops the pages it has passed (MADV_DONTNEED: they
// stay in the page cache, out of the process's memory).
//
// A file cut short under the mapping faults on the pages past its new end
// (SIGBUS). The decoding runs with debug.SetPanicOnFault, in every
// goroutine that reads the mapping, so that the fault is a panic it
// recovers as an error wrapping errdefs.ErrChanged, never a crash; a file
// whose size changed by the end is refused the same way.

// mapMin is the least size of a file worth mapping.
const mapMin = 1 << 20

// mappable is a regular file as ReadGraph's reader can be: an *os.File,
// or a type embedding one.
type mappable interface {
	Stat() (fs.FileInfo, error)
	Seek(offset int64, whence int) (int64, error)
	SyscallConn() (syscall.RawConn, error)
}

// mapping is a read-only map of a file from an offset to its end.
type mapping struct {
	f    mappable
	all  []byte // the whole map, from the file's start
	data []byte // the document: all from the offset
	size int64  // the file's size when mapped
}

// mapFile maps r from its offset to its end when r is a regular file of at
// least min bytes there; ok is false when it is not, or cannot be mapped.
func mapFile(r io.Reader, min int64) (m *mapping, ok bool) {
	f, ok := r.(mappable)
	if !ok {
		return nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || fi.Size()-off < min || fi.Size() != int64(int(fi.Size())) {
		return nil, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false
	}
	var all []byte
	var merr error
	if err := rc.Control(func(fd uintptr) {
		all, merr = unix.Mmap(int(fd), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_PRIVATE)
	}); err != nil || merr != nil {
		return nil, false
	}
	return &mapping{f: f, all: all, data: all[off:], size: fi.Size()}, true
}

// close unmaps the file and leaves its offset at the end, where reading
// it would have.
func (m *mapping) close() {
	unix.Munmap(m.all)
	m.f.Seek(0, io.SeekEnd)
}

// guard runs f, turning a fault on the mapping into an error; a file
// whose size changed meanwhile is an error too.
func (m *mapping) guard(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			if !m.faulted(v) {
				panic(v)
			}
			err = fmt.Errorf("reading graph: the file was cut short: %w", errdefs.ErrChanged)
		}
	}()
	if err := f(); err != nil {
		return err
	}
	if fi, err := m.f.Stat(); err != nil || fi.Size() != m.size {
		return fmt.Errorf("reading graph: the file's size changed: %w", errdefs.ErrChanged)
	}
	return nil
}

// faulted reports whether v, a recovered panic, is a fault on the mapping.
func (m *mapping) faulted(v any) bool {
	e, ok := v.(interface{ Addr() uintptr })
	if !ok {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(m.all)))
	return start <= e.Addr() && e.Addr() < start+uintptr(len(m.all))
}

// drop gives back the memory of the whole pages within b, a part of
// m.data: reading them again reads the file.
func (m *mapping) drop(b []byte) {
	if len(b) == 0 {
		return
	}
	page := os.Getpagesize()
	from := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(m.all))))
	to := (from + len(b)) &^ (page - 1)
	from = (from + page - 1) &^ (page - 1)
	if from < to {
		unix.Madvise(m.all[from:to], unix.MADV_DONTNEED)
	}
}
