package main

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The popularities recovered from one-word sums (wrapped.go) against the
// definition, on graphs whose sums wrap around, with big and small nodes.

// TestRankRecoversFromWrappedSums: with the one-word sums taken modulo
// 2^bits for 3 to 12 bits, small random graphs (with cycles for some, and
// chains below several roots, whose nodes' counts sit between T and 2T
// for some bits) have popularities many times the modulus, a threshold T
// of a few units, big and small nodes, and big nodes whose L − B wraps
// below zero: the order and popularities must equal bruteRanking's.
func TestRankRecoversFromWrappedSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	var seen recovery
	for i := range 600 {
		n := 2 + rng.IntN(13)
		var g *graph
		switch i % 4 {
		case 3:
			g = randomCyclic(t, rng, n, 0.3, 0.05)
		case 2:
			g = rootsChainDAG(t, rng, 1+rng.IntN(4), n)
		default:
			g = randomDAG(t, rng, n, []float64{0.2, 0.5}[i%2])
		}
		wantOrder, wantPop := bruteRanking(g)
		for bits := uint(3); bits <= 12; bits++ {
			o := wrapping{bits: bits, maxBigShare: 1}
			checkRankingIs(t, g, mustRankWrapping(t, context.Background(), g, 1+i%2, o), wantOrder, wantPop)
			seen.add(recoveryOf(g, o))
		}
	}
	seen.require(t)
}

// rootsChainDAG: roots nodes referencing the first of a chain of n nodes,
// each referencing the next and, at random, one further on.
func rootsChainDAG(t testing.TB, rng *rand.Rand, roots, n int) *graph {
	return buildGraph(t, rng, roots+n, func(i int) []int {
		if i < roots {
			return []int{roots}
		}
		var out []int
		if i+1 < roots+n {
			out = append(out, i+1)
		}
		if i+2 < roots+n && rng.IntN(4) == 0 {
			out = append(out, i+2+rng.IntN(roots+n-i-2))
		}
		return out
	}, func(int) uint64 { return uint64(rng.IntN(1000)) })
}

// TestBigThreshold: T is ⌊2^bits / N⌋, the largest that keeps the sum of
// N small counts below 2^bits, or the forced threshold when lower.
func TestBigThreshold(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	for range 3000 {
		bits := uint(1 + rng.IntN(64))
		n := 1 + rng.IntN(1<<rng.IntN(31))
		o := wrapping{bits: bits}
		want := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(int64(n)))
		if !want.IsUint64() {
			want.SetUint64(^uint64(0)) // 2^64 for one node: a count of one word is below it
		}
		if got := o.bigThreshold(n); got != want.Uint64() {
			t.Fatalf("bits %d, %d nodes: T = %d, want %v", bits, n, got, want)
		}
		if want.Sign() == 0 {
			continue // more nodes than 2^bits: all are big
		}
		o.threshold = 1 + rng.Uint64N(want.Uint64())
		if got := o.bigThreshold(n); got != min(want.Uint64(), o.threshold) {
			t.Fatalf("bits %d, %d nodes, threshold %d: T = %d, want %v", bits, n, o.threshold, got, min(want.Uint64(), o.threshold))
		}
	}
}

