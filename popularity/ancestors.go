package main

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"dockertools.dev/imgkit/poll"
)

// sumJob computes, for every node x of a DAG in topological order, the sum
// of weight(u) over u ∈ {x} ∪ ancestors(x). Summing over ancestor SETS
// (not paths) is the expensive part of the popularity order: a search per
// node costs O(N·(N+M)). Instead the ancestors are taken in chunks of
// `chunk` consecutive positions; for one chunk, one pass in topological
// order gives every node a bitset (a row) of the chunk members among its
// ancestors: its own bit, OR its referrers' rows.
//
// Shortcuts make the pass cheap on real graphs:
//   - a row is "empty", "full" or real bits, so a node below a full
//     referrer costs one check and one addition of the chunk's total;
//   - a node's weight sum is that of its referrer with the most bits plus
//     the weight of the bits that referrer lacks, which are few;
//   - a node with one partial referrer shares its row instead of copying;
//   - a pass visits only the chunk's descendants, the positions its
//     rows are not empty at, and touches only the references out of them
//     (see sum);
//   - rows are stored only for the nodes that build one, in the order
//     they do, each next to its weight sum; what a pass reads of a
//     position's row (slot, number of bits) sits in 8 bytes (rowRef), its
//     state in a bitmap that stays in cache (stateOf); a row is asked
//     for (prefetchRow) as soon as a reader finds it, and the passes'
//     memory asks for huge pages (hugePages).
//
// Where ancestor sets are broad and irregular (uniformly drawn
// references) most of the time goes to the partial rows: on 100,000 such
// paths the passes build 1.3 million rows, each the OR of about 4.5
// referrers' rows, and add the weights of about 75 new bits to each (99.5
// million additions in all, see orAdd); on 1,000,000 they build 90
// million rows (430 million ORs of rows, 7.3 billion new bits): both grow
// as N². Other orders of the positions (Kahn's, depth first, by depth,
// by height with ties by min-hashes of the descendant or ancestor sets)
// gave as many partial rows as byHeight's or up to 25% more, and a pass
// over 1024 or 4096 ancestors builds nearly as many rows as one over 2048
// (89% and 116% at 1,000,000 paths): on such graphs no grouping of
// ancestors makes the rows full or empty.
//
// Why, on those graphs (path j draws its 8 references among the j paths
// drawn before it, so a later path k references j with chance 8/k), by a
// rough estimate, not measured: while j's ancestors among the paths drawn
// up to k = j(1+t) are few, each referenced path is one with chance about
// 8/k per ancestor, so they grow like e^(8t)/j, and their density passes
// from 1 in 2048 to one half over a span of t of about 0.9; once dense,
// a path k is a non-ancestor with chance about (s/k)^8, s where the
// density saturated, which reaches 1 in 2048 only at k ≈ 2.6 s. So the
// band of chunks partial for j is a constant share of the paths above it,
// with Θ(j) ancestors and Θ(j) non-ancestors: Θ(N²) bits in all whatever
// is stored (the set, its complement, intervals of an order), and no such
// representation changes the exponent, only the constant. Counted at
// 100,000 paths (session 30), the partial rows by their bits agree:
// every density is common. Of 1.32 million rows, 26% hold at most 8 of
// the 2048 bits, 16% 9-32, 15% 33-128, 13% 129-512, 13% 513-1535, and 6%
// 129-512 holes, 3% 33-128, 2% 9-32, 5% at most 8. Rows kept as lists of
// bits or of holes where short would shrink the reads of fewer than
// half of the ORs (of the 7.2 million rows ORed into a base's, 33% go
// into rows of at most 128 bits, whose sources have no more, 23% into
// rows of at most 128 holes): a factor of 2 on the ORs at best, not
// tried.
//
// At 1,000,000 paths the rows a pass reads, about 100 MB, and the records
// of the referrers (20 MB) are read at random, far past the caches: perf
// (session 30) put 77% of pull's samples on the load of a partial
// referrer's record and 58% of sum's on a push's; or3 26%, pull 24%, sum
// 19%, orDiff 10%, memmove 7%, sumBits 5% of the tool. Kept, on the shared
// 2-core machine at load 5 to 27 (user CPU seconds; wall times there were
// 2 to 6 times longer and meaningless): the slot and bits of a row in
// rowRef (8 bytes a position) instead of the 20-byte posInfo, 300,000
// uniform paths 9.6 and 10.8 s against 10.3 and 11.7 interleaved;
// prefetchRow, 6.3 and 7.2 s against 9.6 and 10.0 interleaved, and 93 s at
// 1,000,000 paths against 114 (not side by side); huge pages, no
// difference at 300,000 paths (8.1 and 8.8 s against 8.5 and 8.8), 79 s at
// 1,000,000 against 89 side by side (peak RSS 0.92 GB against 1.06), and
// 86 in a later pair. The three, 88 s against 133 for the code before
// them, side by side at 1,000,000 paths: still about 40 s on two free
// cores, where 15 s is the target. What is left, in perf with rowRef and
// prefetchRow: pull 23% (70% of it the load of a referrer's rowRef), sum
// 22%, prefetchRow 22% (waiting for the lines it asks for), or3 7%,
// sumBits 7%, orDiff 5%. Dropped, no faster at 300,000 paths interleaved:
// prefetching the rows pushed to positions with many referrers (7.1 and
// 8.1 s against 6.2 and 8.0), prefetching the rowRefs of the next visited
// position's partial referrers (7.9 and 8.5 against 7.6 and 7.9; 90 s
// against 86 side by side at 1,000,000 paths), and sharing base's row
// rather than copying it when the others add no bit to it (8.4 and 7.7
// against 8.2 and 7.9).
//
// The worst case stays O(N·(N+M)/64) word operations plus O(N²/64·w) for
// the sums. Chunks are shared among workers, each with its own
// accumulators, summed at the end.
//
// Nothing much faster is to be expected for every graph: exact
// popularities are as hard as Orthogonal Vectors. Given a_1…a_n and
// b_1…b_n in {0,1}^d, let the roots a_j reference c_i where a_j[i] = 1,
// and c_i reference b_k where b_k[i] = 1. Then R(b_k) is the sum of R(c_i)
// over its referrers, and popularity(b_k) = 2·R(b_k) + the number of a_j
// sharing a coordinate with b_k: linear time from the popularities to
// whether some a_j and b_k are orthogonal (the identity is checked by
// TestPopularityCountsNonOrthogonalPairs). So no algorithm computes them
// in O(M^(2−ε)) time on graphs of M references (here M ≤ 2nd, d of order
// log n) unless the Orthogonal Vectors conjecture, which the Strong
// Exponential Time Hypothesis implies, fails. The bitsets divide N² by 64;
// the shortcuts above help where the graph has structure, and uniformly
// drawn references have none for them.
type sumJob struct {
	parents  csr      // per position, referrer positions in descending order
	children csr      // per position, the positions it references that pull, ascending (run fills it)
	pushTo   csr      // per position, the positions it references that have rows pushed (run fills it)
	pulls    []bool   // per position: it pulls its referrers' rows rather than have them pushed (run fills it)
	weight   []uint64 // per position, w words
	w        int
	chunk    int // a multiple of 64: chunkSize, smaller in tests
	pull     int // the most referrers a position pulls from: 0 is pullLimit, negative none (tests)
	// done, when closed, stops the setup and the workers, within a chunk
	// too (imgkit/poll): a large graph takes seconds, one chunk of it tens
	// of milliseconds, and SIGTERM must not wait for them.
	done <-chan struct{}
}

