package cli

import (
	"context"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openInPlace opens name, an output written in place (CreateAtomic: fi is
// its Stat), for writing, so that ctx's cancellation ends a tool stalled
// on it. os.OpenFile of a FIFO waited in open(2) until a reader came, and
// its writes waited while the reader did not read: the tool caught the
// signal but stayed blocked, and only SIGKILL ended it.
//
// The file is opened non-blocking. A FIFO no reader holds open refuses
// that (ENXIO) where a blocking open waited: it is tried again, every
// 20 ms at most, until a reader comes or ctx is cancelled. A FIFO or a
// character device the runtime's poller takes (a terminal) is written
// through it, and the cancellation ends a write that waits (a write
// deadline: the AtomicFile's Write and Run turn it into ctx's error); a
// regular file, or a device that never stalls (/dev/null), is put back in
// blocking mode and written as os.OpenFile's would be.
//
// A FIFO replaced while it was waited for (renamed over, removed and made
// again) is not the file fi describes: errReplaced, and CreateAtomic
// looks at the name again. Opened as the FIFO it was, a regular file
// there was written over in place, without O_TRUNC, and kept its old
// tail after the output.
func openInPlace(ctx context.Context, name string, fi fs.FileInfo) (*os.File, error) {
	if portable {
		return openInPlacePlain(name, fi)
	}
	flags := unix.O_WRONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if fi.Mode().IsRegular() {
		flags |= unix.O_TRUNC
	}
	pause := time.Millisecond
	for {
		fd, err := unix.Open(name, flags, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ENXIO && fi.Mode()&fs.ModeNamedPipe != 0:
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(pause):
			}
			pause = min(2*pause, 20*time.Millisecond)
			continue
		case err == unix.EWOULDBLOCK: // a lease held by another process
			return os.OpenFile(name, flags&^(unix.O_NONBLOCK|unix.O_CLOEXEC), 0)
		case err != nil:
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return pollWrites(ctx, fd, name, fi)
	}
}

// pollWrites makes a File of fd, a non-blocking descriptor opened as
// name: written through the poller, and cancelled with ctx, when it is a
// FIFO or a character device the poller takes; in blocking mode
// otherwise. It is errReplaced when fi, a FIFO's, is not fd's file.
func pollWrites(ctx context.Context, fd int, name string, fi fs.FileInfo) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if was, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode()&fs.ModeNamedPipe != 0 &&
		(uint64(st.Dev) != uint64(was.Dev) || uint64(st.Ino) != uint64(was.Ino)) {
		unix.Close(fd)
		return nil, errReplaced
	}
	f := os.NewFile(uintptr(fd), name)
	if kind := st.Mode & unix.S_IFMT; kind == unix.S_IFIFO || kind == unix.S_IFCHR {
		// A non-blocking descriptor makes a File write through the
		// poller, where the poller takes it.
		if f.SetWriteDeadline(time.Time{}) == nil {
			cancelIO(ctx, f)
			return f, nil
		}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f, nil
}
