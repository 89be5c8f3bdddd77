package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stdoutFor returns what a tool writes as its stdout: os.Stdout, or, when
// it is a pipe (a FIFO too), a writer of the same pipe whose writes end
// with ctx's error once ctx is cancelled. A write to os.Stdout waits in
// the kernel, so a tool whose reader stalled (stopped, or a program that
// holds the pipe and never reads) saw a SIGTERM only when the write
// returned, which could be never.
//
// It is stdinFor's twin: the pipe is opened again through
// /proc/self/fd/1, a description of the tool's own, non-blocking, written
// through the runtime's poller, whose write deadline ctx's cancellation
// sets; fd 1's shared description stays as it is. What reaches the
// reader is unchanged, and so is a broken pipe: a write to it raises
// SIGPIPE as a write to fd 1 does (Go's os package does that for fd 1
// and 2 only), so a filter whose reader went away still ends quietly.
// The kernel's copies into it (kcopy.CopyN: splice) still happen: they
// wait for room with poll(2) and ask Err between calls.
//
// A socket or a terminal cannot be opened again so (a regular file never
// stalls, and a FIFO whose reader went already cannot be opened): the
// tool writes fd 1 as it is.
func stdoutFor(ctx context.Context) io.Writer {
	var st unix.Stat_t
	if unix.Fstat(1, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return os.Stdout
	}
	flags, err := unix.FcntlInt(1, unix.F_GETFL, 0)
	if err != nil || flags&unix.O_ACCMODE == unix.O_RDONLY {
		return os.Stdout
	}
	return &pipeStdout{ctx: ctx, dev: uint64(st.Dev), ino: st.Ino} // Dev is 32 bits on mips
}

// pipeStdout is stdout written through a descriptor of the tool's own
// (see stdoutFor), opened at the first use, as pipeStdin is: a tool that
// writes nothing spends no descriptor on it. Where it cannot be opened,
// fd 1 is written as it is.
type pipeStdout struct {
	ctx      context.Context
	dev, ino uint64
	once     sync.Once
	f        *os.File
}

func (p *pipeStdout) file() *os.File {
	p.once.Do(func() {
		p.f = os.Stdout
		fd, err := unix.Open("/proc/self/fd/1", unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || uint64(st.Dev) != p.dev || st.Ino != p.ino {
			unix.Close(fd)
			return
		}
		// A non-blocking descriptor makes a File write through the poller.
		f := os.NewFile(uintptr(fd), "/dev/stdout")
		if f.SetWriteDeadline(time.Time{}) != nil {
			f.Close()
			return
		}
		cancelWrites(p.ctx, f)
		p.f = f
	})
	return p.f
}

// Write writes the pipe; a write the cancellation ended fails with ctx's
// error, which the tool reports as an interruption.
func (p *pipeStdout) Write(b []byte) (int, error) {
	f := p.file()
	n, err := f.Write(b)
	if f != os.Stdout && errors.Is(err, syscall.EPIPE) {
		// What a failed write to fd 1 does (SIGPIPE, or its notice to a
		// tool that catches it): a write of one byte to a pipe without a
		// reader fails and writes nothing.
		os.Stdout.Write([]byte{0})
	}
	return n, cancelled(p.ctx, err)
}

// SyscallConn and Err let kcopy.CopyN splice into the pipe, asking Err
// between calls.
func (p *pipeStdout) SyscallConn() (syscall.RawConn, error) { return p.file().SyscallConn() }
func (p *pipeStdout) Err() error                            { return p.ctx.Err() }

// Fd is fd 1, the same pipe: for questions of the pipe (GrowPipe, a
// terminal's check), never to write. The File's own Fd would put it
// back in blocking mode.
func (p *pipeStdout) Fd() uintptr { return os.Stdout.Fd() }

// cancelWrites makes f's writes, which go through the runtime's poller,
// end once ctx is cancelled (a write deadline in the past), as
// cancelReads does for reads.
func cancelWrites(ctx context.Context, f *os.File) (stop func() bool) {
	return context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
}

func (*pipeStdout) isStdout() {}