// posInfo is what the pass knows of a position before it is visited:
// what its visited referrers pushed to it: whether one is full, how many
// are partial (0, 1, 2 for more), the partial one with the most bits
// (base, whose weight sum the row's starts from, and most, its number of
// bits) and the list of the partial ones (head, in workspace.links).
type posInfo struct {
	most     int32
	base     int32
	head     int32 // 1 + the index of the first link; 0 for none
	partials uint8
	full     bool
}

// rowRef is where a partial row is and its number of bits: what a
// position's children read of it. It is kept apart from posInfo so that
// the reads, one per partial referrer and from all over the chunk's
// descendants, fetch 8 bytes of an array of 8 per position rather than a
// record of 20 (see workspace.ref).
type rowRef struct{ slot, ones int32 }

// link is one entry of a position's list of partial referrers: the
// referrer's slot (settled when it pushes, so settling the position need
// not look the referrer up again) and the next link.
type link struct{ slot, next int32 }

// Row states. Only partial rows hold bits in workspace.rows.
const (
	rowEmpty uint8 = iota
	rowPartial
	rowFull
)

// chunkSize is the number of ancestors per pass: rows of 256 bytes. Fewer
// passes visit fewer full rows; the partial rows cost the same in all
// (their bits, the ORs and the weights of new bits, add up to the same).
// On the 100,000-path graphs (cachegrind, one worker) 2048 runs 18% fewer
// instructions than 1024 on uniformly drawn references and 6% fewer on
// storegen's; 4096 runs 11% fewer on uniform, but its weights (64 KB for
// two words, see planes) no longer fit the level-1 cache: 63% more
// misses there, and a worker's rows take 218 MB at 1,000,000 uniform
// paths (98 MB with 2048) for passes about 5% faster.
const chunkSize = 2048

