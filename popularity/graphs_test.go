package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

// Graph builders shared by the tests. Nodes get random hashes (so path
// order is unrelated to the edges) and names from a small set (so the
// packageName tie-break is exercised).

const nixBase32 = "0123456789abcdfghijklmnpqrsvwxyz"

// namedGraph is a test graph and the name of its shape, for messages.
type namedGraph struct {
	name string
	g    *graph
}

// edgesFunc returns the references of node i (by creation index).
type edgesFunc func(i int) []int

// buildGraph makes a graph of n nodes with the given edges and sizes.
func buildGraph(t testing.TB, rng *rand.Rand, n int, edges edgesFunc, size func(i int) uint64) *graph {
	t.Helper()
	names := make([]string, n)
	seen := map[string]bool{}
	for i := range names {
		for names[i] == "" || seen[names[i]] {
			h := make([]byte, 32)
			for k := range h {
				h[k] = nixBase32[rng.IntN(32)]
			}
			names[i] = fmt.Sprintf("/nix/store/%s-pkg%d-1.%d", h, rng.IntN(3), rng.IntN(2))
		}
		seen[names[i]] = true
	}
	fg := make(graphplan.Graph, n)
	for i := range fg {
		var refs []string
		for _, j := range edges(i) {
			refs = append(refs, names[j])
		}
		fg[i] = graphplan.PathInfo{Path: names[i], NarSize: size(i), References: refs}
	}
	g, err := newGraph(context.Background(), fg.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// randomDAG: node i references each later node with probability p, and
// itself with probability 1/4 (self-references must change nothing).
func randomDAG(t testing.TB, rng *rand.Rand, n int, p float64) *graph {
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		for j := i + 1; j < n; j++ {
			if rng.Float64() < p {
				out = append(out, j)
			}
		}
		if rng.IntN(4) == 0 {
			out = append(out, i)
		}
		return out
	}, func(int) uint64 { return uint64(rng.IntN(4)) * 100 })
}

// randomCyclic: like randomDAG, plus back edges with probability q.
func randomCyclic(t testing.TB, rng *rand.Rand, n int, p, q float64) *graph {
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		for j := range n {
			if (j > i && rng.Float64() < p) || (j <= i && rng.Float64() < q) {
				out = append(out, j)
			}
		}
		return out
	}, func(int) uint64 { return uint64(rng.IntN(4)) * 100 })
}

// ladder: node i references i+1 and i+2, so path counts are Fibonacci
// numbers (about 0.69 bits per node).
func ladder(t testing.TB, n int) *graph {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		for j := i + 1; j <= i+2 && j < n; j++ {
			out = append(out, j)
		}
		return out
	}, func(i int) uint64 { return uint64(i) })
}

// uniformDAG: node i references k random earlier nodes, the shape of the
// performance target (100,000 paths, 8 references each).
func uniformDAG(t testing.TB, rng *rand.Rand, n, k int) *graph {
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		for range min(k, i) {
			out = append(out, rng.IntN(i))
		}
		return out
	}, func(int) uint64 { return uint64(1000 + rng.IntN(1000000)) })
}

// windowDAG: node i references k random nodes among the w before it, so
// path counts grow by a constant factor per node: hundreds of bits within a
// few hundred nodes, the wide counts of deep graphs.
func windowDAG(t testing.TB, rng *rand.Rand, n, k, w int) *graph {
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		for range min(k, i) {
			out = append(out, i-1-rng.IntN(min(w, i)))
		}
		return out
	}, func(int) uint64 { return uint64(1 + rng.IntN(1000)) })
}

// preferentialGraph is storegen's graph (the bench's popularity graph):
// preferential attachment, some nodes referenced by hundreds.
func preferentialGraph(t testing.TB, seed uint64, n int) *graph {
	t.Helper()
	fg, err := storegen.RandomGraph(storegen.GraphSpec{Seed: seed, Paths: n, Refs: 8, SelfRefs: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGraph(context.Background(), fg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
