package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"dockertools.dev/imgkit/graphplan"

	"dockertools.dev/imgkit/poll"
)

// What a SIGTERM must stop promptly (imgkit/poll) is checked through the
// poll.Hook, never by the clock: the context is cancelled at the k-th
// look of one phase, and the phase must then return the context's error
// after at most a look more per goroutine, none of them in a later phase
// (each look follows at most poll.Every items, so this bounds the work
// done once cancelled).

// cancelAt cancels a context at the k-th look of phase and records every
// look after that.
type cancelAt struct {
	phase  string
	k      int
	cancel context.CancelFunc
	mu     sync.Mutex
	looks  int      // looks of phase, up to and with the cancelling one
	after  []string // the phases of the looks after it
}

func (c *cancelAt) poll(phase string, _ <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.looks >= c.k:
		c.after = append(c.after, phase)
	case phase == c.phase:
		if c.looks++; c.looks == c.k {
			c.cancel()
		}
	}
}

// check fails unless err is the cancellation, the k-th look came and at
// most max looks followed, all in the phase.
func (c *cancelAt) check(t *testing.T, err error, max int) {
	t.Helper()
	if c.looks < c.k {
		t.Fatalf("phase %q looked %d times, not the %d needed: it does not look as it goes (or the test graph is too small)", c.phase, c.looks, c.k)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled in phase %q: error %v, want the context's", c.phase, err)
	}
	if len(c.after) > max || slices.ContainsFunc(c.after, func(p string) bool { return p != c.phase }) {
		t.Fatalf("cancelled in phase %q, then %d looks (at most %d allowed, all in the phase): %q", c.phase, len(c.after), max, c.after)
	}
}

// withPolled sets the hook for one test.
func withPolled(t *testing.T, f func(string, <-chan struct{})) {
	poll.Hook = f
	t.Cleanup(func() { poll.Hook = nil })
}

// cancelGraph is a uniform graph big enough for every phase to look
// several times, as a document.
func cancelGraph(t *testing.T) graphplan.Graph {
	rng := rand.New(rand.NewPCG(30, 30))
	const n = 40000
	fg := make(graphplan.Graph, n)
	for i := range fg {
		var refs []string
		for range min(8, i) {
			refs = append(refs, fg[rng.IntN(i)].Path)
		}
		fg[i] = graphplan.PathInfo{Path: fmt.Sprintf("/nix/store/%032d-p%d", rng.Uint64()%1e15, i), NarSize: uint64(1000 + rng.IntN(1e6)), References: refs}
	}
	return fg.Canonical()
}

