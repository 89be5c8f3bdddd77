package main

import (
	"math/big"
	"math/bits"
)

// Popularity counts are exact unsigned integers of a fixed number of 64-bit
// words, least significant word first, stored back to back in one []uint64
// per array (node i's number is a[i*w : i*w+w]). The width w is chosen from
// an exact upper bound before counting (see pathCounts), so no sum can
// overflow; a flat array keeps them cheap to add and compact in memory.

// addTo adds src to dst (both w words) and returns the carry out.
func addTo(dst, src []uint64) uint64 {
	src = src[:len(dst)]
	var c uint64
	for i := range dst {
		dst[i], c = bits.Add64(dst[i], src[i], c)
	}
	return c
}

// subFrom subtracts src from dst (both w words), which must not go below
// zero.
func subFrom(dst, src []uint64) {
	src = src[:len(dst)]
	var b uint64
	for i := range dst {
		dst[i], b = bits.Sub64(dst[i], src[i], b)
	}
}

// compareWide compares two numbers of the same width.
func compareWide(a, b []uint64) int {
	b = b[:len(a)]
	for i := len(a) - 1; i >= 0; i-- {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}

// topShift is the shift that leaves the numbers of a (w words each) at
// most 64 bits: their greatest bit length less 64, or 0. The sort of the
// popularities compares these top bits (topBits), which read one array in
// order, and looks at the whole numbers only where they are equal; the
// 100,000 uniformly referenced paths' popularities pass 2^64, and their
// sort took 50-90 ms when every comparison read two numbers from all over
// memory.
func topShift(a []uint64, w int) uint {
	or := make([]uint64, w)
	for i := 0; i < len(a); i += w {
		for k := range w {
			or[k] |= a[i+k]
		}
	}
	n := wordsOf(or)
	return uint(max(0, 64*(n-1)+bits.Len64(or[n-1])-64))
}

// topBits is a >> shift, which must fit 64 bits: it grows with a, so a
// greater top means a greater number.
func topBits(a []uint64, shift uint) uint64 {
	k, s := int(shift/64), shift%64
	v := a[k] >> s
	if s > 0 && k+1 < len(a) {
		v |= a[k+1] << (64 - s)
	}
	return v
}

// wordsOf is the number of words needed to hold a (at least 1).
func wordsOf(a []uint64) int {
	for i := len(a) - 1; i > 0; i-- {
		if a[i] != 0 {
			return i + 1
		}
	}
	return 1
}

// narrow repacks an array of numbers of width from into width to, which
// must hold every one of them.
func narrow(a []uint64, from, to int) []uint64 {
	if from == to {
		return a
	}
	n := len(a) / from
	out := make([]uint64, n*to)
	for i := 0; i < n; i++ {
		copy(out[i*to:i*to+to], a[i*from:i*from+to])
	}
	return out
}

// bigOf converts a number to a big.Int, for messages and tests.
func bigOf(a []uint64) *big.Int {
	ws := make([]big.Word, 0, 2*len(a))
	for _, x := range a {
		if bits.UintSize == 64 {
			ws = append(ws, big.Word(x))
		} else {
			ws = append(ws, big.Word(uint32(x)), big.Word(x>>32))
		}
	}
	return new(big.Int).SetBits(ws)
}
