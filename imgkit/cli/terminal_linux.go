package cli

import (
	"io"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a file of this process that is a
// terminal (a character device answering TCGETS; /dev/null is not one).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
