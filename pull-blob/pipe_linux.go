package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// widenPipe gives the pipe on stdout, when it is one, a buffer of
// copyBuffer bytes instead of 64 KiB: a megabyte written to it returns at
// once while the reader (manifest-gen) drains the last one, so hashing a
// layer overlaps the reader's work instead of alternating with it. No
// output byte changes; a refusal (a per-user pipe limit) is harmless.
//
// layer-pack has the same helper (growPipe); both belong in imgkit/cli.
func widenPipe(w io.Writer) {
	f, ok := w.(*os.File)
	if !ok {
		return
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		_, _ = unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, copyBuffer)
	}
}
