//go:build !linux

package cli

import (
	"context"
	"io/fs"
	"os"
)

// openInPlace is os.OpenFile: writing a named pipe through the poller, so
// that a cancellation ends a stalled write, is done on Linux only.
func openInPlace(_ context.Context, name string, fi fs.FileInfo) (*os.File, error) {
	flags := os.O_WRONLY
	if fi.Mode().IsRegular() {
		flags |= os.O_TRUNC
	}
	return os.OpenFile(name, flags, 0)
}
