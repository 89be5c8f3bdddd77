package kcopy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
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
	if out != nil && in != nil {
		if err := flushChain(dst); err != nil {
			return 0, err
		}
		written, handled, err := kernelCopy(out, in, n, append(outChecks, inChecks...)...)
		if errors.Is(err, unix.EPIPE) {
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
	return out != nil && in != nil
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

// kernelCopy has the kernel copy n bytes from src to dst, from their current
// offsets, asking checks between calls. handled is false, and nothing was
// copied, when it cannot: neither end is a pipe, and they are not two
// regular files copy_file_range accepts. A src that ends sooner is not an
// error: written tells.
func kernelCopy(dst, src syscall.Conn, n int64, checks ...checker) (written int64, handled bool, err error) {
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var srcWait func() error
	if p, ok := src.(Polled); ok && p.Polled() {
		srcWait = func() error { return waitReadable(sc) }
	}
	// Control holds each descriptor open for the length of the copy.
	cerr := dc.Control(func(dfd uintptr) {
		cerr := sc.Control(func(sfd uintptr) {
			written, handled, err = copyFD(int(dfd), int(sfd), n, checks, srcWait)
		})
		if cerr != nil && err == nil {
			err = cerr
		}
	})
	if cerr != nil && err == nil {
		handled, err = written > 0, cerr
	}
	return written, handled, err
}

// chunk bounds one kernel call, so that checks (a cancelled context) are
// seen within a few milliseconds.
const chunk = 8 << 20

func copyFD(dfd, sfd int, n int64, checks []checker, srcWait func() error) (written int64, handled bool, err error) {
	var dst, src unix.Stat_t
	if unix.Fstat(dfd, &dst) != nil || unix.Fstat(sfd, &src) != nil {
		return 0, false, nil
	}
	dpipe, spipe := isPipe(&dst), isPipe(&src)
	if !dpipe && !spipe && !(isRegular(&dst) && isRegular(&src)) {
		return 0, false, nil
	}
	dflags, derr := unix.FcntlInt(uintptr(dfd), unix.F_GETFL, 0)
	sflags, serr := unix.FcntlInt(uintptr(sfd), unix.F_GETFL, 0)
	if derr != nil || serr != nil || dflags&unix.O_APPEND != 0 {
		// Neither call writes to a file opened for appending.
		return 0, false, nil
	}
	// A descriptor in non-blocking mode (a pipe Go made, stdin read
	// through the poller, or one shared with a program that set it)
	// makes a call fail with EAGAIN rather than wait: wait waits then.
	// Either end's mode makes splice wait on neither (the kernel takes
	// it as SPLICE_F_NONBLOCK), so both pipes are waited for: waiting
	// only for a readable source while the output was full spun.
	var waits []unix.PollFd
	if (sflags|dflags)&unix.O_NONBLOCK != 0 {
		if spipe {
			waits = append(waits, unix.PollFd{Fd: int32(sfd), Events: unix.POLLIN})
		}
		if dpipe {
			waits = append(waits, unix.PollFd{Fd: int32(dfd), Events: unix.POLLOUT})
		}
	}
	for written < n {
		for _, c := range checks {
			if err := c.Err(); err != nil {
				return written, true, err
			}
		}
		ask := int(min(n-written, chunk))
		var k int
		if dpipe || spipe {
			// Splice's count is an int64 on 64-bit architectures
			// and an int on 32-bit ones: int() takes either.
			ks, e := unix.Splice(sfd, nil, dfd, nil, ask, unix.SPLICE_F_MOVE)
			k, err = int(ks), e
		} else {
			k, err = unix.CopyFileRange(sfd, nil, dfd, nil, ask, 0)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := waitEither(waits, srcWait, spipe, dpipe, dfd); err != nil {
				for _, c := range checks {
					if cerr := c.Err(); cerr != nil {
						return written, true, cerr
					}
				}
				return written, true, err
			}
			continue
		case err != nil && written == 0 && fallback(err):
			// The kernel refused these two (files on filesystems
			// without copy_file_range, a device without splice):
			// nothing is copied.
			return 0, false, nil
		case err != nil:
			return written, true, fmt.Errorf("%s: %w", callName(dpipe || spipe), err)
		case k == 0:
			return written, true, nil
		}
		written += int64(k)
	}
	return written, true, nil
}

func callName(splice bool) string {
	if splice {
		return "splice"
	}
	return "copy_file_range"
}

// fallback reports the copy_file_range errors that mean "not between
// these files" (Go's internal/poll treats the same ones so).
func fallback(err error) bool {
	return errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EIO)
}

func isPipe(st *unix.Stat_t) bool    { return st.Mode&unix.S_IFMT == unix.S_IFIFO }
func isRegular(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

// wait blocks until each of the non-blocking pipes fds is ready (the
// source readable, the output writable, or either closed), or for a tenth
// of a second, so that the copy's checks are asked again.
func wait(fds []unix.PollFd) error {
	if len(fds) == 0 {
		// EAGAIN from descriptors that were blocking when the copy began
		// (another program changed their mode): give them a moment.
		time.Sleep(time.Millisecond)
		return nil
	}
	pending := slices.Clone(fds)
	for len(pending) > 0 {
		n, err := unix.Poll(pending, 100)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case n == 0:
			return nil
		}
		pending = slices.DeleteFunc(pending, func(p unix.PollFd) bool { return p.Revents != 0 })
	}
	return nil
}

// A Polled source's descriptor is non-blocking and registered with the
// runtime's poller when Polled says so: its SyscallConn's Read waits for
// it without holding a thread in a system call (stdin read through the
// poller, imgkit/cli).
type Polled interface{ Polled() bool }

// waitEither waits after splice said EAGAIN: for the source through the
// runtime's poller (srcWait) when the source is what is not ready, else
// with poll for both pipes (wait). With srcWait the goroutine parks and
// its processor idles, or runs other goroutines: a thread blocked in poll
// holds its processor in a system call, which the runtime's monitor hands
// to another thread after 20 microseconds, waking up every 20
// microseconds meanwhile (manifest-gen, copying the layers from
// layer-pack, waited so at most of its writer's blocks).
func waitEither(waits []unix.PollFd, srcWait func() error, spipe, dpipe bool, dfd int) error {
	if testHookWait != nil {
		testHookWait()
	}
	if srcWait == nil || !spipe || dpipe && !writable(dfd) {
		return wait(waits)
	}
	return srcWait()
}

// testHookWait, when set (by tests), runs when a kernel call said EAGAIN,
// before the copy waits.
var testHookWait func()

// writable says whether the pipe dfd has room, without waiting.
func writable(dfd int) bool { return ready(dfd, unix.POLLOUT) }

// ready says whether fd is ready for events (or closed at its other end,
// or failing: the next call tells), without waiting.
func ready(fd int, events int16) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		n, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			return err == nil && n == 1 && fds[0].Revents != 0
		}
	}
}

// waitReadable waits through the runtime's poller until the descriptor of
// sc is readable (or at its end, or its read deadline passed). Read first
// clears what the poller recorded of the descriptor and only then calls
// its function, which asks the descriptor whether it is readable already:
// data that came before Read began (while the splice that said EAGAIN
// returned) is seen so, and any after it wakes the wait. Waiting at once
// lost the first: the poller, edge-triggered, says nothing more until the
// next change, and a copy from a pipe that its writer had filled, or
// written its last block to before waiting for something else, waited
// for ever (layer-pack's writer with this wait on its output hung so).
func waitReadable(sc syscall.RawConn) error {
	asked := false
	return sc.Read(func(fd uintptr) bool {
		if asked {
			return true
		}
		asked = true
		return ready(int(fd), unix.POLLIN)
	})
}
