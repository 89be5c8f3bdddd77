package main

import "math/bits"

// orAdd sets row = x | a | b, word by word (row may be x), adds to sum the
// weight of the bits of row that base lacks and returns their number.
//
// It is most of the passes' work on graphs of uniformly drawn references
// (on 100,000 paths: 1.3 million rows, 99.5 million new bits in 19 million
// of their 42 million words). orDiff makes the row and the words of new
// bits in one pass (four words at a time where it can, see orwords.go);
// then only the words with new bits are visited. Weights of one to three
// words, the common widths, are summed in registers and added to sum
// once. The sums are modulo 2^(64·w), which the result fits.
func (ws *workspace) orAdd(row, x, a, b, base, sum []uint64) int32 {
	diff := ws.diff[:len(row)]
	mask := orDiff(row, x, a, b, base, diff)
	if ws.w == 1 && useAVX512 {
		s, ones := sumBits(ws.planes, diff, mask)
		sum[0] += s
		return int32(ones)
	}
	var lo, mid, hi uint64 // the sum, least significant word first
	ones := 0
	for ; mask != 0; mask &= mask - 1 {
		k := bits.TrailingZeros64(mask)
		d := diff[k]
		c := bits.OnesCount64(d)
		ones += c
		if c > 32 {
			ws.addDense(sum, k, d)
			continue
		}
		// The word's weights as arrays, one per word of a weight (see
		// planes), indexed by a bit's number without bounds checks.
		switch ws.w {
		case 1:
			lo += sum1((*[64]uint64)(ws.planes[k*64:]), d)
		case 2:
			p := ws.planes[k*128:]
			lo, mid = sum2(lo, mid, (*[64]uint64)(p), (*[64]uint64)(p[64:]), d)
		case 3:
			p := ws.planes[k*192:]
			lo, mid, hi = sum3(lo, mid, hi, (*[64]uint64)(p), (*[64]uint64)(p[64:]), (*[64]uint64)(p[128:]), d)
		default:
			w := ws.w
			weight := ws.chunkWeight[k*64*w : (k+1)*64*w]
			for ; d != 0; d &= d - 1 {
				t := bits.TrailingZeros64(d) * w
				addTo(sum, weight[t:t+w])
			}
		}
	}
	if ws.w <= 3 {
		addTo(sum, []uint64{lo, mid, hi}[:ws.w])
	}
	return int32(ones)
}

// addDense adds to dst the weight of the bits of word k set in d, most of
// them: the whole word's weight less the missing bits'.
func (ws *workspace) addDense(dst []uint64, k int, d uint64) {
	w := ws.w
	addTo(dst, ws.wordSum[k*w:k*w+w])
	weight := ws.chunkWeight[k*64*w : (k+1)*64*w]
	for d = ws.masks[k] &^ d; d != 0; d &= d - 1 {
		t := bits.TrailingZeros64(d) * w
		subFrom(dst, weight[t:t+w])
	}
}

// sum1, sum2 and sum3 add the weights of the bits of d, of 1, 2 and 3
// words (given as arrays of their least significant words, then their
// next), to the sum given in words, least significant first.
func sum1(weight *[64]uint64, d uint64) uint64 {
	var v uint64
	for ; d != 0; d &= d - 1 {
		v += weight[bits.TrailingZeros64(d)&63]
	}
	return v
}

func sum2(lo, hi uint64, w0, w1 *[64]uint64, d uint64) (uint64, uint64) {
	var c uint64
	for ; d != 0; d &= d - 1 {
		t := bits.TrailingZeros64(d) & 63
		lo, c = bits.Add64(lo, w0[t], 0)
		hi, _ = bits.Add64(hi, w1[t], c)
	}
	return lo, hi
}

func sum3(lo, mid, hi uint64, w0, w1, w2 *[64]uint64, d uint64) (uint64, uint64, uint64) {
	var c uint64
	for ; d != 0; d &= d - 1 {
		t := bits.TrailingZeros64(d) & 63
		lo, c = bits.Add64(lo, w0[t], 0)
		mid, c = bits.Add64(mid, w1[t], c)
		hi, _ = bits.Add64(hi, w2[t], c)
	}
	return lo, mid, hi
}
