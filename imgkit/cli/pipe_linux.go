package cli

import (
	"io"

	"golang.org/x/sys/unix"
)

// GrowPipe gives the pipe on w, when w is a pipe of this process (stdout
// into the next filter), a buffer of size bytes instead of Linux's 64 KiB:
// a tool that writes in large blocks then returns from a block at once
// while the reader drains the previous one, so both sides work instead of
// taking turns. No output byte changes, and a refusal (the per-user pipe
// limit) is harmless, so errors are ignored.
func GrowPipe(w io.Writer, size int) {
	// An *os.File, or stdout written through the poller (stdoutFor),
	// whose Fd is fd 1's.
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return
	}
	unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, size)
}
