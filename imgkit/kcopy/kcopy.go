package kcopy

import (
	"bufio"
	"errors"
	"io"
	"syscall"
)

// A WriterToN copies its next n bytes to w itself: a reader that holds
// some bytes in a buffer ahead of its file writes those, then has the
// kernel copy the rest (layerstream.Layer).
type WriterToN interface {
	WriteNTo(w io.Writer, n int64) (int64, error)
}

// CopyN copies n bytes from src to dst and returns how many it copied,
// with io.EOF when src ends sooner, as io.CopyN does.
//
// When src is a WriterToN, it does the copy. Otherwise, when both ends
// resolve to a file descriptor the kernel can copy between, it does:
// an end resolves when it is a syscall.Conn (an *os.File, or a type
// embedding one), or wraps one and says so with Unwrap (a Writer, a
// compressor that passes bytes through, a reader checking a context). A
// writer met on the way with a Flush method is flushed first, so what it
// buffered comes before the copied bytes; a wrapper with an Err method (a
// context's) is asked between kernel calls, and its error stops the copy.
func CopyN(dst io.Writer, src io.Reader, n int64) (int64, error) {
	if s, ok := src.(WriterToN); ok {
		return s.WriteNTo(dst, n)
	}
	if n <= 0 {
		return 0, nil
	}
	out, outChecks := resolveWriter(dst)
	in, inChecks := resolveReader(src)
	if out != nil && in != nil && kernelCopies() {
		if err := flushChain(dst); err != nil {
			return 0, err
		}
		written, handled, err := kernelCopy(out, in, n, append(outChecks, inChecks...)...)
		if errors.Is(err, syscall.EPIPE) {
			err = brokenPipe(out, err)
		}
		if handled {
			if err == nil && written < n {
				err = io.EOF
			}
			return written, err
		}
	}
	return io.CopyN(dst, src, n)
}

// Writer is a bufio.Writer that CopyN can see through: it flushes it and
// writes to what is underneath.
type Writer struct {
	*bufio.Writer
	w io.Writer
}

// NewWriterSize returns a Writer buffering size bytes in front of w.
func NewWriterSize(w io.Writer, size int) *Writer {
	return &Writer{Writer: bufio.NewWriterSize(w, size), w: w}
}

// Unwrap returns the writer underneath; flush first.
func (w *Writer) Unwrap() io.Writer { return w.w }

type (
	writerWrapper interface{ Unwrap() io.Writer }
	readerWrapper interface{ Unwrap() io.Reader }
	flusher       interface{ Flush() error }
	checker       interface{ Err() error }
)

// Direct reports whether CopyN(w, r, n) would have the kernel copy the
// bytes (unless the kernel refuses the pair, which CopyN then copies
// through user space): both ends have a file underneath. A caller that
// would split a copy in parts for the kernel's sake (Layer.WriteNTo) asks
// first: the parts must not reach a writer whose output depends on how
// its input is cut (a compressor starts a block at each ReadFrom).
func Direct(w io.Writer, r io.Reader) bool {
	out, _ := resolveWriter(w)
	in, _ := resolveReader(r)
	return out != nil && in != nil && kernelCopies()
}

// resolveWriter finds the file under w.
func resolveWriter(w io.Writer) (syscall.Conn, []checker) {
	return resolve(w, func(v any) (any, bool) {
		u, ok := v.(writerWrapper)
		if !ok {
			return nil, false
		}
		return u.Unwrap(), true
	})
}

// resolveReader finds the file under r.
func resolveReader(r io.Reader) (syscall.Conn, []checker) {
	return resolve(r, func(v any) (any, bool) {
		u, ok := v.(readerWrapper)
		if !ok {
			return nil, false
		}
		return u.Unwrap(), true
	})
}

// resolve follows unwrap from v to a file, gathering the checkers met on
// the way; nil when the chain ends without one.
func resolve(v any, unwrap func(any) (any, bool)) (syscall.Conn, []checker) {
	var checks []checker
	for {
		if c, ok := v.(checker); ok {
			checks = append(checks, c)
		}
		if f, ok := v.(syscall.Conn); ok {
			return f, checks
		}
		var ok bool
		if v, ok = unwrap(v); !ok {
			return nil, nil
		}
	}
}

// flushChain flushes the buffers between w and its file, outermost
// first, so that what they hold comes before the copied bytes.
func flushChain(w io.Writer) error {
	for {
		u, ok := w.(writerWrapper)
		if !ok {
			return nil
		}
		if f, ok := w.(flusher); ok {
			if err := f.Flush(); err != nil {
				return err
			}
		}
		w = u.Unwrap()
	}
}

// brokenPipe reports a broken pipe met by the kernel copy as dst's own
// Write would: for stdout and stderr, Go's os package then ends the
// program with SIGPIPE, as a filter whose reader went away ends (a write
// of one byte fails, and writes nothing, when the pipe has no reader).
func brokenPipe(dst syscall.Conn, err error) error {
	if w, ok := dst.(io.Writer); ok {
		if _, werr := w.Write([]byte{0}); werr != nil {
			return werr
		}
	}
	return err
}

// A Polled source's descriptor is non-blocking and registered with the
// runtime's poller when Polled says so: its SyscallConn's Read waits for
// it without holding a thread in a system call (stdin read through the
// poller, imgkit/cli).
type Polled interface{ Polled() bool }
