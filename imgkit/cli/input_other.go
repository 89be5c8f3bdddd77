//go:build !linux

package cli

import (
	"context"
	"io"
	"os"
)

// OpenInput is os.Open: reading a named pipe through the poller, so that
// a cancellation ends a stalled read, is done on Linux only.
func OpenInput(_ context.Context, name string) (io.ReadCloser, error) { return os.Open(name) }