// run returns the sums, w words per position.
func (j *sumJob) run(workers int) []uint64 {
	n := len(j.parents.start) - 1
	if n == 0 {
		return nil
	}
	limit := j.pull
	if limit == 0 {
		limit = pullLimit
	}
	j.pulls = make([]bool, n)
	for x := range n {
		j.pulls[x] = len(j.parents.of(int32(x))) <= limit
	}
	t := transpose(j.parents, j.done)
	if poll.Cancelled(j.done) {
		return nil
	}
	j.children, j.pushTo = split(t, j.pulls, j.done)
	if poll.Cancelled(j.done) {
		return nil
	}
	chunks := (n + j.chunk - 1) / j.chunk
	workers = max(1, min(workers, chunks))
	var next atomic.Int64
	accs := make([][]uint64, workers)
	var wg sync.WaitGroup
	for k := range accs {
		accs[k] = make([]uint64, n*j.w)
		hugePages(accs[k])
		wg.Go(func() {
			ws := j.workspace(n)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks || !ws.sum(c*j.chunk, accs[k]) {
					return
				}
			}
		})
	}
	wg.Wait()
	if poll.Cancelled(j.done) {
		return nil
	}
	w := j.w
	for _, acc := range accs[1:] {
		for x := 0; x < n; x++ {
			addTo(accs[0][x*w:x*w+w], acc[x*w:x*w+w])
		}
	}
	return accs[0]
}

// split divides the lists of c in two: the entries for which in holds
// and the others. The pass reads a position's references in two loops
// rather than look each one up (in, 1 MB for 1,000,000 positions, is read
// at random).
func split(c csr, in []bool, done <-chan struct{}) (yes, no csr) {
	n := len(c.start) - 1
	yes = csr{start: make([]int32, n+1), list: make([]int32, 0, len(c.list))}
	no = csr{start: make([]int32, n+1)}
	for x := range int32(n) {
		if x%poll.Every == 0 && poll.Stopped(done, "split") {
			return yes, no
		}
		for _, y := range c.of(x) {
			if in[y] {
				yes.list = append(yes.list, y)
			} else {
				no.list = append(no.list, y)
			}
		}
		yes.start[x+1], no.start[x+1] = int32(len(yes.list)), int32(len(no.list))
	}
	return yes, no
}

func (j *sumJob) stopped() bool { return poll.Stopped(j.done, "ancestors") }

