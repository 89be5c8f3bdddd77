package main

// A SIGTERM or ^C cancels the command's context (imgkit/cli), and the
// tool must then stop within a moment, with one line and no output: a
// 1,000,000-path graph spends seconds in each of the phases below, so
// each looks at the context's done channel as it goes rather than only
// between phases. A look is a non-blocking receive, a few nanoseconds:
// one every pollEvery items (nodes, references, rounds) costs nothing
// measurable. A phase that sees the channel closed returns at once with
// whatever it has, and rank, newGraph and autoLayer's callers see the
// context's error and drop it.
const pollEvery = 4096

// polled, when not nil (tests), is called at every look with the phase's
// name and channel, before the channel is read: it may cancel the
// context there, or wait for it to be cancelled, and counting its calls
// after that bounds the work a phase does once cancelled.
var polled func(phase string, done <-chan struct{})

// stopped reports whether done is closed; phase names the loop asking.
func stopped(done <-chan struct{}, phase string) bool {
	if polled != nil {
		polled(phase, done)
	}
	return cancelled(done)
}

// cancelled reports whether done is closed: a look between phases, not one
// of a phase's (no hook).
func cancelled(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
