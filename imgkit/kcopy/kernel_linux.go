package kcopy

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/internal/offlinux"
)

// userSpace, set by tests (or by the build tag of
// imgkit/internal/offlinux), makes CopyN copy as it does off Linux,
// through user space (io.CopyN), so that the tests run here check that
// path too.
var userSpace = offlinux.Forced

// kernelCopies says whether CopyN has the kernel copy between two files:
// on Linux, unless a test asks for the other path.
func kernelCopies() bool { return !userSpace }

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