// workspace is one worker's reusable memory.
type workspace struct {
	*sumJob
	rows        []uint64   // per slot: the row's weight (w words), then its bits (wc words); a slot is taken per row of its own, in the order they are made
	info        []posInfo  // per position from the chunk on; zero outside a pass
	ref         []rowRef   // per position from the chunk on: its row's, when partial (maybe another position's slot)
	reached     []uint64   // per position from the chunk on: a bit for each the pass must visit
	states      []uint64   // per position from the chunk on: its row's state in 2 bits, what pull reads of most referrers (see stateOf)
	visited     []int32    // the positions (from the chunk on) the pass visited
	links       []link     // the lists of partial referrers pushed to positions
	srcs        [][]uint64 // settle's rows to OR into the base's
	slots       []int32    // the slots of the partial referrers of the position being visited
	stride      int        // words per slot
	next        int32      // the next free slot
	wc          int        // words per row in the current chunk
	zero        []uint64   // an empty row
	diff        []uint64   // orAdd's: the bits of the row being made that its base lacks
	chunkWeight []uint64   // chunk × w: the weights of the chunk's members
	planes      []uint64   // chunkWeight by word of the row, then by word of the weight: 64 least significant words, 64 next, … (orAdd's for w ≤ 3)
	wordSum     []uint64   // chunk/64 × w: the weight of each full word
	total       []uint64   // w: the weight of the whole chunk
	masks       []uint64   // the valid bits of each word (the last chunk may be short)
	bits        int        // the number of positions in the chunk
	s           int        // the chunk's first position
}

func (j *sumJob) workspace(n int) *workspace {
	wc := j.chunk / 64
	ws := &workspace{
		sumJob:      j,
		info:        make([]posInfo, n),
		ref:         make([]rowRef, n),
		reached:     make([]uint64, (n+63)/64),
		states:      make([]uint64, (n+31)/32),
		zero:        make([]uint64, wc),
		diff:        make([]uint64, wc),
		chunkWeight: make([]uint64, j.chunk*j.w),
		planes:      make([]uint64, j.chunk*j.w),
		wordSum:     make([]uint64, wc*j.w),
		total:       make([]uint64, j.w),
		masks:       make([]uint64, wc),
	}
	hugePages(ws.info)
	hugePages(ws.ref)
	hugePages(ws.states)
	return ws
}

// sum adds the chunk starting at position s to acc. It visits only the
// chunk's descendants, in topological order: a position no chunk member
// reaches has an empty row and adds nothing. A visited position pushes
// its row to what it references (the positions further on it marks in a
// bitmap that the pass scans in order), so that the pass touches the
// edges out of the chunk's descendants only, never a referrer outside
// them: a node referenced by thousands costs nothing in the passes that
// reach it from a few. On a 1,000,000-path graph of storegen's
// (preferential attachment, `make bench`'s popularity graph) the pass that
// visited every position from the chunk on and read every referrer took
// 19.9 of the tool's 33 CPU seconds; this one takes 5.8.
func (ws *workspace) sum(s int, acc []uint64) bool {
	n := len(ws.parents.start) - 1
	e := min(s+ws.chunk, n)
	ws.s = s
	ws.wc = (e - s + 63) / 64
	ws.bits = e - s
	w := ws.w
	ws.prepare(s, e, ws.wc)
	ws.stride = ws.wc + w
	ws.next = 0
	reached := ws.reached
	for i := 0; i < e-s; i += 64 {
		reached[i>>6] = ^uint64(0)
	}
	if rest := (e - s) & 63; rest != 0 {
		reached[(e-s)>>6] = 1<<rest - 1
	}
	ws.visited, ws.links = ws.visited[:0], ws.links[:0]
	for k := 0; k<<6 < n-s; k++ {
		// A look per poll.Every positions, at most that many visits.
		if k%(poll.Every/64) == 0 && ws.stopped() {
			return false // the workspace is dropped with the sums
		}
		for reached[k] != 0 {
			word := reached[k]
			reached[k] = word & (word - 1)
			i := k<<6 | bits.TrailingZeros64(word)
			ws.visited = append(ws.visited, int32(i))
			st := ws.visit(i, i < e-s)
			ws.states[i>>5] |= uint64(st) << (i & 31 * 2)
			x := s + i
			dst := acc[x*w : x*w+w]
			switch st {
			case rowFull:
				addTo(dst, ws.total)
			case rowPartial:
				t := int(ws.ref[i].slot) * ws.stride
				addTo(dst, ws.rows[t:t+w])
			}
			for _, c := range ws.children.of(int32(x)) {
				j := int(c) - s
				reached[j>>6] |= 1 << (j & 63)
			}
			for _, c := range ws.pushTo.of(int32(x)) {
				j := int(c) - s
				reached[j>>6] |= 1 << (j & 63)
				ws.push(i, j, st)
			}
		}
	}
	for _, i := range ws.visited {
		ws.info[i] = posInfo{}
		ws.states[i>>5] = 0
	}
	return true
}

