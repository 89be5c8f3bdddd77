package cli

import (
	"errors"
	"io"
	"os"
)

// stdio returns the process's streams for a tool: standard input or
// output closed when it started (see closedAtStart) fails on the first
// read or write, with an error that says so, instead of reading nothing
// from /dev/null or writing the tool's output there and exiting 0. A
// tool that never touches it (its output goes to -o FILE) runs as usual.
func stdio() *IO {
	o := &IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if closedAtStart(0) {
		o.Stdin = closedStream{errors.New("stdin is closed")}
	}
	if closedAtStart(1) {
		o.Stdout = closedStream{errors.New("stdout is closed")}
	}
	return o
}

// closedStream is a stream that was closed: every read and write fails.
type closedStream struct{ err error }

func (c closedStream) Read([]byte) (int, error)  { return 0, c.err }
func (c closedStream) Write([]byte) (int, error) { return 0, c.err }

var _ io.ReadWriter = closedStream{}
