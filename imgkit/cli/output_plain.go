package cli

import (
	"io/fs"
	"os"
)

// openInPlacePlain is os.OpenFile of an output written in place (fi is
// its Stat), a regular one truncated: blocking, so that a FIFO waits for
// its reader in open(2) and a cancellation does not end that wait. It is
// openInPlace off Linux.
func openInPlacePlain(name string, fi fs.FileInfo) (*os.File, error) {
	flags := os.O_WRONLY
	if fi.Mode().IsRegular() {
		flags |= os.O_TRUNC
	}
	return os.OpenFile(name, flags, 0)
}
