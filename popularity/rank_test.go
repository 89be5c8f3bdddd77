package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// The fast ranking must equal a direct, slow implementation of the
// definition (reference §6.1): every path from a root enumerated one by
// one, every ancestor set found by its own search, sums in math/big.

// bruteRanking returns the expected order and the popularity of each
// ranked node.
func bruteRanking(g *graph) ([]int32, map[int32]*big.Int) {
	n := int32(g.len())
	reaches := func(from, to int32) bool { // along one or more edges
		seen := map[int32]bool{}
		stack := slices.Clone(g.refs.of(from))
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if x == to {
				return true
			}
			if !seen[x] {
				seen[x] = true
				stack = append(stack, g.refs.of(x)...)
			}
		}
		return false
	}
	var roots []int32
	for x := range n {
		if len(g.users.of(x)) == 0 {
			roots = append(roots, x)
		}
	}
	reachable := func(x int32) bool {
		return slices.ContainsFunc(roots, func(r int32) bool { return r == x || reaches(r, x) })
	}
	// Ranked: reachable from a root, and no reachable node on a cycle
	// reaches it (or is it).
	ranked := map[int32]bool{}
	for x := range n {
		if !reachable(x) {
			continue
		}
		infinite := false
		for u := range n {
			if reachable(u) && reaches(u, u) && (u == x || reaches(u, x)) {
				infinite = true
			}
		}
		if !infinite {
			ranked[x] = true
		}
	}
	// R(u): walk every path from every root, counting arrivals.
	paths := map[int32]*big.Int{}
	var walk func(x int32)
	walk = func(x int32) {
		if paths[x] == nil {
			paths[x] = new(big.Int)
		}
		paths[x].Add(paths[x], big.NewInt(1))
		for _, c := range g.refs.of(x) {
			if ranked[c] {
				walk(c)
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	pop := map[int32]*big.Int{}
	for x := range ranked {
		sum := new(big.Int)
		for u := range ranked {
			if u == x || reaches(u, x) {
				sum.Add(sum, paths[u])
			}
		}
		pop[x] = sum
	}
	var order, rest []int32
	for x := range n {
		if ranked[x] {
			order = append(order, x)
		} else {
			rest = append(rest, x)
		}
	}
	byKey := func(a, b int32) int { return strings.Compare(packageName(g.paths[a]), packageName(g.paths[b])) }
	slices.SortFunc(order, func(a, b int32) int {
		if c := pop[b].Cmp(pop[a]); c != 0 {
			return c
		}
		return byKey(a, b)
	})
	slices.SortFunc(rest, byKey)
	return append(order, rest...), pop
}

// mustRank is rank for tests, whose graphs are within its bounds.
func mustRank(t testing.TB, ctx context.Context, g *graph, workers int) *ranking {
	t.Helper()
	return mustRankWrapping(t, ctx, g, workers, defaultWrapping)
}

// mustRankWrapping is rankWrapping for tests.
func mustRankWrapping(t testing.TB, ctx context.Context, g *graph, workers int, o wrapping) *ranking {
	t.Helper()
	r, err := rankWrapping(ctx, g, workers, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustPathCounts is pathCounts for tests.
func mustPathCounts(t testing.TB, parents csr) ([]uint64, int) {
	t.Helper()
	counts, w, err := pathCounts(parents, nil)
	if err != nil {
		t.Fatal(err)
	}
	return counts, w
}

// TestRankRefusesCountsPastBound: in a ladder (each path references the
// next two) the counts of reference paths take 0.69 bits per path, so
// 60,000 paths need 651 words each; popularity took 1.2 GB and 5.3 s on
// it, and memory grows as the square of the paths. rank refuses such a
// graph with ErrTooLarge before it allocates past maxCountBytes.
func TestRankRefusesCountsPastBound(t *testing.T) {
	g := ladder(t, 60_000)
	r, err := rank(context.Background(), g, 1)
	if !errors.Is(err, errdefs.ErrTooLarge) || r != nil {
		t.Fatalf("rank of a 60,000-path ladder: %v (ranking %v); want ErrTooLarge", err, r != nil)
	}
	const want = "for each of 60000 paths, past the 128 MiB popularity keeps for them"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func checkRanking(t *testing.T, g *graph, workers int) {
	t.Helper()
	wantOrder, wantPop := bruteRanking(g)
	checkRankingIs(t, g, mustRank(t, context.Background(), g, workers), wantOrder, wantPop)
}

// checkRankingIs checks r against bruteRanking's order and popularities.
func checkRankingIs(t *testing.T, g *graph, r *ranking, wantOrder []int32, wantPop map[int32]*big.Int) {
	t.Helper()
	if !slices.Equal(r.order, wantOrder) {
		t.Fatalf("order %v, want %v (graph %v)", r.order, wantOrder, g.refs)
	}
	if r.ranked != len(wantPop) {
		t.Fatalf("ranked %d, want %d", r.ranked, len(wantPop))
	}
	for x := range int32(g.len()) {
		got, want := r.popularity(x), wantPop[x]
		if (got == nil) != (want == nil) || (got != nil && got.Cmp(want) != 0) {
			t.Fatalf("popularity of %d = %v, want %v", x, got, want)
		}
	}
}

func TestRankMatchesDefinitionOnRandomDAGs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 300 {
		n := 1 + rng.IntN(14)
		p := []float64{0.1, 0.3, 0.6}[i%3]
		checkRanking(t, randomDAG(t, rng, n, p), 1+i%2)
	}
}

func TestRankMatchesDefinitionWithCycles(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range 200 {
		n := 1 + rng.IntN(12)
		checkRanking(t, randomCyclic(t, rng, n, 0.25, 0.08), 1)
	}
}

// dagOrCyclic is a random graph of up to 40 nodes, with cycles for odd i.
func dagOrCyclic(t *testing.T, rng *rand.Rand, i int) *graph {
	n := 1 + rng.IntN(40)
	if i%2 == 1 {
		return randomCyclic(t, rng, n, 0.15, 0.03)
	}
	return randomDAG(t, rng, n, 0.15)
}

// TestByHeight: the reordered rankable nodes are the same nodes, still in
// a topological order, highest first.
func TestByHeight(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 200 {
		g := dagOrCyclic(t, rng, i)
		topo := rankable(g, nil)
		got := byHeight(g, topo, nil)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(topo))) {
			t.Fatalf("byHeight(%v) = %v: not the same nodes", topo, got)
		}
		pos := map[int32]int{}
		for k, x := range got {
			pos[x] = k
		}
		height := func(x int32) int { // by its definition, within topo
			h := 0
			var walk func(y int32, d int)
			walk = func(y int32, d int) {
				h = max(h, d)
				for _, c := range g.refs.of(y) {
					if _, ok := pos[c]; ok {
						walk(c, d+1)
					}
				}
			}
			walk(x, 0)
			return h
		}
		for k, x := range got {
			for _, c := range g.refs.of(x) {
				if pc, ok := pos[c]; ok && pc <= k {
					t.Fatalf("byHeight(%v) = %v: %d references %d, placed before it", topo, got, x, c)
				}
			}
			if k > 0 && height(got[k-1]) < height(x) {
				t.Fatalf("byHeight(%v) = %v: %d is higher than %d before it", topo, got, x, got[k-1])
			}
		}
	}
}

// TestTopoParents: each position's list is the positions of its ranked
// referrers, in descending order, on graphs with cycles (whose nodes are
// not ranked and must not appear).
func TestTopoParents(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 200 {
		checkTopoParents(t, dagOrCyclic(t, rng, i))
	}
}

// TestTopoParentsOnAllCores: the lists of graphs large enough to be
// filled by several goroutines, one band of referrers each: storegen's,
// and one with a few back edges (cycles, so unranked nodes).
func TestTopoParentsOnAllCores(t *testing.T) {
	checkTopoParents(t, preferentialGraph(t, 2, 70_000))
	const n = 70_000
	rng := rand.New(rand.NewPCG(4, 5))
	g := buildGraph(t, rng, n, func(i int) []int {
		var out []int
		for range min(4, n-1-i) {
			out = append(out, i+1+rng.IntN(n-1-i))
		}
		if rng.IntN(2000) == 0 {
			out = append(out, rng.IntN(i+1))
		}
		return out
	}, func(int) uint64 { return 1 })
	if len(rankable(g, nil)) == n {
		t.Fatal("the graph with back edges has no cycle")
	}
	checkTopoParents(t, g)
}

func checkTopoParents(t *testing.T, g *graph) {
	t.Helper()
	topo := byHeight(g, rankable(g, nil), nil)
	pos := positions(g.len(), topo)
	c := topoParents(g, topo, pos, nil)
	if len(c.start) != len(topo)+1 {
		t.Fatalf("%d lists for %d positions", len(c.start)-1, len(topo))
	}
	for k, x := range topo {
		var want []int32
		for _, u := range g.users.of(x) {
			if pos[u] >= 0 {
				want = append(want, pos[u])
			}
		}
		slices.Sort(want)
		slices.Reverse(want)
		if got := c.of(int32(k)); !slices.Equal(got, want) {
			t.Fatalf("position %d (node %d) has referrers %v, want %v", k, x, got, want)
		}
	}
}

// The chunked sums across chunk boundaries and workers, against sums over
// ancestor sets found one by one (R from its recurrence, in math/big).
func TestAncestorSumsAcrossChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 40 {
		n := 50 + rng.IntN(300)
		g := randomDAG(t, rng, n, []float64{0.01, 0.03, 0.2}[i%3])
		want := directPopularity(g)
		topo := rankable(g, nil)
		pos := make([]int32, n)
		for k, x := range topo {
			pos[x] = int32(k)
		}
		parents := topoParents(g, topo, pos, nil)
		counts, w := mustPathCounts(t, parents)
		for _, chunk := range []int{64, 128, 1024} {
			for _, workers := range []int{1, 3} {
				// Rows pulled by positions with few referrers and pushed to
				// the others, pushed to all, pulled by all.
				for _, pull := range []int{0, -1, 1 << 30} {
					job := &sumJob{parents: parents, weight: counts, w: w, chunk: chunk, pull: pull}
					sums := job.run(workers)
					for x := range int32(n) {
						got := bigOf(sums[int(pos[x])*w : int(pos[x]+1)*w])
						if got.Cmp(want[x]) != 0 {
							t.Fatalf("n=%d chunk=%d workers=%d pull=%d: node %d sums %v, want %v", n, chunk, workers, pull, x, got, want[x])
						}
					}
				}
			}
		}
	}
}

// TestAncestorSumsOnBenchShapes: the chunked sums on the shapes the bench
// times, against sums over ancestor sets found one by one: references
// drawn uniformly among the earlier paths, storegen's preferential
// attachment, and references among the few paths just before (counts of
// hundreds of bits, so the additions of every width), with rows pulled and
// pushed, on one worker and two (run it under -race).
func TestAncestorSumsOnBenchShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	shapes := []namedGraph{
		{"uniform", uniformDAG(t, rng, 1200, 8)},
		{"preferential", preferentialGraph(t, 3, 1500)},
		{"window", windowDAG(t, rng, 180, 4, 8)},
		{"window", windowDAG(t, rng, 300, 4, 8)},
		{"window", windowDAG(t, rng, 700, 6, 10)},
	}
	widths := map[int]bool{}
	for _, s := range shapes {
		g := s.g
		want := directPopularity(g)
		topo := rankable(g, nil)
		pos := make([]int32, g.len())
		for k, x := range topo {
			pos[x] = int32(k)
		}
		parents := topoParents(g, topo, pos, nil)
		counts, w := mustPathCounts(t, parents)
		widths[w] = true
		for _, chunk := range []int{64, 192, 1024} {
			for _, workers := range []int{1, 2} {
				for _, pull := range []int{0, -1} {
					job := &sumJob{parents: parents, weight: counts, w: w, chunk: chunk, pull: pull}
					sums := job.run(workers)
					for x := range int32(g.len()) {
						if got := bigOf(sums[int(pos[x])*w : int(pos[x]+1)*w]); got.Cmp(want[x]) != 0 {
							t.Fatalf("%s (w=%d) chunk=%d workers=%d pull=%d: node %d sums %v, want %v", s.name, w, chunk, workers, pull, x, got, want[x])
						}
					}
				}
			}
		}
		r := mustRank(t, context.Background(), g, 2)
		for x := range int32(g.len()) {
			if got := r.popularity(x); got.Cmp(want[x]) != 0 {
				t.Fatalf("%s: rank gives node %d %v, want %v", s.name, x, got, want[x])
			}
		}
	}
	if !widths[1] || !widths[2] || !widths[3] || len(widths) < 4 {
		t.Fatalf("the shapes' counts take %v words: the test needs 1, 2, 3 and more", slices.Sorted(maps.Keys(widths)))
	}
}

