// Package poll is how the tools' long loops look for cancellation. A
// SIGTERM or ^C cancels a tool's context (imgkit/cli), and the tool must
// then stop within a moment, with one line and no output: a graph of
// 1,000,000 paths spends seconds in each phase of its reading, indexing
// and ranking, so each phase looks at the context's done channel as it
// goes rather than only between phases. A look is a non-blocking receive,
// a few nanoseconds: one every Every items (nodes, references) costs
// nothing measurable. A phase that sees the channel closed returns at
// once with whatever it has, and its caller returns the context's error.
package poll

// Every is how many items a loop handles between looks.
const Every = 4096

// Hook, when not nil (tests only), is called at every look of a phase
// with the phase's name and channel, before the channel is read: it may
// cancel the context there, or wait for it to be cancelled, and counting
// its calls after that bounds the work a phase does once cancelled.
var Hook func(phase string, done <-chan struct{})

// Stopped is a phase's look: it reports whether done is closed (a nil
// done never is); phase names the loop asking.
func Stopped(done <-chan struct{}, phase string) bool {
	if Hook != nil {
		Hook(phase, done)
	}
	return Cancelled(done)
}

// Cancelled reports whether done is closed: a look between phases, not
// one of a phase's (Hook does not see it).
func Cancelled(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
