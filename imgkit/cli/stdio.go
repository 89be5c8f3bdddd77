package cli

import (
	"errors"
	"os"
)

// errStdoutClosed is what a write to a stdout closed at the start fails
// with.
var errStdoutClosed = errors.New("stdout is closed")

// closedErrors says which standard stream was closed, by descriptor.
var closedErrors = map[int]error{1: errStdoutClosed, 2: errors.New("stderr is closed")}

// stdio returns the process's streams for a tool. A standard output
// closed when the tool started (see closedAtStart) fails on the first
// write, with an error that says so, instead of taking the tool's output
// (an image) to the /dev/null Go's runtime put there, exit status 0. A
// tool that never writes it (its output goes to -o FILE) runs as usual.
//
// Standard input is left as it is: Nix gives a builder /dev/null opened
// read-write as its stdin, as the runtime does, so "closed" cannot be told
// there from what Nix meant; read, it is empty, as /dev/null is.
func stdio() *IO {
	o := &IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if closedAtStart(1) {
		o.Stdout = closedWriter{}
	}
	return o
}

// closedWriter is a stdout that was closed: every write fails.
type closedWriter struct{}

func (closedWriter) Write([]byte) (int, error) { return 0, errStdoutClosed }
