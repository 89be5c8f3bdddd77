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

// stdinFor returns what a tool reads as its stdin: os.Stdin, or, when it
// is a pipe, a reader of the same pipe whose reads end with ctx's error
// once ctx is cancelled. A read of os.Stdin waits in the kernel, so a
// tool whose writer stalled (neither writing nor closing) saw a SIGTERM
// only when the read returned, which could be never.
//
// The pipe is opened again through /proc/self/fd/0: a file description
// of the tool's own, which it may put in non-blocking mode and read
// through the runtime's poller, whose read deadline ctx's cancellation
// sets. O_NONBLOCK on fd 0's description itself would reach every
// process sharing it (the shell that started the tool, a program after
// it in a script), which may not expect it. The pipe's end of file is
// unchanged: it comes when every writer has closed, whoever reads. It
// costs up to three descriptors (the pipe's and, if the tool had none
// yet, the poller's two), taken at the first read.
//
// A socket or a terminal cannot be opened again so (and a regular file
// never stalls): the tool reads them as they are, and a SIGTERM waits
// for such a read to return (a second ^C still ends the tool).
func stdinFor(ctx context.Context) io.Reader {
	var st unix.Stat_t
	if unix.Fstat(0, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return os.Stdin
	}
	flags, err := unix.FcntlInt(0, unix.F_GETFL, 0)
	if err != nil || flags&unix.O_ACCMODE == unix.O_WRONLY {
		return os.Stdin
	}
	return &pipeStdin{ctx: ctx, dev: uint64(st.Dev), ino: st.Ino} // Dev is 32 bits on mips
}

// pipeStdin is stdin read through a descriptor of the tool's own (see
// stdinFor), opened at the first read: a tool that reads no stdin spends
// no descriptor on it (nor the poller's two), which counts under a low
// limit on open files. Where it cannot be opened (that limit reached),
// fd 0 is read as it is.
type pipeStdin struct {
	ctx      context.Context
	dev, ino uint64
	once     sync.Once
	f        *os.File
}

func (p *pipeStdin) file() *os.File {
	p.once.Do(func() {
		p.f = os.Stdin
		fd, err := unix.Open("/proc/self/fd/0", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || uint64(st.Dev) != p.dev || st.Ino != p.ino {
			unix.Close(fd)
			return
		}
		// A non-blocking descriptor makes a File read through the poller.
		f := os.NewFile(uintptr(fd), "/dev/stdin")
		cancelReads(p.ctx, f)
		p.f = f
	})
	return p.f
}

// Read reads the pipe; a read the cancellation ended fails with ctx's
// error, which the tool reports as an interruption.
func (p *pipeStdin) Read(b []byte) (int, error) {
	n, err := p.file().Read(b)
	return n, cancelled(p.ctx, err)
}

// cancelReads makes f's reads, which go through the runtime's poller,
// end once ctx is cancelled (a read deadline in the past); stop undoes
// it. cancelled then tells such an end from a real deadline.
func cancelReads(ctx context.Context, f *os.File) (stop func() bool) {
	return context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
}

// cancelled turns the deadline cancelReads set into ctx's error, which
// the tool reports as an interruption.
func cancelled(ctx context.Context, err error) error {
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// SyscallConn and Err let kcopy.CopyN splice from the pipe: it waits for
// the non-blocking source (through the runtime's poller: Polled) and asks
// Err between calls.
func (p *pipeStdin) SyscallConn() (syscall.RawConn, error) { return p.file().SyscallConn() }
func (p *pipeStdin) Err() error                            { return p.ctx.Err() }

// Polled tells kcopy that the pipe's SyscallConn waits through the
// runtime's poller: it is the tool's own non-blocking descriptor.
func (p *pipeStdin) Polled() bool { return p.file() != os.Stdin }