// TestCancelStopsEveryPhase: cancelled in the middle of any long phase of
// indexing, ranking or the size strategy, the work stops with the
// context's error within a look per goroutine.
func TestCancelStopsEveryPhase(t *testing.T) {
	fg := cancelGraph(t)
	g, err := newGraph(context.Background(), fg)
	if err != nil {
		t.Fatal(err)
	}
	// A look per goroutine of the phase, and a look at its end.
	max := 2*runtime.GOMAXPROCS(0) + 2
	run := map[string]func(context.Context) error{
		"newGraph": func(ctx context.Context) error { _, err := newGraph(ctx, fg); return err },
		"rank":     func(ctx context.Context) error { _, err := rank(ctx, g, 2); return err },
		// The ancestor passes in one chunk of the whole graph, on one
		// worker: looks between chunks alone would be one.
		"one chunk": func(ctx context.Context) error {
			topo := rankable(g, nil)
			parents := topoParents(g, topo, positions(g.len(), topo), nil)
			counts, w := mustPathCounts(t, parents)
			job := &sumJob{parents: parents, weight: counts, w: w, chunk: (g.len() + 63) &^ 63, done: ctx.Done()}
			if job.run(1) != nil {
				return errors.New("sums made")
			}
			return ctx.Err()
		},
		"pipeline": func(ctx context.Context) error {
			steps, err := parsePipeline([]byte(`[["popularity_contest"], ["limit_layers", 5]]`))
			if err != nil {
				return err
			}
			if _, err := runPipeline(ctx, g, make([]bool, g.len()), steps); err != nil {
				return err
			}
			return errors.New("layers made")
		},
		"size": func(ctx context.Context) error {
			if autoLayer(g, 99, ctx.Done()) != nil {
				return errors.New("layers made")
			}
			return ctx.Err()
		},
	}
	for _, c := range []struct {
		run, phase string
		k          int
	}{
		{"newGraph", "index", 2},
		{"newGraph", "references", 3},
		{"newGraph", "transpose", 2},
		{"rank", "reach", 2},
		{"rank", "topological order", 2},
		{"rank", "height", 2},
		{"rank", "parents", 3},
		{"rank", "path counts", 2},
		{"rank", "transpose", 4}, // past the looks at the start of the two runs of the wrapped sums
		{"rank", "split", 4},
		{"rank", "ancestors", 3},
		{"one chunk", "ancestors", 2},
		{"rank", "sort keys", 3},
		{"rank", "rank order", 3},
		{"pipeline", "pipeline order", 3},
		{"size", "size order", 3},
		{"size", "size rounds", 5},
		{"size", "size layers", 3},
	} {
		t.Run(c.run+"/"+c.phase, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			at := &cancelAt{phase: c.phase, k: c.k, cancel: cancel}
			withPolled(t, at.poll)
			at.check(t, run[c.run](ctx), max)
		})
	}
}

// TestRankStopsWhenCancelled: with its context cancelled before it starts,
// rank returns the context's error having looked once.
func TestRankStopsWhenCancelled(t *testing.T) {
	g := randomDAG(t, rand.New(rand.NewPCG(9, 9)), 3000, 0.002)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var looks []string
	withPolled(t, func(p string, _ <-chan struct{}) { looks = append(looks, p) })
	if _, err := rank(ctx, g, 2); !errors.Is(err, context.Canceled) || len(looks) != 1 {
		t.Fatalf("rank cancelled before: error %v after looks %q; want the context's after one", err, looks)
	}
}

// stallEnv names the phase at whose first look the tool, run by
// TestTermMidRun, says "stalled" on stderr and waits for its context to
// be cancelled (by the signal the test sends then).
const stallEnv = "POPULARITY_TEST_STALL"

func init() {
	phase := os.Getenv(stallEnv)
	if phase == "" {
		return
	}
	var once sync.Once
	poll.Hook = func(p string, done <-chan struct{}) {
		if p == phase {
			once.Do(func() {
				fmt.Fprintln(os.Stderr, "stalled")
				<-done
			})
		}
	}
}

// TestTermMidRun: a SIGTERM while popularity ranks a graph ends it with
// the one line "popularity: interrupted", exit status 1 as the other tools
// give, and no output.
func TestTermMidRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "graph.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := graphplan.WriteGraph(f, cancelGraph(t)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, phase := range []string{"decode", "check", "index", "references", "ancestors", "sort keys", "rank order"} {
		t.Run(phase, func(t *testing.T) {
			cmd := &exec.Cmd{Path: os.Args[0], Args: []string{"popularity", file}, Env: append(os.Environ(), stallEnv+"="+phase)}
			var stdout strings.Builder
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(stderr)
			if !lines.Scan() || lines.Text() != "stalled" {
				t.Fatalf("stderr %q before the phase, want \"stalled\"", lines.Text())
			}
			cmd.Process.Signal(syscall.SIGTERM)
			rest, _ := io.ReadAll(stderr)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 || string(rest) != "popularity: interrupted\n" || stdout.Len() > 0 {
				t.Fatalf("after SIGTERM: %v, stderr %q, %d bytes of output; want exit status 1, one line \"popularity: interrupted\", no output", err, rest, stdout.Len())
			}
		})
	}
}
