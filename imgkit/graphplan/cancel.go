package graphplan

// A graph of 1,000,000 paths takes seconds to decode and check, and a
// tool's SIGTERM must not wait for them (ReadGraphContext): the loops
// look at the context's done channel every pollEvery nodes, a
// non-blocking receive of a few nanoseconds.
const pollEvery = 4096

// polled, when not nil (tests), is called at every look with the phase's
// name and channel, before the channel is read: it may cancel the
// context there.
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
