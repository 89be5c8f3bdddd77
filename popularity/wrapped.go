package main

import (
	"math/bits"

	"dockertools.dev/imgkit/poll"
)

// Popularities from one-word passes.
//
// The ancestor passes (sumJob) add the weight of every new ancestor bit,
// w words each: on graphs of uniformly drawn references that is billions
// of additions (7.3 billion of 3 words at 1,000,000 paths). The passes
// run instead with one-word weights, R mod 2^64, giving every
// popularity modulo 2^64, and the exact value is recovered from a pass
// at full width over a small part of the graph:
//
// Let N be the number of ranked nodes, A(x) = {x} ∪ ancestors(x), and
// P(x) = Σ R(u) over u ∈ A(x), the popularity.
//
//  1. If u is an ancestor of x, R(x) ≥ R(u): every root→u path followed
//     by one fixed u→x path is a root→x path, a different one for each
//     root→u path.
//  2. Take T ≤ ⌊2^64 / N⌋ and call u big when R(u) ≥ T, small otherwise.
//     By 1, whatever a big node reaches is big, and every ancestor of a
//     small node is small; a node on a path between two big nodes is big.
//  3. Split P(x) = B(x) + S(x): B the sum of R(u) over the big u ∈ A(x),
//     S over the small ones. A(x) has at most N members, each small one
//     with R ≤ T − 1, so S(x) ≤ N·(T − 1) < N·T ≤ 2^64: S fits one word.
//  4. The one-word passes give L(x) = P(x) mod 2^64: they only add
//     weights and subtract them (a dense word's sum is the whole word's
//     less the missing bits', see addDense), never compare or divide
//     them, and addition and subtraction modulo 2^64 keep every equation
//     the passes rely on. Then
//     L(x) − B(x) ≡ S(x) (mod 2^64), and as 0 ≤ S(x) < 2^64,
//     S(x) = (L(x) − B(x)) mod 2^64 exactly, and P(x) = B(x) + S(x).
//  5. A small x has no big member in A(x) (by 2), so B(x) = 0 and
//     P(x) = L(x). For a big x, its big ancestors are exactly its
//     ancestors in the sub-DAG of the big nodes and the references among
//     them: every node on a path from a big ancestor u to x is reachable
//     from u, so big (by 2). One pass at full width over that sub-DAG
//     with the exact R as weights gives B(x) for every big x.
//
// The same holds with 2^m for 2^64 (m ≤ 64) when L is taken modulo 2^m:
// the tests use a small m, so that the sums wrap on small graphs.
//
// On graphs of uniformly drawn references few nodes are big: R grows
// towards the sinks, and only the nodes near them pass T. On a deep
// graph (a chain of paths each referencing the next few) nearly all are,
// and the pass over the big nodes costs nearly as much as passes at full
// width over the whole graph, on top of the one-word passes: when more
// than maxBigShare of the nodes are big, the passes run at full width
// over the whole graph, as before.

// wrapping sets how the ancestor sums are computed (the tests change it).
type wrapping struct {
	// bits: the one-word passes' sums are taken modulo 2^bits; 64, or
	// fewer in tests, so that they wrap on small graphs.
	bits uint
	// threshold: when not 0, T, if it is below ⌊2^bits / N⌋ (tests: more
	// big nodes).
	threshold uint64
	// maxBigShare: the share of big nodes above which the passes run at
	// full width over the whole graph instead.
	maxBigShare float64
}

// maxBigShare is wrapping.maxBigShare outside tests. The one-word passes
// cost about what passes at full width do where rows gain few bits each
// (deep graphs), so the pass over the big part is then what the recovery
// adds. Counted with cachegrind in BenchmarkWrapping (20,000 paths, 8
// references each among the window before; instructions of the passes
// and the recovery, recovered against full width): big share 1% (the
// uniform graph) 241M/258M, 6% 224M/249M, 12% 214M/224M, 25% 215M/206M,
// 36% 226M/210M, 44% 232M/198M, 72% 324M/280M, 81 to 99% 30 to 45%
// more. On the bench's uniform graphs (1.4% big at 100,000 paths) the
// one-word passes save far more: each row there gains about 75 bits.
const maxBigShare = 0.2