// directPopularity computes popularities of a DAG with math/big: R by its
// recurrence in a topological order, ancestors by a search per node.
func directPopularity(g *graph) []*big.Int {
	r := directCounts(g)
	out := make([]*big.Int, g.len())
	for x := range int32(g.len()) {
		sum := new(big.Int)
		for _, u := range withAncestors(g, x) {
			sum.Add(sum, r[u])
		}
		out[x] = sum
	}
	return out
}

// directCounts is R of every ranked node by its recurrence, in math/big
// (nil for the remainder, whose references add nothing).
func directCounts(g *graph) []*big.Int {
	r := make([]*big.Int, g.len())
	for _, x := range rankable(g, nil) {
		r[x] = new(big.Int)
		if len(g.users.of(x)) == 0 {
			r[x].SetInt64(1)
		}
		for _, u := range g.users.of(x) {
			if r[u] != nil {
				r[x].Add(r[x], r[u])
			}
		}
	}
	return r
}

// withAncestors is x and every node that reaches it, found by a search.
func withAncestors(g *graph, x int32) []int32 {
	seen := map[int32]bool{x: true}
	stack, out := []int32{x}, []int32{}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, u)
		for _, p := range g.users.of(u) {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	return out
}

// Deep graphs: path counts far past 2^64 stay exact and keep their order.
func TestRankDeepGraphsPast64Bits(t *testing.T) {
	for _, n := range []int{100, 300, 1000} {
		g := ladder(t, n)
		want := directPopularity(g)
		r := mustRank(t, context.Background(), g, 2)
		maxBits := 0
		for x := range int32(n) {
			if got := r.popularity(x); got.Cmp(want[x]) != 0 {
				t.Fatalf("n=%d: node %d has %v, want %v", n, x, got, want[x])
			}
			maxBits = max(maxBits, want[x].BitLen())
		}
		if maxBits <= 64 {
			t.Fatalf("n=%d: the largest popularity has %d bits; the test needs more than 64", n, maxBits)
		}
		for k := 1; k < n; k++ {
			a, b := r.popularity(r.order[k-1]), r.popularity(r.order[k])
			if a.Cmp(b) < 0 {
				t.Fatalf("n=%d: order[%d] has %v < order[%d] %v", n, k-1, a, k, b)
			}
		}
	}
}

