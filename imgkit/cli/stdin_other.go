//go:build !linux

package cli

import (
	"context"
	"io"
	"os"
)

// stdinFor returns os.Stdin: reopening a pipe to read it through the
// poller is done on Linux only.
func stdinFor(context.Context) io.Reader { return os.Stdin }