var defaultWrapping = wrapping{bits: 64, maxBigShare: maxBigShare}

// ancestorSums returns every position's popularity, w words each, from
// parents (descending referrer positions) and counts (R, w words each),
// and the number of big positions (0 when none needed telling apart).
func (o wrapping) ancestorSums(parents csr, counts []uint64, w, workers int, done <-chan struct{}) ([]uint64, int) {
	n := len(parents.start) - 1
	if w == 1 && o.bits == 64 {
		return runSums(parents, counts, 1, workers, done), 0
	}
	t := o.bigThreshold(n)
	var big []int32
	for p := range n {
		if c := counts[p*w : p*w+w]; c[0] >= t || wordsOf(c) > 1 {
			big = append(big, int32(p))
		}
	}
	if float64(len(big)) > o.maxBigShare*float64(n) {
		return runSums(parents, counts, w, workers, done), len(big)
	}
	low := make([]uint64, n)
	for p := range n {
		low[p] = counts[p*w]
	}
	l := runSums(parents, low, 1, workers, done)
	if poll.Cancelled(done) {
		return nil, 0
	}
	sub, subCounts := bigPart(parents, counts, w, big)
	b := runSums(sub, subCounts, w, workers, done)
	if poll.Cancelled(done) {
		return nil, 0
	}
	mask := ^uint64(0) >> (64 - o.bits)
	pop := make([]uint64, n*w)
	for p := range n {
		l[p] &= mask    // L(x) = P(x) mod 2^bits (4.)
		pop[p*w] = l[p] // exact for a small node (5.)
	}
	for k, p := range big {
		dst := pop[int(p)*w : int(p+1)*w]
		copy(dst, b[k*w:k*w+w])
		addWord(dst, (l[p]-dst[0])&mask) // B(x) + S(x) (4.)
	}
	return pop, len(big)
}

// bigThreshold is T for n ranked nodes: ⌊2^bits / n⌋, or the forced
// threshold when lower.
func (o wrapping) bigThreshold(n int) uint64 {
	var t uint64
	switch {
	case n <= 1:
		t = ^uint64(0) // for 2^64, which does not fit: any lower T is valid (2.)
		if o.bits < 64 {
			t = 1 << o.bits
		}
	case o.bits == 64:
		t, _ = bits.Div64(1, 0, uint64(n))
	default:
		t = (1 << o.bits) / uint64(n)
	}
	if o.threshold != 0 {
		t = min(t, o.threshold)
	}
	return t
}

// bigPart returns the sub-DAG of the positions big (ascending) and the
// references among them, positions renumbered by their place in big (so
// the lists stay descending), and its counts.
func bigPart(parents csr, counts []uint64, w int, big []int32) (csr, []uint64) {
	n := len(parents.start) - 1
	index := make([]int32, n)
	for p := range index {
		index[p] = -1
	}
	for k, p := range big {
		index[p] = int32(k)
	}
	sub := csr{start: make([]int32, len(big)+1)}
	subCounts := make([]uint64, len(big)*w)
	for k, p := range big {
		for _, q := range parents.of(p) {
			if index[q] >= 0 {
				sub.list = append(sub.list, index[q])
			}
		}
		sub.start[k+1] = int32(len(sub.list))
		copy(subCounts[k*w:k*w+w], counts[int(p)*w:int(p+1)*w])
	}
	return sub, subCounts
}

// runSums runs the ancestor passes: sumJob over parents with the weights
// weight, w words each.
func runSums(parents csr, weight []uint64, w, workers int, done <-chan struct{}) []uint64 {
	n := len(parents.start) - 1
	if n*w > 1<<24 {
		// Counts of thousands of bits (a graph thousands of levels deep):
		// each worker's accumulators would pass 128 MiB.
		workers = 1
	}
	job := &sumJob{parents: parents, weight: weight, w: w, chunk: chunkSize, done: done}
	return job.run(workers)
}

// addWord adds v to the number dst; the sum must fit.
func addWord(dst []uint64, v uint64) {
	for i := range dst {
		var c uint64
		dst[i], c = bits.Add64(dst[i], v, 0)
		if c == 0 {
			return
		}
		v = 1
	}
}