// Popularities that differ only in their lowest bits, above 2^64, still
// order correctly: two sinks below a deep ladder, one with an extra root
// (which adds 1 to its R and 1 to its ancestors' sum).
func TestRankTieBreakAbove64Bits(t *testing.T) {
	const n = 200
	g := buildGraph(t, rand.New(rand.NewPCG(5, 5)), n+3, func(i int) []int {
		switch {
		case i < n-2:
			return []int{i + 1, i + 2}
		case i < n:
			return []int{n, n + 1} // the ladder's last two feed both sinks
		case i == n+2:
			return []int{n + 1} // an extra root adds 1 to sink n+1
		}
		return nil
	}, func(int) uint64 { return 1 })
	want := directPopularity(g)
	r := mustRank(t, context.Background(), g, 1)
	var sinks []int32
	for x := range int32(g.len()) {
		if len(g.refs.of(x)) == 0 {
			sinks = append(sinks, x)
		}
	}
	a, b := want[sinks[0]], want[sinks[1]]
	if d := new(big.Int).Sub(a, b); d.CmpAbs(big.NewInt(2)) != 0 || a.BitLen() <= 64 {
		t.Fatalf("test graph: sinks have %v and %v; want them 2 apart above 2^64", a, b)
	}
	first := sinks[0]
	if a.Cmp(b) < 0 {
		first = sinks[1]
	}
	if r.order[0] != first {
		t.Fatalf("first is %d (%v), want %d", r.order[0], r.popularity(r.order[0]), first)
	}
}

