package cli

import "golang.org/x/sys/unix"

// closedAtStart reports whether descriptor fd (1 or 2) was closed when
// the process started (`tool >&-`). Go's runtime then opens /dev/null on
// it, so that no file the tool opens takes its number; a tool that wrote
// an image to its standard output wrote it there, and exited 0. The
// runtime opens it read-write, where a shell's >/dev/null or </dev/null
// opens it write-only: /dev/null open read-write on 1 is taken for a
// closed stream (a caller that passes `1<>/dev/null` on
// purpose would have it refused; redirect one way instead).
func closedAtStart(fd int) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		return false
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE == unix.O_RDWR
}
