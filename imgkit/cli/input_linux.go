package cli

import (
	"context"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// OpenInput opens a file the user named as an input (a graph, a conf,
// --config, --sbom, a pipeline, a credentials file…), so that a SIGTERM
// ends the tool even when the file is a named pipe that stalls. os.Open
// of a FIFO waited in open(2) until a writer came, and its reads waited
// until the writer wrote or closed: the tool caught the signal but stayed
// blocked, and only SIGKILL (or a second ^C) ended it.
//
// The file is opened non-blocking, which for reading never waits on
// Linux. A regular file (or a directory, anything else that cannot stall)
// is put back in blocking mode and read as os.Open's would be: mmap,
// copy_file_range, ReadAt, Stat all as before. A FIFO or a character
// device the runtime's poller takes (a terminal) is read through it, and
// ctx's cancellation ends a read that waits: it fails with ctx's error,
// which the tool reports as "interrupted".
//
// A FIFO opened non-blocking reads end of file while it has no writer,
// where a blocking open waited for one: the first read (or SyscallConn)
// waits through the poller until the FIFO has data or a writer came and
// went (Linux reports POLLHUP only then, not for a FIFO no writer ever
// opened), so its end of file is still the last writer's close.
//
// Only a FIFO opened by its name waits so, as a blocking open waited: an
// anonymous pipe (a process substitution, /dev/fd/63) never waited for a
// writer, and a FIFO reached through a descriptor of the tool's own
// (/dev/fd/3, /dev/stdin, /proc/self/fd/N: the workflows pass
// credentials so) had its writer when the tool started, which may have
// written and gone: it reads end of file once its writers have closed.
//
// A file that cannot be opened non-blocking (EWOULDBLOCK: a lease held
// by another process) is opened as os.Open does, waiting.
func OpenInput(ctx context.Context, name string) (io.ReadCloser, error) {
	fd, err := openNonblock(name)
	if err == unix.EWOULDBLOCK {
		return os.Open(name)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	kind := st.Mode & unix.S_IFMT
	if kind == unix.S_IFIFO || kind == unix.S_IFCHR {
		// A non-blocking descriptor makes a File read through the poller,
		// where the poller takes it (not /dev/null or /dev/zero, which
		// never stall).
		f := os.NewFile(uintptr(fd), name)
		if f.SetReadDeadline(time.Time{}) == nil {
			p := &polledInput{f: f, ctx: ctx, fifo: kind == unix.S_IFIFO && waitsForWriter(fd, name)}
			p.stop = cancelIO(ctx, f)
			return p, nil
		}
		f.Close()
		return os.Open(name)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// waitsForWriter: fd, opened as name, is a named FIFO opened by a name
// other than a descriptor's (see OpenInput).
func waitsForWriter(fd int, name string) bool {
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) == nil && fs.Type == unix.PIPEFS_MAGIC {
		return false
	}
	return !viaProc(name)
}

func openNonblock(name string) (int, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// polledInput is a FIFO or a terminal read through the runtime's poller
// (OpenInput).
type polledInput struct {
	f    *os.File
	ctx  context.Context
	stop func() bool
	// fifo: wait for a writer before the first read (waited).
	fifo, waited bool
}

// wait waits, once, until the FIFO has data or a writer came and went.
func (p *polledInput) wait() error {
	if !p.fifo || p.waited {
		return nil
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		return err
	}
	err = rc.Read(func(fd uintptr) bool {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(pfd, 0)
			if err != unix.EINTR {
				// An error other than EINTR (none is expected) is left to
				// the read, which meets it too.
				return err != nil || n > 0
			}
		}
	})
	if err != nil {
		return cancelled(p.ctx, err)
	}
	p.waited = true
	return nil
}

func (p *polledInput) Read(b []byte) (int, error) {
	if err := p.wait(); err != nil {
		return 0, err
	}
	n, err := p.f.Read(b)
	return n, cancelled(p.ctx, err)
}

func (p *polledInput) Close() error {
	p.stop()
	return p.f.Close()
}

// Stat and Name are the file's.
func (p *polledInput) Stat() (os.FileInfo, error) { return p.f.Stat() }
func (p *polledInput) Name() string               { return p.f.Name() }

// SyscallConn, Err and Polled let kcopy.CopyN splice from the FIFO, once
// a writer came (a splice meets the same end of file a read does).
func (p *polledInput) SyscallConn() (syscall.RawConn, error) {
	if err := p.wait(); err != nil {
		return nil, err
	}
	return p.f.SyscallConn()
}
func (p *polledInput) Err() error   { return p.ctx.Err() }
func (p *polledInput) Polled() bool { return true }
