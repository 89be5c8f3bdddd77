//go:build !linux

package cli

import (
	"context"
	"io"
	"os"
)

// stdoutFor returns os.Stdout: reopening a pipe to write it through the
// poller is done on Linux only.
func stdoutFor(context.Context) io.Writer { return os.Stdout }
