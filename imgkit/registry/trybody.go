package registry

import (
	"errors"
	"io"
	"sync"
)

// tryBody is the body of one try of a PATCH, counted on the bar as the
// transport reads it. A PATCH may be sent more than once: again with a new
// token (bodyAware), to where a 307 or 308 sends it (the http.Client
// follows it with a body from GetBody), on a new connection when the kept
// one was closed (the transport). The transport may still be reading the
// try before when the next one starts: withdrawn, it gives no more bytes
// and counts none, and the bar loses those it counted at once. (Counted
// on, the bar passed the chunk's size, by what the first try's transport
// read after a redirect.)
type tryBody struct {
	mu        sync.Mutex // Read and withdraw come from different goroutines
	r         io.Reader
	progress  *Progress
	n         int64 // bytes counted
	withdrawn bool
}

var errWithdrawn = errors.New("the request is being sent again")

func (b *tryBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.withdrawn {
		return 0, errWithdrawn
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.progress.Add(int64(n))
	return n, err
}

func (b *tryBody) Close() error { return nil }

// withdraw ends the try (nil: none was made).
func (b *tryBody) withdraw() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.withdrawn {
		b.withdrawn = true
		b.progress.Add(-b.n)
	}
}