// TestRankRecoversPast64Bits: graphs whose counts pass 2^64, ranked with
// the real modulus and T = ⌊2^64/N⌋ (and lower forced thresholds, down to
// 1, where every node is big), the recovery forced whatever the share of
// big nodes, and the fallback to full width: the popularities must equal
// directPopularity's (math/big), the order theirs.
func TestRankRecoversPast64Bits(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	shapes := []namedGraph{
		{"spine", spineDAG(t, rng, 300, 110)},
		{"spine", spineDAG(t, rng, 500, 160)},
		{"spine", spineDAG(t, rng, 2500, 100)},
		{"fan", fanDAG(t, rng, 200, 60)},
		{"fan", fanDAG(t, rng, 300, 200)},
		{"window", windowDAG(t, rng, 300, 4, 8)},
		{"uniform", uniformDAG(t, rng, 1200, 8)},
	}
	wrappings := []struct {
		name string
		o    wrapping
	}{
		{"T=2^64/N", wrapping{bits: 64, maxBigShare: 1}},
		{"T=1000", wrapping{bits: 64, threshold: 1000, maxBigShare: 1}},
		{"T=2", wrapping{bits: 64, threshold: 2, maxBigShare: 1}},
		{"T=1", wrapping{bits: 64, threshold: 1, maxBigShare: 1}},
		{"default", defaultWrapping},
		{"full width", wrapping{bits: 64, maxBigShare: 0}},
	}
	var seen recovery
	for _, s := range shapes {
		want := directPopularity(s.g)
		wantOrder := orderOf(s.g, want)
		for _, wr := range wrappings {
			for _, workers := range []int{1, 2} {
				name := fmt.Sprintf("%s (%d nodes), %s, %d workers", s.name, s.g.len(), wr.name, workers)
				r := mustRankWrapping(t, context.Background(), s.g, workers, wr.o)
				for x := range int32(s.g.len()) {
					if got := r.popularity(x); got.Cmp(want[x]) != 0 {
						t.Fatalf("%s: node %d has %v, want %v", name, x, got, want[x])
					}
				}
				if !slices.Equal(r.order, wantOrder) {
					t.Fatalf("%s: order %v, want %v", name, r.order, wantOrder)
				}
			}
		}
		seen.add(recoveryOf(s.g, wrapping{bits: 64}))
	}
	seen.require(t)
}

// spineDAG: a ladder of the first spine nodes (node i references i+1 and
// i+2, counts pass 2^64 near node 93), some of them also referencing a
// random later node, and the rest referencing up to 3 random later nodes:
// big nodes below the ladder's end, small ones reached from its top or
// from the other roots.
func spineDAG(t testing.TB, rng *rand.Rand, n, spine int) *graph {
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		if i < spine {
			for j := i + 1; j <= i+2 && j < spine; j++ {
				out = append(out, j)
			}
			if rng.IntN(3) == 0 {
				out = append(out, spine+rng.IntN(n-spine))
			}
			return out
		}
		for range min(3, n-1-i) {
			out = append(out, i+1+rng.IntN(n-1-i))
		}
		return out
	}, func(int) uint64 { return uint64(rng.IntN(1000)) })
}

// fanDAG makes L(x) − B(x) wrap for many big nodes x, which needs a small
// part S(x) of their popularities that is a good share of 2^64 (the
// chance that it wraps): a ladder (fanLadder nodes, counts past 2^64 at
// its end) whose node z, the last with R < T = ⌊2^64/N⌋, and the node
// before it reference fans nodes, small (R(z) or R(z−1)), each
// referencing about half of sinks nodes below, which the big ladder nodes
// after z reference too. A sink's small ancestors are then about fans/2
// nodes of R near T/2: S ≈ fans/(4N) of 2^64.
func fanDAG(t testing.TB, rng *rand.Rand, fans, sinks int) *graph {
	const fanLadder = 130
	n := fanLadder + fans + sinks
	threshold := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(int64(n)))
	r := []*big.Int{big.NewInt(1), big.NewInt(1)} // the ladder's R
	for r[len(r)-1].Cmp(threshold) < 0 {
		r = append(r, new(big.Int).Add(r[len(r)-1], r[len(r)-2]))
	}
	z := len(r) - 2
	return buildGraph(t, rng, n, func(i int) []int {
		var out []int
		switch {
		case i < fanLadder:
			for j := i + 1; j <= i+2 && j < fanLadder; j++ {
				out = append(out, j)
			}
			if i == z || i == z-1 {
				for f := fanLadder + i%2; f < fanLadder+fans; f += 2 {
					out = append(out, f)
				}
			}
			if i > z+5 && rng.IntN(2) == 0 {
				out = append(out, fanLadder+fans+rng.IntN(sinks))
			}
		case i < fanLadder+fans:
			for s := fanLadder + fans; s < n; s++ {
				if rng.IntN(2) == 0 {
					out = append(out, s)
				}
			}
		case i < n-1 && rng.IntN(3) == 0:
			out = append(out, i+1+rng.IntN(n-1-i))
		}
		return out
	}, func(int) uint64 { return uint64(rng.IntN(1000)) })
}

