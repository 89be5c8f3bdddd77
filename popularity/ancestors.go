package main

import (
	"math/bits"
	"sync"
	"sync/atomic"
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
//   - a chunk's rows only cover the positions from the chunk on, since
//     earlier positions cannot be below it;
//   - rows are stored only for the nodes that build one, in the order
//     they do, each next to its weight sum, and what a pass reads of a
//     position (state, bits, slot) sits in one small record: the pass is
//     bound by the latency of fetching referrers' rows, not by arithmetic.
//
// The worst case stays O(N·(N+M)/64) word operations plus O(N²/64·w) for
// the sums. Chunks are shared among workers, each with its own
// accumulators, summed at the end.
type sumJob struct {
	parents csr      // per position, referrer positions in descending order
	weight  []uint64 // per position, w words
	w       int
	chunk   int // a multiple of 64: chunkSize, smaller in tests
}

// posInfo is what the pass knows of a position: its row's state, number
// of bits and slot (maybe another position's).
type posInfo struct {
	slot  int32
	ones  int32
	state uint8
}

// Row states. Only partial rows hold bits in workspace.rows.
const (
	rowEmpty uint8 = iota
	rowPartial
	rowFull
)

// chunkSize is the number of ancestors per pass: rows of 128 bytes, which
// for 100,000 nodes keep a worker's rows (at most 12.8 MB) in a shared L3
// cache. 2048 runs 5-8% fewer instructions (cachegrind, 30,000 paths) but
// doubles the rows and measured no faster on the 100,000-path graphs;
// neither did 256, 512 or 4096 with the rows stored as they are now.
const chunkSize = 1024

// run returns the sums, w words per position.
func (j *sumJob) run(workers int) []uint64 {
	n := len(j.parents.start) - 1
	if n == 0 {
		return nil
	}
	chunks := (n + j.chunk - 1) / j.chunk
	workers = max(1, min(workers, chunks))
	var next atomic.Int64
	accs := make([][]uint64, workers)
	var wg sync.WaitGroup
	for k := range accs {
		accs[k] = make([]uint64, n*j.w)
		wg.Go(func() {
			ws := j.workspace(n)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				ws.sum(c*j.chunk, accs[k])
			}
		})
	}
	wg.Wait()
	w := j.w
	for _, acc := range accs[1:] {
		for x := 0; x < n; x++ {
			addTo(accs[0][x*w:x*w+w], acc[x*w:x*w+w])
		}
	}
	return accs[0]
}

// workspace is one worker's reusable memory.
type workspace struct {
	*sumJob
	rows        []uint64  // per slot: the row's weight (w words), then its bits (wc words)
	info        []posInfo // per position from the chunk on
	stride      int       // words per slot
	next        int32     // the next free slot
	wc          int       // words per row in the current chunk
	zero        []uint64  // an empty row
	chunkWeight []uint64  // chunk × w: the weights of the chunk's members
	wordSum     []uint64  // chunk/64 × w: the weight of each full word
	total       []uint64  // w: the weight of the whole chunk
	masks       []uint64  // the valid bits of each word (the last chunk may be short)
	bits        int       // the number of positions in the chunk
}

func (j *sumJob) workspace(n int) *workspace {
	wc := j.chunk / 64
	return &workspace{
		sumJob:      j,
		rows:        make([]uint64, n*(wc+j.w)),
		info:        make([]posInfo, n),
		zero:        make([]uint64, wc),
		chunkWeight: make([]uint64, j.chunk*j.w),
		wordSum:     make([]uint64, wc*j.w),
		total:       make([]uint64, j.w),
		masks:       make([]uint64, wc),
	}
}

// sum adds the chunk starting at position s to acc.
func (ws *workspace) sum(s int, acc []uint64) {
	n := len(ws.parents.start) - 1
	e := min(s+ws.chunk, n)
	ws.wc = (e - s + 63) / 64
	ws.bits = e - s
	w := ws.w
	ws.prepare(s, e, ws.wc)
	ws.stride = ws.wc + w
	ws.next = 0
	for x := s; x < n; x++ {
		i := x - s
		parents := ws.parents.of(int32(x))
		st, p0, partials := ws.pick(parents, s)
		switch {
		case st == rowFull:
		case st == rowPartial && partials == 1 && x >= e:
			// Exactly the chunk ancestors of its one partial referrer:
			// share that row rather than copy it.
			ws.info[i].slot, ws.info[i].ones = ws.info[p0].slot, ws.info[p0].ones
		case st == rowPartial || x < e:
			st = ws.build(i, x < e, p0, parents, s)
		}
		ws.info[i].state = st
		dst := acc[x*w : x*w+w]
		switch st {
		case rowFull:
			addTo(dst, ws.total)
		case rowPartial:
			t := int(ws.info[i].slot) * ws.stride
			addTo(dst, ws.rows[t:t+w])
		}
	}
}