// Two wide fans meeting in one node: its second referrer brings more than
// 32 new ancestors in one word, the case summed as a full word less the
// missing bits.
func TestAncestorSumsDenseFans(t *testing.T) {
	const fan = 150
	// 0..fan-1 reference X = 2·fan, fan..2·fan-1 reference Y = 2·fan+1,
	// X and Y reference Z = 2·fan+2.
	g := buildGraph(t, rand.New(rand.NewPCG(6, 6)), 2*fan+3, func(i int) []int {
		switch {
		case i < fan:
			return []int{2 * fan}
		case i < 2*fan:
			return []int{2*fan + 1}
		case i < 2*fan+2:
			return []int{2*fan + 2}
		}
		return nil
	}, func(int) uint64 { return 1 })
	want := directPopularity(g)
	r := mustRank(t, context.Background(), g, 1)
	for x := range int32(g.len()) {
		if got := r.popularity(x); got.Cmp(want[x]) != 0 {
			t.Fatalf("node %d has %v, want %v", x, got, want[x])
		}
	}
}

// orAdd against a direct OR and sum, for rows whose new bits make
// sparse, dense and full words (a dense word is summed as the whole word
// less the missing bits), with weights of one to four words that carry
// between them.
func TestOrAdd(t *testing.T) {
	for _, w := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) { testOrAdd(t, w) })
	}
}

