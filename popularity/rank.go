package main

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"runtime"
	"sync"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/percore"

	"dockertools.dev/imgkit/poll"
)

// ranking is the result of the popularity strategy's ordering step
// (reference §6.1).
type ranking struct {
	// order holds every node: first the ranked ones, most popular first,
	// then the remainder (see rankable) in packageName order.
	order []int32
	// ranked is how many nodes at the front of order have a popularity.
	ranked int
	// pos maps a node to its place in the topological order that counts
	// and pop are indexed by; -1 for the remainder.
	pos []int32
	// pop holds the popularity of the node at each topological position,
	// w words each.
	pop []uint64
	w   int
	// big is how many ranked nodes have R ≥ T (see wrapping), 0 when the
	// counts take one word.
	big int
}

// popularity returns the popularity of node x, or nil for the remainder.
func (r *ranking) popularity(x int32) *big.Int {
	p := r.pos[x]
	if p < 0 {
		return nil
	}
	return bigOf(r.pop[int(p)*r.w : int(p+1)*r.w])
}

// rank orders the nodes of g by popularity, as closure-graph.py does:
// popularity(x) = Σ R(u) over u ∈ {x} ∪ ancestors(x), where R(u) is the
// number of distinct paths from any root to u (R(root) = 1); most popular
// first, ties by packageName ascending. workers is the number of
// goroutines counting (0 means one per usable CPU). When ctx is cancelled
// the counting stops and the ranking is incomplete: the caller must see
// ctx's error and drop it. A graph whose counts pass maxCountBytes is an
// error wrapping errdefs.ErrTooLarge.
func rank(ctx context.Context, g *graph, workers int) (*ranking, error) {
	return rankWrapping(ctx, g, workers, defaultWrapping)
}

