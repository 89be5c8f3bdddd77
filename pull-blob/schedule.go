package main

import (
	"context"
	"sync"

	"dockertools.dev/imgkit/storefs"
)

// A schedule hands the workers the layers to download, largest first
// (fetchOrder), while bounding the spools held at once. A layer's spool
// stays open from its download until the stream has written it, and
// largest first, a small bottom layer comes last: every other layer of
// the image then waits in its spool, a descriptor each, and a pull of 100
// layers under a CI runner's limit of 64 descriptors failed "too many
// open files". So once budget spools are held (downloading or waiting), a
// worker takes a layer only when it is the lowest not yet taken and the
// stream is waiting for it: the stream always gets the layer it needs
// next, and each one it writes frees a spool for another download.
type schedule struct {
	mu     sync.Mutex
	cond   sync.Cond
	order  []layer // fetchOrder, the layers not yet taken
	held   int     // spools downloading or waiting for the stream
	budget int
	next   int // the layer the stream waits for
}

// spoolBudget is how many spools a pull holds at most beyond --jobs: a
// quarter of the process's limit on open descriptors (package os raised
// the soft limit to the hard one), so that the HTTP connections, the
// decompressors and the output keep what they need; under the usual
// limits (1,024 and more) it is above the 127 layers an image may have.
func spoolBudget(jobs int) int {
	limit, ok := storefs.OpenFileLimit()
	if !ok {
		return jobs
	}
	return max(jobs, int(min(limit/4, 1<<20)))
}

func newSchedule(layers []layer, budget int) *schedule {
	s := &schedule{order: fetchOrder(layers), budget: budget}
	s.cond.L = &s.mu
	return s
}

// take returns the next layer for a worker to download, waiting while the
// budget is spent and the stream does not wait for the lowest layer not
// taken; false when none is left or ctx is done.
func (s *schedule) take(ctx context.Context) (layer, bool) {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.order) == 0 || ctx.Err() != nil {
			return layer{}, false
		}
		pick := 0
		if s.held >= s.budget {
			pick = s.lowest()
			if s.order[pick].index != s.next {
				s.cond.Wait()
				continue
			}
		}
		l := s.order[pick]
		s.order = append(s.order[:pick], s.order[pick+1:]...)
		s.held++
		return l, true
	}
}

// lowest is the position in s.order of the lowest layer not taken.
func (s *schedule) lowest() int {
	best := 0
	for i, l := range s.order {
		if l.index < s.order[best].index {
			best = i
		}
	}
	return best
}

// written says the stream has written layer i and closed its spool, and
// waits for the next.
func (s *schedule) written(i int) {
	s.mu.Lock()
	s.held--
	s.next = i + 1
	s.cond.Broadcast()
	s.mu.Unlock()
}