// stateOf is the state of the row at position j (from the chunk on). Most
// referrers a position pulls from are empty or full: their states, 250 KB
// for 1,000,000 positions, stay in the core's cache, where their info
// records (20 MB) would be fetched from memory one by one.
func (ws *workspace) stateOf(j int) uint8 {
	return uint8(ws.states[j>>5] >> (j & 31 * 2) & 3)
}

// newSlot returns a free slot of rows, growing them as needed: a pass
// takes as many slots as it makes rows, which on real graphs is a small
// part of the positions.
func (ws *workspace) newSlot() int32 {
	slot := ws.next
	ws.next++
	if need := int(ws.next) * ws.stride; need > len(ws.rows) {
		rows := make([]uint64, max(need, 2*len(ws.rows)))
		hugePages(rows)
		copy(rows, ws.rows)
		ws.rows = rows
	}
	return slot
}

// visit settles the row of position i (of the chunk when member) and
// returns its state: from what its referrers pushed, or for a position
// with few referrers, from their rows read now (pull).
func (ws *workspace) visit(i int, member bool) uint8 {
	if ws.pulls[ws.s+i] {
		return ws.pull(i, member)
	}
	in := &ws.info[i]
	switch {
	case in.full:
		return rowFull
	case in.partials == 1 && !member:
		// Exactly the chunk ancestors of its one partial referrer: share
		// that row rather than copy it.
		ws.ref[i] = ws.ref[in.base]
		return rowPartial
	default:
		base := int32(-1)
		if in.partials > 0 {
			base = in.base
		}
		slots := ws.slots[:0]
		for l := in.head - 1; l >= 0; l = ws.links[l].next {
			slots = append(slots, ws.links[l].slot)
		}
		ws.slots = slots
		return ws.settle(i, member, base, slots)
	}
}

// pullLimit is the most referrers a position pulls from. A referrer
// outside the pass reads as empty, and reading it costs as much as a
// referrer in it: a position referenced by thousands (a libc) would read
// them all in every pass that reaches it, so such positions have the
// rows pushed instead (push). Pulling reads the referrers' rows where
// they are, which on graphs of uniformly drawn references cost a third
// fewer cache misses (cachegrind, 100,000 paths) than pushing to all.
const pullLimit = 32

// pull settles the row of position i from its referrers in the pass, as
// visit does from what was pushed.
func (ws *workspace) pull(i int, member bool) uint8 {
	parents := ws.parents.of(int32(ws.s + i))
	p0, most := -1, int32(-1)
	slots := ws.slots[:0]
	for _, p := range parents {
		j := int(p) - ws.s
		if j < 0 {
			break // descending: the rest are above the chunk too
		}
		switch ws.stateOf(j) {
		case rowFull:
			return rowFull
		case rowPartial:
			r := ws.ref[j]
			// settle reads the row once every referrer is looked at:
			// ask for its lines now, so that the misses on the rows of
			// all the referrers overlap (see prefetchRow).
			prefetchRow(&ws.rows[int(r.slot)*ws.stride+ws.w])
			slots = append(slots, r.slot)
			if r.ones > most {
				p0, most = j, r.ones
			}
		}
	}
	ws.slots = slots
	partials := len(slots)
	switch {
	case partials == 1 && !member:
		ws.ref[i] = ws.ref[p0]
		return rowPartial
	case partials > 0 || member:
		return ws.settle(i, member, int32(p0), slots)
	}
	return rowEmpty
}

