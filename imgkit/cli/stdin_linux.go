package cli

import (
	"context"
	"io"
	"os"
	"strconv"
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
	p, ok := pipeOn(0, unix.O_RDONLY)
	if !ok {
		return os.Stdin
	}
	return &pipeStdin{ownPipe{ctx: ctx, pipe: p, mode: unix.O_RDONLY, std: os.Stdin}}
}

// pipe is the pipe a standard stream (fd) was found to be at the start.
type pipe struct {
	fd       int
	dev, ino uint64
}

// pipeOn returns the pipe on fd, when fd is a pipe (or a FIFO) open for
// mode (O_RDONLY or O_WRONLY) among others.
func pipeOn(fd, mode int) (pipe, bool) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return pipe{}, false
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if acc := flags & unix.O_ACCMODE; err != nil || acc != mode && acc != unix.O_RDWR {
		return pipe{}, false
	}
	return pipe{fd: fd, dev: uint64(st.Dev), ino: st.Ino}, true // Dev is 32 bits on mips
}

// reopen opens the pipe again through /proc/self/fd, for mode, as a
// description of the tool's own, non-blocking: a File the runtime's
// poller waits for (named name). It returns nil where it cannot (the
// limit on open files, a FIFO whose other end went, another file there
// now, a poller that does not take it).
func (p pipe) reopen(mode int, name string) *os.File {
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(p.fd), mode|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || uint64(st.Dev) != p.dev || st.Ino != p.ino {
		unix.Close(fd)
		return nil
	}
	// A non-blocking descriptor makes a File read and write through the
	// poller.
	f := os.NewFile(uintptr(fd), name)
	if f.SetDeadline(time.Time{}) != nil {
		f.Close()
		return nil
	}
	return f
}

// ownPipe is a standard stream's pipe used through a descriptor of the
// tool's own (see stdinFor, stdoutFor), opened at the first use: a tool
// that does not use the stream spends no descriptor on it (nor the
// poller's two), which counts under a low limit on open files. Where it
// cannot be opened (that limit reached), the stream is used as it is.
type ownPipe struct {
	ctx  context.Context
	pipe pipe
	mode int      // O_RDONLY or O_WRONLY
	std  *os.File // os.Stdin or os.Stdout
	once sync.Once
	f    *os.File
}

func (p *ownPipe) file() *os.File {
	p.once.Do(func() {
		p.f = p.std
		if f := p.pipe.reopen(p.mode, p.std.Name()); f != nil {
			cancelIO(p.ctx, f)
			p.f = f
		}
	})
	return p.f
}

// SyscallConn and Err let kcopy.CopyN splice from or into the pipe: it
// waits for the non-blocking pipe and asks Err between calls.
func (p *ownPipe) SyscallConn() (syscall.RawConn, error) { return p.file().SyscallConn() }
func (p *ownPipe) Err() error                            { return p.ctx.Err() }

// pipeStdin is stdin read through a descriptor of the tool's own (see
// stdinFor).
type pipeStdin struct{ ownPipe }

// Read reads the pipe; a read the cancellation ended fails with ctx's
// error, which the tool reports as an interruption.
func (p *pipeStdin) Read(b []byte) (int, error) {
	n, err := p.file().Read(b)
	return n, cancelled(p.ctx, err)
}

// cancelIO makes f's reads and writes, which go through the runtime's
// poller, end once ctx is cancelled (a deadline in the past); stop undoes
// it. cancelled then tells such an end from a real deadline.
func cancelIO(ctx context.Context, f *os.File) (stop func() bool) {
	return context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })
}

// Polled tells kcopy that the pipe's SyscallConn waits through the
// runtime's poller (not with poll(2)): it is the tool's own non-blocking
// descriptor.
func (p *pipeStdin) Polled() bool { return p.file() != os.Stdin }