// pick looks at the referrers inside the chunk (from position s on): the
// row is full if one of theirs is; else partial if some are, with p0 the
// one with the most bits; else empty.
func (ws *workspace) pick(parents []int32, s int) (st uint8, p0, partials int) {
	p0 = -1
	most := int32(-1)
	for _, p := range parents {
		j := int(p) - s
		if j < 0 {
			break // descending: the rest are above the chunk too
		}
		switch ws.info[j].state {
		case rowFull:
			return rowFull, -1, 0
		case rowPartial:
			partials++
			if ws.info[j].ones > most {
				p0, most = j, ws.info[j].ones
			}
		}
	}
	if partials > 0 {
		st = rowPartial
	}
	return st, p0, partials
}

// build makes the row of position i: the OR of its partial referrers' rows
// and, when own, its own bit. A node's ancestors include each referrer's,
// so the row is mostly p0's: its weight is p0's plus that of the bits p0
// lacks, which are few. It returns whether the row came out full.
func (ws *workspace) build(i int, own bool, p0 int, parents []int32, s int) uint8 {
	wc, w, stride := ws.wc, ws.w, ws.stride
	slot := int(ws.next)
	ws.next++
	ws.info[i].slot = int32(slot)
	sum := ws.rows[slot*stride : slot*stride+w]
	row := ws.rows[slot*stride+w : slot*stride+stride]
	base := ws.zero[:wc]
	ones := int32(0)
	if p0 >= 0 {
		t := int(ws.info[p0].slot) * stride
		copy(sum, ws.rows[t:t+w])
		base = ws.rows[t+w : t+stride]
		copy(row, base)
		ones = ws.info[p0].ones
		for _, p := range parents {
			j := int(p) - s
			if j < 0 {
				break
			}
			if j != p0 && ws.info[j].state == rowPartial {
				t := int(ws.info[j].slot)*stride + w
				orInto(row, ws.rows[t:t+wc])
			}
		}
	} else {
		clear(row)
		clear(sum)
	}
	if own {
		row[i>>6] |= 1 << (i & 63)
	}
	for k, word := range row {
		if d := word &^ base[k]; d != 0 {
			ones += int32(bits.OnesCount64(d))
			ws.addWord(sum, k, d)
		}
	}
	ws.info[i].ones = ones
	if int(ones) == ws.bits {
		return rowFull
	}
	return rowPartial
}

// addWord adds to dst the weight of the bits of word k that are set in d,
// one by one from the chunk's weights (a small array that stays in cache),
// or for a mostly full d as the whole word's weight less the missing bits.
// Counts of one or two words, the common widths, are summed in registers:
// going through dst for every bit makes each addition wait for the last.
func (ws *workspace) addWord(dst []uint64, k int, d uint64) {
	w := ws.w
	weight := ws.chunkWeight[k*64*w : (k+1)*64*w]
	sub := bits.OnesCount64(d) > 32
	if sub {
		addTo(dst, ws.wordSum[k*w:k*w+w])
		d = ws.masks[k] &^ d
	}
	switch w {
	case 1:
		var v uint64
		for ; d != 0; d &= d - 1 {
			v += weight[bits.TrailingZeros64(d)]
		}
		if sub {
			dst[0] -= v
		} else {
			dst[0] += v
		}
	case 2:
		var lo, hi, c uint64
		for ; d != 0; d &= d - 1 {
			t := bits.TrailingZeros64(d) * 2
			lo, c = bits.Add64(lo, weight[t], 0)
			hi += weight[t+1] + c
		}
		if sub {
			subFrom(dst, []uint64{lo, hi})
		} else {
			addTo(dst, []uint64{lo, hi})
		}
	default:
		for ; d != 0; d &= d - 1 {
			t := bits.TrailingZeros64(d) * w
			if sub {
				subFrom(dst, weight[t:t+w])
			} else {
				addTo(dst, weight[t:t+w])
			}
		}
	}
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
		ws.masks[k] = ^uint64(0)
		if left := e - s - k*64; left < 64 {
			ws.masks[k] = 1<<left - 1
		}
	}
}

// orInto sets dst |= src, four words at a time: the loads of one row are
// independent, and rows come from all over a buffer larger than the cache.
func orInto(dst, src []uint64) {
	src = src[:len(dst)]
	k := 0
	for ; k+4 <= len(dst); k += 4 {
		d, s := dst[k:k+4:k+4], src[k:k+4:k+4]
		d[0] |= s[0]
		d[1] |= s[1]
		d[2] |= s[2]
		d[3] |= s[3]
	}
	for ; k < len(dst); k++ {
		dst[k] |= src[k]
	}
}
