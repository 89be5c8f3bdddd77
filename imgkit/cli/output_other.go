//go:build !linux

package cli

import (
	"context"
	"io/fs"
	"os"
)

// openInPlace is openInPlacePlain: writing a named pipe through the
// poller, so that a cancellation ends a stalled write, is done on Linux
// only (it reopens descriptors through /proc).
func openInPlace(_ context.Context, name string, fi fs.FileInfo) (*os.File, error) {
	return openInPlacePlain(name, fi)
}