func testOrAdd(t *testing.T, w int) {
	rng := rand.New(rand.NewPCG(8, uint64(w)))
	n := 164 // a short last word: bits 164..191 are past the chunk's end
	job := &sumJob{w: w, chunk: 192, weight: make([]uint64, n*w)}
	for i := range job.weight {
		job.weight[i] = rng.Uint64() >> 16 // room for sums without overflow
		if i%w < w-1 && rng.IntN(2) == 0 {
			job.weight[i] = ^uint64(0) - uint64(rng.IntN(3)) // carries into the next word
		}
	}
	ws := job.workspace(n)
	ws.wc = 3
	ws.prepare(0, n, ws.wc)
	words := []uint64{0, 1, 1 << 63, ^uint64(0), ^uint64(0) - 1, ^uint64(0) >> 1, 0xff00ff00ff00ff00, 0x0f}
	randomRow := func() []uint64 {
		r := make([]uint64, ws.wc)
		for k := range r {
			switch rng.IntN(5) {
			case 0:
				r[k] = words[rng.IntN(len(words))]
			case 1:
				r[k] = rng.Uint64() | rng.Uint64() // dense
			case 2:
				r[k] = rng.Uint64() & rng.Uint64() & rng.Uint64() // sparse
			case 3:
				r[k] = 0
			default:
				r[k] = rng.Uint64()
			}
			r[k] &= ws.masks[k]
		}
		return r
	}
	for range 600 {
		base, a, b := randomRow(), randomRow(), randomRow()
		x := slices.Clone(base)
		for k := range x {
			x[k] |= randomRow()[k] // x holds base, as in settle
		}
		start := make([]uint64, w)
		for k := range start {
			start[k] = rng.Uint64() >> 20
		}
		got := slices.Clone(start)
		row := make([]uint64, ws.wc)
		ones := ws.orAdd(row, x, a, b, base, got)
		want, wantOnes := bigOf(start), int32(0)
		for k := range row {
			if v := x[k] | a[k] | b[k]; row[k] != v {
				t.Fatalf("word %d of the OR of %#x, %#x, %#x is %#x, want %#x", k, x[k], a[k], b[k], row[k], v)
			}
		}
		for i := range n {
			if (row[i>>6]&^base[i>>6])>>(i&63)&1 == 1 {
				want.Add(want, bigOf(job.weight[i*w:i*w+w]))
				wantOnes++
			}
		}
		if bigOf(got).Cmp(want) != 0 || ones != wantOnes {
			t.Fatalf("row %#x, base %#x: sum %v and %d new bits, want %v and %d", row, base, bigOf(got), ones, want, wantOnes)
		}
	}
}

// TestSortInto: keys enough to be sorted in two halves and merged, with
// many equal popularities and name prefixes, come out in the order one
// sort gives.
func TestSortInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	const n = 100_000
	keys := make([]rankKey, n)
	for i := range keys {
		keys[i] = rankKey{pop: rng.Uint64N(50), name: nameKey{hi: rng.Uint64N(3)}, x: int32(i)}
	}
	byKey := func(a, b rankKey) int {
		if c := cmp.Compare(b.pop, a.pop); c != 0 {
			return c
		}
		if c := a.name.compare(b.name); c != 0 {
			return c
		}
		return cmp.Compare(a.x, b.x)
	}
	want := slices.SortedFunc(slices.Values(keys), byKey)
	got := make([]int32, n)
	if !sortInto(got, slices.Clone(keys), byKey, nil) {
		t.Fatal("stopped without a done channel")
	}
	for i := range got {
		if got[i] != want[i].x {
			t.Fatalf("position %d holds node %d, want %d", i, got[i], want[i].x)
		}
	}
}

// TestSortOrderOnAllCores: a ranking of enough paths that its keys are
// made on all cores (popularities past 2^64, with ties, and names that
// share their first 16 bytes) comes out in the order of its popularities
// and names, and so does the same ranking on one worker.
func TestSortOrderOnAllCores(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	g := uniformDAG(t, rng, 40_000, 8)
	for _, workers := range []int{1, 2} {
		r := mustRank(t, context.Background(), g, workers)
		pop := make([]*big.Int, g.len())
		wide := false
		for x := range pop {
			pop[x] = r.popularity(int32(x))
			wide = wide || pop[x].BitLen() > 64
		}
		if !wide {
			t.Fatal("test graph: no popularity past 2^64")
		}
		if want := orderOf(g, pop); !slices.Equal(r.order, want) {
			t.Fatalf("%d workers: the order differs from popularity then name order", workers)
		}
	}
}
