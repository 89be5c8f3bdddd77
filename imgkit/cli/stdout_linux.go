package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"

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
// stalls, and a FIFO whose reader went already cannot be opened), nor
// can a pipe where /proc is not mounted (a sandbox, a chroot) or one
// another user made (the tool run under another uid: EACCES): the tool
// writes fd 1 as it is, and a SIGTERM waits for a stalled write there.
func stdoutFor(ctx context.Context) io.Writer {
	p, ok := pipeOn(1, unix.O_WRONLY)
	if !ok {
		return os.Stdout
	}
	return &pipeStdout{ownPipe{ctx: ctx, pipe: p, mode: unix.O_WRONLY, std: os.Stdout}}
}

// pipeStdout is stdout written through a descriptor of the tool's own
// (see stdoutFor).
type pipeStdout struct{ ownPipe }

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

// Fd is fd 1, the same pipe: for questions of the pipe (GrowPipe, a
// terminal's check), never to write. The File's own Fd would put it
// back in blocking mode.
func (p *pipeStdout) Fd() uintptr { return os.Stdout.Fd() }

func (*pipeStdout) isStdout() {}
