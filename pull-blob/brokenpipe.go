package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"dockertools.dev/imgkit/cli"
)

// A reader of stdout that goes away (manifest-gen failed, head had
// enough) ends a Unix filter quietly with SIGPIPE; Go's runtime does that
// at the first write to the broken pipe, before any deferred cleanup
// (named spools were left in $TMPDIR then; they are unlinked now,
// newSpool, and go with the process however it ends). So while it runs,
// pull-blob takes SIGPIPE as an EPIPE error, ends like on any other
// failure, and then dies of the signal as before.

// pipeWatch passes writes to w and notes a broken pipe.
type pipeWatch struct {
	w      io.Writer
	broken bool
}

func (p *pipeWatch) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.broken = true
	}
	return n, err
}

// withBrokenPipe runs f with o's stdout watched. When stdout broke, it
// dies of SIGPIPE once f has returned (and cleaned up); when SIGPIPE is
// ignored, or stdout is not the process's own, the EPIPE error is
// returned as it is.
func withBrokenPipe(o *cli.IO, f func(*cli.IO) error) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGPIPE)
	watch := &pipeWatch{w: o.Stdout}
	watched := *o
	watched.Stdout = watch
	err := f(&watched)
	signal.Stop(sig)
	if watch.broken && cli.IsStdout(o.Stdout) {
		// Go's runtime ends a process whose write to a broken stdout
		// fails, unless SIGPIPE is being caught or ignored.
		os.Stdout.Write([]byte{0})
	}
	return err
}