// push tells position j, which visited position i (in state st)
// references, about i's row. The rows are only combined when j is
// visited: by then a full referrer may have made that needless.
func (ws *workspace) push(i, j int, st uint8) {
	to := &ws.info[j]
	switch {
	case to.full:
	case st == rowFull:
		to.full = true
	default:
		to.partials = min(to.partials+1, 2)
		r := ws.ref[i]
		ws.links = append(ws.links, link{slot: r.slot, next: to.head - 1})
		to.head = int32(len(ws.links))
		if r.ones > to.most {
			to.most, to.base = r.ones, int32(i)
		}
	}
}

// settle makes the row of position i: the OR of its partial referrers'
// rows (base's, and those in the slots others, which may hold base's)
// and, for a chunk member, its own bit. A node's ancestors include each
// referrer's, so the row is mostly that of the referrer with the most
// bits (base, -1 for none): its weight is base's plus that of the bits
// base lacks, which are few. It returns whether the row came out full.
func (ws *workspace) settle(i int, member bool, base int32, others []int32) uint8 {
	wc, w, stride := ws.wc, ws.w, ws.stride
	slot := ws.newSlot()
	t := int(slot) * stride
	sum, row := ws.rows[t:t+w], ws.rows[t+w:t+stride]
	baseRow := ws.zero[:wc]
	ones := int32(0)
	srcs := ws.srcs[:0]
	if base >= 0 {
		b := ws.ref[base]
		u := int(b.slot) * stride
		copy(sum, ws.rows[u:u+w])
		baseRow = ws.rows[u+w : u+stride]
		ones = b.ones
		for _, o := range others {
			// Referrers sharing base's row (one slot) add nothing to it.
			if o != b.slot {
				u := int(o)*stride + w
				srcs = append(srcs, ws.rows[u:u+wc])
			}
		}
	} else {
		clear(sum)
	}
	ws.srcs = srcs
	// The OR of the rows, two a pass, so that a row of five referrers
	// takes three passes over the words rather than seven (a copy, five
	// ORs and a pass for the bits base lacks); the last pass also adds
	// the weight of the bits base lacks, which are few. A position
	// referenced by thousands ORs thousands.
	acc := baseRow
	k := 0
	for ; len(srcs)-k > 2; k += 2 {
		or3(row, acc, srcs[k], srcs[k+1])
		acc = row
	}
	switch len(srcs) - k {
	case 0:
		copy(row, baseRow)
	case 1:
		ones += ws.orAdd(row, acc, srcs[k], ws.zero, baseRow, sum)
	default:
		ones += ws.orAdd(row, acc, srcs[k], srcs[k+1], baseRow, sum)
	}
	if member {
		// No ancestor of i has its bit.
		row[i>>6] |= 1 << (i & 63)
		ones++
		addTo(sum, ws.chunkWeight[i*w:i*w+w])
	}
	ws.ref[i] = rowRef{slot: slot, ones: ones}
	if int(ones) == ws.bits {
		return rowFull
	}
	return rowPartial
}

// prepare sets the chunk's weights (zero past its end), word sums, masks
// and total for the chunk [s, e).
func (ws *workspace) prepare(s, e, wc int) {
	w := ws.w
	weight := ws.chunkWeight[:wc*64*w]
	clear(weight)
	copy(weight, ws.weight[s*w:e*w])
	clear(ws.total)
	for k := 0; k < wc; k++ {
		sum := ws.wordSum[k*w : k*w+w]
		clear(sum)
		for t := k * 64; t < k*64+64; t++ {
			addTo(sum, weight[t*w:t*w+w])
		}
		addTo(ws.total, sum)
		for t := range 64 {
			for m := range w {
				ws.planes[(k*w+m)*64+t] = weight[(k*64+t)*w+m]
			}
		}
		ws.masks[k] = ^uint64(0)
		if left := e - s - k*64; left < 64 {
			ws.masks[k] = 1<<left - 1
		}
	}
}
