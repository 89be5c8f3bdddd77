package cli

import (
	"io"
	"os"
)

// IsStdout reports whether w is the process's stdout as Process gives it
// to a tool (os.Stdout, or the pipe stdoutFor opens again): a broken pipe
// there ends the tool with SIGPIPE.
func IsStdout(w io.Writer) bool {
	_, ok := w.(interface{ isStdout() })
	return ok || w == io.Writer(os.Stdout)
}
