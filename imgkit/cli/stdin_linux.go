package cli

import (
	"context"
	"errors"
	"io"
	"os"
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
// unchanged: it comes when every writer has closed, whoever reads.
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
	fd, err := unix.Open("/proc/self/fd/0", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return os.Stdin
	}
	var again unix.Stat_t
	if unix.Fstat(fd, &again) != nil || again.Dev != st.Dev || again.Ino != st.Ino {
		unix.Close(fd)
		return os.Stdin
	}
	// A non-blocking descriptor makes a File read through the poller.
	f := os.NewFile(uintptr(fd), "/dev/stdin")
	context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	return &pipeStdin{f: f, ctx: ctx}
}

// pipeStdin is stdin read through a descriptor of the tool's own (see
// stdinFor).
type pipeStdin struct {
	f   *os.File
	ctx context.Context
}

// Read reads the pipe; a read the cancellation ended fails with ctx's
// error, which the tool reports as an interruption.
func (p *pipeStdin) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && p.ctx.Err() != nil {
		return n, p.ctx.Err()
	}
	return n, err
}

// SyscallConn and Err let kcopy.CopyN splice from the pipe: it waits for
// a non-blocking source with poll and asks Err between calls.
func (p *pipeStdin) SyscallConn() (syscall.RawConn, error) { return p.f.SyscallConn() }
func (p *pipeStdin) Err() error                            { return p.ctx.Err() }
