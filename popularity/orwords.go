package main

import "math/bits"

// The word loops of the ancestor passes: the OR of three rows, and the
// same with the bits the result has and a base row lacks. On graphs of
// uniformly drawn references they run over 1.3 million rows of 32 words
// at 100,000 paths (90 million at 1,000,000), a quarter of the tool's
// time when done a word at a time; where the CPU has AVX2
// (orwords_amd64.go) they run four words at a time, and these loops do
// only the words past the last multiple of four. The weights of the new
// bits, summed modulo 2^64 (sumBits), are added eight at a time under a
// mask register where the CPU has AVX-512: on those graphs a word holds
// 5 new bits on average, and up to 32 (19 million words, 99.5 million
// bits at 100,000 paths), and a loop a bit at a time runs as many rounds
// as the word has bits, a number no branch predictor knows; eight masked
// adds take the same path for every word (0.92 s → 0.70 s at 100,000
// uniform paths).

// or3Words sets dst = x | a | b, word by word (dst may be x).
func or3Words(dst, x, a, b []uint64) {
	x, a, b = x[:len(dst)], a[:len(dst)], b[:len(dst)]
	for k := range dst {
		dst[k] = x[k] | a[k] | b[k]
	}
}

// orDiffWords sets row = x | a | b and diff = row &^ base, word by word
// (row may be x), and returns a mask with bit k set when diff[k] is not 0.
// Rows have at most 64 words.
func orDiffWords(row, x, a, b, base, diff []uint64) uint64 {
	n := len(row)
	x, a, b, base, diff = x[:n], a[:n], b[:n], base[:n], diff[:n]
	var mask uint64
	for k := range row {
		v := x[k] | a[k] | b[k]
		row[k] = v
		d := v &^ base[k]
		diff[k] = d
		if d != 0 {
			mask |= 1 << k
		}
	}
	return mask
}

// sumBitsWords is sumBits a bit at a time (orAdd's sum1 for each word):
// the sum modulo 2^64 of weights[64k+t] over the bits t of diff[k], for
// every k whose bit is set in mask, and the number of those bits.
func sumBitsWords(weights, diff []uint64, mask uint64) (uint64, int) {
	var sum uint64
	ones := 0
	for ; mask != 0; mask &= mask - 1 {
		k := bits.TrailingZeros64(mask)
		sum += sum1((*[64]uint64)(weights[64*k:]), diff[k])
		ones += bits.OnesCount64(diff[k])
	}
	return sum, ones
}
