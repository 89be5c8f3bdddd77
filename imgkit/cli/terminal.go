package cli

import "io"

// BinaryStdout is implemented by a command whose run may write binary data
// (a tar, a layer stream) to stdout. StdoutBinary names what this command
// line would write there ("an image archive"), "" when it writes text or
// nothing there, and hint how to send it elsewhere ("give -o FILE, or
// redirect stdout").
//
// Run refuses to start such a run when stdout is a terminal, as tar and
// docker save do: a forgotten -o or redirection is a usage error before
// any input is read, not a screen of tar headers and escape sequences a
// terminal would obey. --check-flags does not ask: it writes nothing, and
// a workflow asks its steps so with its own stdout.
type BinaryStdout interface {
	StdoutBinary() (what, hint string)
}

// refuseTerminal is the usage error of a BinaryStdout command whose
// stdout is a terminal, nil otherwise.
func refuseTerminal(cmd Runner, stdout io.Writer) error {
	b, ok := cmd.(BinaryStdout)
	if !ok {
		return nil
	}
	what, hint := b.StdoutBinary()
	if what == "" || !isTerminal(stdout) {
		return nil
	}
	return Usagef("refusing to write %s to a terminal: %s", what, hint)
}
