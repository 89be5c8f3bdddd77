package cli

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

// BinaryStdin is BinaryStdout's twin for input: StdinBinary names what
// this command line would read from stdin (a tar, a layer stream), ""
// when it reads text or nothing there. Run refuses to start such a run
// when stdin is a terminal, as gzip -d refuses: the input left out by
// mistake (tar-merge --flatten -o rootfs.tar) waited for ever, silently,
// for bytes no one types.
type BinaryStdin interface {
	StdinBinary() (what, hint string)
}

// refuseTerminal is the usage error of a BinaryStdout command whose
// stdout is a terminal, or of a BinaryStdin one whose stdin is; nil
// otherwise.
func refuseTerminal(cmd Runner, o *IO) error {
	if b, ok := cmd.(BinaryStdout); ok {
		if what, hint := b.StdoutBinary(); what != "" && isTerminal(o.Stdout) {
			return Usagef("refusing to write %s to a terminal: %s", what, hint)
		}
	}
	if b, ok := cmd.(BinaryStdin); ok {
		if what, hint := b.StdinBinary(); what != "" && isTerminal(o.Stdin) {
			return Usagef("refusing to read %s from a terminal: %s", what, hint)
		}
	}
	return nil
}