// rankWrapping is rank with the ancestor sums made as o says.
func rankWrapping(ctx context.Context, g *graph, workers int, o wrapping) (*ranking, error) {
	n := g.len()
	done := ctx.Done()
	// Each phase returns early, its result incomplete, once done is
	// closed (imgkit/poll); ctx.Err() after it says so.
	topo := rankable(g, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	topo = byHeight(g, topo, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pos := positions(n, topo)
	parents := topoParents(g, topo, pos, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	counts, w, err := pathCounts(parents, done)
	if err := cmp.Or(ctx.Err(), err); err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	r := &ranking{pos: pos, w: w, ranked: len(topo)}
	r.pop, r.big = o.ancestorSums(parents, counts, w, workers, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.order = r.sortOrder(g, topo, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// rankKey is what the order compares of a node: the top 64 bits of its
// popularity (see topBits), the start of its packageName (nameKey), and
// the node.
type rankKey struct {
	pop  uint64
	name nameKey
	x    int32
}

// sortOrder returns every node: the ranked ones (topo) most popular first,
// then the remainder; ties, and the remainder, by packageName ascending.
// The keys are gathered first so that most comparisons read one array in
// order instead of popularities and names scattered in memory (sorting
// 1,000,000 paths took 1.3 s that way, and building their names 0.2 s).
func (r *ranking) sortOrder(g *graph, topo []int32, done <-chan struct{}) []int32 {
	w := r.w
	shift := topShift(r.pop, w)
	keys := make([]rankKey, len(topo), g.len())
	// On all cores: each key reads a path from anywhere in memory (20-35
	// ms for 100,000 paths on one).
	percore.Each(len(topo), 1<<14, func(lo, hi int) {
		for i, x := range topo[lo:hi] {
			if i%poll.Every == 0 && poll.Stopped(done, "sort keys") {
				return
			}
			p := int(r.pos[x]) * w
			keys[lo+i] = rankKey{pop: topBits(r.pop[p:p+w], shift), name: nameKeyOf(g.paths[x]), x: x}
		}
	})
	if poll.Cancelled(done) {
		return nil // the keys are incomplete
	}
	for x := range int32(g.len()) {
		if r.pos[x] < 0 {
			keys = append(keys, rankKey{name: nameKeyOf(g.paths[x]), x: x})
		}
	}
	byName := func(a, b rankKey) int {
		if c := a.name.compare(b.name); c != 0 {
			return c
		}
		return comparePackageName(g.paths[a.x], g.paths[b.x])
	}
	order := make([]int32, len(keys))
	ranked := sortInto(order[:len(topo)], keys[:len(topo)], func(a, b rankKey) int {
		if c := cmp.Compare(b.pop, a.pop); c != 0 {
			return c
		}
		if shift > 0 {
			// Equal top bits: the rest of the numbers decide.
			pa, pb := int(r.pos[a.x])*w, int(r.pos[b.x])*w
			if c := compareWide(r.pop[pb:pb+w], r.pop[pa:pa+w]); c != 0 {
				return c
			}
		}
		return byName(a, b)
	}, done)
	if !ranked || !sortInto(order[len(topo):], keys[len(topo):], byName, done) {
		return nil
	}
	return order
}

// sortInto sorts keys by cmp, a total order, and writes their nodes to out
// in that order; false, out unwritten, once done is closed (the sort
// looks as it goes: 1,000,000 keys took 0.56-0.75 s to sort on a loaded
// machine). Many keys are sorted in two halves on two goroutines, then
// merged (sorting 1,000,000 took 0.6 s on one).
func sortInto(out []int32, keys []rankKey, cmp func(a, b rankKey) int, done <-chan struct{}) bool {
	if len(keys) < 1<<15 || runtime.GOMAXPROCS(0) < 2 {
		if !poll.SortFunc(keys, cmp, done, "rank order") {
			return false
		}
		for i, k := range keys {
			out[i] = k.x
		}
		return true
	}
	a, b := keys[:len(keys)/2], keys[len(keys)/2:]
	var wg sync.WaitGroup
	var aSorted bool
	wg.Go(func() { aSorted = poll.SortFunc(a, cmp, done, "rank order") })
	bSorted := poll.SortFunc(b, cmp, done, "rank order")
	wg.Wait()
	if !aSorted || !bSorted || poll.Stopped(done, "rank order") {
		return false
	}
	for i := range out {
		if len(b) == 0 || len(a) > 0 && cmp(a[0], b[0]) < 0 {
			out[i], a = a[0].x, a[1:]
		} else {
			out[i], b = b[0].x, b[1:]
		}
	}
	return true
}

// rankable returns, in a topological order (referrers first), the nodes
// that have a finite popularity: those a root (a node no other node
// references) reaches without passing through a cycle. The rest, the
// remainder, is every node no root reaches (in a finite graph, only a
// cycle leads to it) and every node on or below a cycle that a root
// reaches. Python appends the former unranked and crashes on the latter.
// Self-references were dropped earlier, so they never make a cycle.
func rankable(g *graph, done <-chan struct{}) []int32 {
	n := g.len()
	reached := make([]bool, n)
	queue := make([]int32, 0, n)
	for x := range int32(n) {
		if len(g.users.of(x)) == 0 {
			reached[x] = true
			queue = append(queue, x)
		}
	}
	for k := 0; k < len(queue); k++ {
		if k%poll.Every == 0 && poll.Stopped(done, "reach") {
			return nil
		}
		for _, c := range g.refs.of(queue[k]) {
			if !reached[c] {
				reached[c] = true
				queue = append(queue, c)
			}
		}
	}
	// Kahn's algorithm over the reached part: a node is taken once every
	// reached referrer of it is; nodes on or below a cycle never are.
	waiting := make([]int32, n)
	for _, x := range queue {
		for _, c := range g.refs.of(x) {
			waiting[c]++
		}
	}
	topo := make([]int32, 0, len(queue))
	for _, x := range queue {
		if waiting[x] == 0 {
			topo = append(topo, x)
		}
	}
	for k := 0; k < len(topo); k++ {
		if k%poll.Every == 0 && poll.Stopped(done, "topological order") {
			return nil
		}
		for _, c := range g.refs.of(topo[k]) {
			if waiting[c]--; waiting[c] == 0 {
				topo = append(topo, c)
			}
		}
	}
	return topo
}

// byHeight reorders a topological order of nodes by height, the length of
// the longest reference path from the node down within topo, highest
// first (a referrer is higher than what it references, so the order stays
// topological), keeping topo's order within a height.
//
// The ancestor pass (sumJob) works on chunks of consecutive positions, and
// its cost is the nodes below a chunk that only some of the chunk reaches
// (partial rows). Nodes of one height tend to reach the same nodes, so
// chunks of them give more full and empty rows than Kahn's order:
// measured on 100,000-path graphs, 14% less time on uniformly random
// references and 28% on storegen's.
func byHeight(g *graph, topo []int32, done <-chan struct{}) []int32 {
	n := g.len()
	in := make([]bool, n)
	for _, x := range topo {
		in[x] = true
	}
	height := make([]int32, n)
	top := int32(0)
	for k := len(topo) - 1; k >= 0; k-- {
		if k%poll.Every == 0 && poll.Stopped(done, "height") {
			return nil
		}
		x := topo[k]
		for _, c := range g.refs.of(x) {
			if in[c] {
				height[x] = max(height[x], height[c]+1)
			}
		}
		top = max(top, height[x])
	}
	// A counting sort: start[h] is where the nodes of height top-h begin.
	start := make([]int32, top+2)
	for _, x := range topo {
		start[top-height[x]+1]++
	}
	for h := 1; h < len(start); h++ {
		start[h] += start[h-1]
	}
	out := make([]int32, len(topo))
	for _, x := range topo {
		b := top - height[x]
		out[start[b]] = x
		start[b]++
	}
	return out
}

// positions maps each of n nodes to its place in topo, or -1.
func positions(n int, topo []int32) []int32 {
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = -1
	}
	for i, x := range topo {
		pos[x] = int32(i)
	}
	return pos
}

// topoParents returns, for each topological position, the positions of
// its ranked referrers in descending order (so that a scan can stop at the
// first one below a bound). It is the transpose of the ranked references,
// filled from the last referrer to the first so that every list comes out
// in descending order without sorting (sorting them was 0.7 s for
// 1,000,000 paths). A large graph's referrers are cut into bands of
// positions, one per core, each counted and filled by its own goroutine:
// a higher band's entries go first in every list.
func topoParents(g *graph, topo, pos []int32, done <-chan struct{}) csr {
	n := len(topo)
	k := percore.Parts(n, 1<<15)
	next := make([][]int32, k) // per band, per position: its count, then where its next entry goes
	percore.Run(n, k, func(b, lo, hi int) {
		next[b] = make([]int32, n)
		for i, x := range topo[lo:hi] {
			if i%poll.Every == 0 && poll.Stopped(done, "parents") {
				return
			}
			for _, r := range g.refs.of(x) {
				if q := pos[r]; q >= 0 {
					next[b][q]++
				}
			}
		}
	})
	c := csr{start: make([]int32, n+1)}
	if poll.Cancelled(done) {
		return c
	}
	for q := range n {
		at := c.start[q]
		for b := k - 1; b >= 0; b-- {
			at, next[b][q] = at+next[b][q], at
		}
		c.start[q+1] = at
	}
	c.list = make([]int32, c.start[n])
	percore.Run(n, k, func(b, lo, hi int) {
		for p := hi - 1; p >= lo; p-- {
			if (hi-p)%poll.Every == 0 && poll.Stopped(done, "parents") {
				return
			}
			for _, r := range g.refs.of(topo[p]) {
				if q := pos[r]; q >= 0 {
					c.list[next[b][q]] = int32(p)
					next[b][q]++
				}
			}
		}
	})
	return c
}

// pathCounts returns R for every position (roots count 1, every other node
// the sum over its referrers) as numbers of w words, where w is the width
// of T = Σ R(u) over all nodes. Every popularity, and every partial sum
// the counting forms, is a sum of distinct R(u) and so at most T: width w
// can never overflow. The width is found by doubling when a count or the
// total overflows, then trimmed to T's. The counts made before are exact
// and kept (widened): counting again from the start took half of
// pathCounts' instructions on 100,000 uniform paths, whose counts outgrow
// one word at the last 1%.
func pathCounts(parents csr, done <-chan struct{}) ([]uint64, int, error) {
	n := len(parents.start) - 1
	w := 1
	r, total := make([]uint64, n), make([]uint64, 1)
	for i := 0; i < n; {
		if i%poll.Every == 0 && poll.Stopped(done, "path counts") {
			return nil, 0, nil
		}
		ri := r[i*w : i*w+w]
		if countPaths(ri, r, w, total, parents.of(int32(i))) {
			i++
			continue
		}
		// Nodes before i fit in w words, and so did their total; the
		// counts need w+1 words at least.
		if err := checkCountBytes(n, w+1); err != nil {
			return nil, 0, err
		}
		w *= 2
		wider := make([]uint64, n*w)
		total = make([]uint64, w)
		for j := range i {
			copy(wider[j*w:], r[j*w/2:j*w/2+w/2])
			addTo(total, wider[j*w:j*w+w])
		}
		r = wider
	}
	tw := wordsOf(total)
	if err := checkCountBytes(n, tw); err != nil {
		return nil, 0, err
	}
	return narrow(r, w, tw), tw, nil
}

// maxCountBytes bounds the memory of one array of counts or sums (n
// numbers of w words; the counting holds a few of them at once). The
// counts of distinct reference paths grow exponentially with a graph's
// depth where paths share references: in a chain where each path
// references the next two they take n·0.69 bits each, so 50,000 such
// paths (a 10 MB graph) held 940 MB, and memory grows as the square of
// the paths, time faster. The bench's graphs stay far below it: 1,000,000
// uniformly drawn paths take 3 words each (24 MB); 128 MiB allows 1,000
// words (numbers of 64,000 bits) for 16,000 paths.
const maxCountBytes = 128 << 20

// checkCountBytes refuses counts of w words for n paths past
// maxCountBytes.
func checkCountBytes(n, w int) error {
	if int64(n)*int64(w)*8 <= maxCountBytes {
		return nil
	}
	return fmt.Errorf("the numbers of reference paths from the roots need more than %d bits for each of %d paths, past the %d MiB popularity keeps for them: %w",
		64*(w-1), n, maxCountBytes>>20, errdefs.ErrTooLarge)
}

// countPaths sets ri, w words, to the sum of the referrers' counts in r
// (1 for a root) and adds it to total; false when either overflows.
func countPaths(ri, r []uint64, w int, total []uint64, ps []int32) bool {
	clear(ri)
	if len(ps) == 0 {
		ri[0] = 1
	}
	for _, p := range ps {
		if addTo(ri, r[int(p)*w:int(p+1)*w]) != 0 {
			return false
		}
	}
	return addTo(total, ri) == 0
}

// splitClassic is nixpkgs' classic split of a popularity list into at most
// available store layers (reference §6.2): the available−1 most popular
// paths one per layer, then one layer with the rest in order. Fewer paths
// than layers gives one layer per path and no empty layer, as nixpkgs' G2
// pipeline does (its empty last graph is left out of its output).
func splitClassic(paths []string, available int) graphplan.Plan {
	singles := min(available-1, len(paths))
	plan := make(graphplan.Plan, 0, singles+1)
	for _, p := range paths[:singles] {
		plan = append(plan, []string{p})
	}
	if rest := paths[singles:]; len(rest) > 0 {
		plan = append(plan, rest)
	}
	return plan
}