// orderOf is the order of the nodes of a DAG with popularities pop: most
// popular first, ties by packageName.
func orderOf(g *graph, pop []*big.Int) []int32 {
	order := rankable(g, nil)
	if len(order) != g.len() {
		panic("orderOf: a graph with cycles")
	}
	return slices.SortedFunc(slices.Values(order), func(a, b int32) int {
		if c := pop[b].Cmp(pop[a]); c != 0 {
			return c
		}
		return strings.Compare(packageName(g.paths[a]), packageName(g.paths[b]))
	})
}

// recovery counts what a test's graphs exercised of the recovery, by the
// definition in math/big.
type recovery struct {
	graphs  int // graphs with big and small nodes and a popularity of 2^bits or more
	big     int // big nodes
	small   int // small nodes
	wrapped int // big nodes whose L(x) < B(x) mod 2^bits: L − B wraps
}

// recoveryOf tells apart the big and small ranked nodes of g under o's
// modulus and threshold.
func recoveryOf(g *graph, o wrapping) recovery {
	topo := rankable(g, nil)
	r := directCounts(g)
	modulus := new(big.Int).Lsh(big.NewInt(1), o.bits)
	threshold := new(big.Int).SetUint64(o.bigThreshold(len(topo)))
	isBig := func(u int32) bool { return r[u].Cmp(threshold) >= 0 }
	var c recovery
	over := false
	for _, x := range topo {
		p, b := new(big.Int), new(big.Int)
		for _, u := range withAncestors(g, x) {
			if r[u] == nil {
				continue // a rootless cycle's
			}
			p.Add(p, r[u])
			if isBig(u) {
				b.Add(b, r[u])
			}
		}
		over = over || p.Cmp(modulus) >= 0
		if !isBig(x) {
			c.small++
			continue
		}
		c.big++
		if new(big.Int).Mod(p, modulus).Cmp(new(big.Int).Mod(b, modulus)) < 0 {
			c.wrapped++
		}
	}
	if over && c.big > 0 && c.small > 0 {
		c.graphs = 1
	}
	return c
}

func (c *recovery) add(d recovery) {
	c.graphs += d.graphs
	c.big += d.big
	c.small += d.small
	c.wrapped += d.wrapped
}

// require fails a test whose graphs would not catch a wrong recovery.
func (c recovery) require(t *testing.T) {
	t.Helper()
	if c.graphs < 3 || c.wrapped < 10 {
		t.Fatalf("the test's graphs exercise too little: %d with big and small nodes and sums past the modulus, %d big nodes whose L − B wraps (of %d big, %d small)",
			c.graphs, c.wrapped, c.big, c.small)
	}
}

// BenchmarkWrapping times the ancestor sums both ways, one-word passes
// with the recovery and passes at full width, on graphs of references
// drawn among the window paths before each (8 each), from uniform (the
// whole graph) to deep (counts of hundreds of words, most paths big): it
// is where maxBigShare comes from. `go test -run X -bench Wrapping
// -benchtime 1x`; bigshare is the share of big paths, words the width.
func BenchmarkWrapping(b *testing.B) {
	const n = 20_000
	for _, window := range []int{n, n / 4, n / 5, n / 6, n / 7, n / 8, n / 16, n / 24, n / 32, n / 48, n / 64, n / 256, n / 1024} {
		g := windowDAG(b, rand.New(rand.NewPCG(14, uint64(window))), n, 8, window)
		for _, mode := range []struct {
			name string
			o    wrapping
		}{{"recovered", wrapping{bits: 64, maxBigShare: 1}}, {"fullwidth", wrapping{bits: 64, maxBigShare: 0}}} {
			b.Run(fmt.Sprintf("window=%d/%s", window, mode.name), func(b *testing.B) {
				var r *ranking
				for range b.N {
					r = mustRankWrapping(b, context.Background(), g, 1, mode.o)
				}
				b.ReportMetric(float64(r.big)/float64(r.ranked), "bigshare")
				b.ReportMetric(float64(r.w), "words")
			})
		}
	}
}
