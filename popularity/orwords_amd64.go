package main

import (
	"math/bits"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the vector loops (orwords_amd64.s), from the CPU's
// features; useAVX512 the sums of one-word weights under mask registers.
var (
	useAVX2   = cpu.X86.HasAVX2
	useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasPOPCNT && cpu.X86.HasBMI1
)

//go:noescape
func sumBitsAVX512(weights, diff *uint64, mask uint64) (sum uint64, ones int)

// prefetchRow asks for the cache lines of the row at p to be fetched
// (orwords_amd64.s). At 1,000,000 uniform paths the rows a pass reads
// take about 100 MB and are read at random, each a miss: settle ORs a
// position's referrers' rows one after the other, and with the lines of
// all asked for while pull looks the referrers up, the misses overlap.
//
//go:noescape
func prefetchRow(p *uint64)

//go:noescape
func or3AVX2(dst, x, a, b *uint64, n int)

//go:noescape
func orDiffAVX2(row, x, a, b, base, diff *uint64, n int) uint64

// or3 sets dst = x | a | b, word by word (dst may be x).
func or3(dst, x, a, b []uint64) {
	n := len(dst)
	if v := n &^ 3; useAVX2 && v > 0 {
		x, a, b = x[:n], a[:n], b[:n]
		or3AVX2(&dst[0], &x[0], &a[0], &b[0], v)
		dst, x, a, b = dst[v:], x[v:], a[v:], b[v:]
	}
	or3Words(dst, x, a, b)
}

// orDiff sets row = x | a | b and diff = row &^ base, word by word (row
// may be x), and returns a mask with bit k set when diff[k] is not 0.
// Rows have at most 64 words.
func orDiff(row, x, a, b, base, diff []uint64) uint64 {
	n := len(row)
	v := n &^ 3
	if !useAVX2 || v == 0 {
		return orDiffWords(row, x, a, b, base, diff)
	}
	x, a, b, base, diff = x[:n], a[:n], b[:n], base[:n], diff[:n]
	mask := orDiffAVX2(&row[0], &x[0], &a[0], &b[0], &base[0], &diff[0], v)
	return mask | orDiffWords(row[v:], x[v:], a[v:], b[v:], base[v:], diff[v:])<<v
}

// sumBits returns the sum modulo 2^64 of weights[64k+t] over the bits t of
// diff[k], for every k whose bit is set in mask, and the number of those
// bits. weights holds 64 per word of diff.
func sumBits(weights, diff []uint64, mask uint64) (uint64, int) {
	if mask == 0 {
		return 0, 0
	}
	if !useAVX512 {
		return sumBitsWords(weights, diff, mask)
	}
	k := 63 - bits.LeadingZeros64(mask)
	_, _ = diff[k], weights[64*k+63] // the words the asm reads are there
	return sumBitsAVX512(&weights[0], &diff[0], mask)
}
