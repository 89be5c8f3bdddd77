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
