package graphplan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"dockertools.dev/imgkit/poll"
)

// TestReadGraphContextStops: cancelled at the k-th look of the decoding
// or of the checks (never by the clock, see imgkit/poll), ReadGraphContext
// returns the context's error after at most a look more per goroutine,
// all of the same phase; a look follows at most poll.Every nodes.
func TestReadGraphContextStops(t *testing.T) {
	const n = 40000
	g := make(Graph, n)
	for i := range g {
		refs := []string{}
		for k := 1; k <= min(8, i); k++ {
			refs = append(refs, g[i-k].Path)
		}
		g[i] = PathInfo{Path: fmt.Sprintf("/nix/store/%032d-p", i), NarSize: 1, References: refs}
	}
	var doc bytes.Buffer
	if err := WriteGraph(&doc, g); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		phase string
		k     int
	}{{"decode", 3}, {"check", 3}} {
		t.Run(c.phase, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			looks := 0
			var after []string
			poll.Hook = func(phase string, _ <-chan struct{}) {
				mu.Lock()
				defer mu.Unlock()
				switch {
				case looks >= c.k:
					after = append(after, phase)
				case phase == c.phase:
					if looks++; looks == c.k {
						cancel()
					}
				}
			}
			defer func() { poll.Hook = nil }()
			_, err := ReadGraphContext(ctx, bytes.NewReader(doc.Bytes()), "")
			if looks < c.k {
				t.Fatalf("phase %q looked %d times, not the %d needed: it does not look as it goes", c.phase, looks, c.k)
			}
			max := 2*runtime.GOMAXPROCS(0) + 2
			if !errors.Is(err, context.Canceled) || len(after) > max || slices.ContainsFunc(after, func(p string) bool { return p != c.phase }) {
				t.Fatalf("cancelled in %q: error %v, then looks %q; want the context's error after at most %d looks of the phase", c.phase, err, after, max)
			}
		})
	}
	if got, err := ReadGraphContext(context.Background(), bytes.NewReader(doc.Bytes()), ""); err != nil || len(got) != n {
		t.Fatalf("not cancelled: %d paths, error %v", len(got), err)
	}
}

// TestReadGraphContextCancelledAfterReading: a document read to its end
// after the cancellation (a pipe whose writer the same signal stopped,
// ending it short) is not judged: the error is the context's, not the
// document's.
func TestReadGraphContextCancelledAfterReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, doc := range []string{"", `[{"path":"/nix/store/a`} {
		if _, err := ReadGraphContext(ctx, strings.NewReader(doc), ""); !errors.Is(err, context.Canceled) {
			t.Errorf("document %q read after the cancellation: error %v, want the context's", doc, err)
		}
	}
}
