package main

import (
	"golang.org/x/sys/cpu"

	"dockertools.dev/imgkit/storefs"
)

// useAVX2 selects firstWindowAVX2 (search_amd64.s), from the CPU's
// features: it needs AVX2 and BMI1's TZCNT.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasBMI1

// firstWindowAVX2 returns the offset in s[:n] of the first window of
// hashLen base32 bytes that ends within s[:n], or -1. n is a multiple of
// 32, at least 32.
//
//go:noescape
func firstWindowAVX2(s *byte, n int) int

// search finds what searchWords finds, in the same order. Where the CPU
// has AVX2, firstWindowAVX2 rules out the regions without a window, 32
// bytes at a time, and finds the first window of a run; the run's windows
// go to found as searchWords gives them (eachWindow), and the search goes
// on after the run. The last bytes, less than a block, go to searchWords
// with the hashLen-1 bytes before them, the only ones a window ending
// there can start in; so do inputs shorter than two windows (names, link
// targets), whole.
func search(s []byte, found func(window []byte) error) error {
	if !useAVX2 {
		return searchWords(s, found)
	}
	for len(s) >= 2*hashLen {
		n := len(s) &^ 31
		p := firstWindowAVX2(&s[0], n)
		if p < 0 {
			return searchWords(s[n-(hashLen-1):], found)
		}
		end := p + hashLen
		for end < len(s) && storefs.IsBase32(s[end]) {
			end++
		}
		if err := eachWindow(s[p:end], found); err != nil {
			return err
		}
		s = s[end:] // s[end] is not base32: no window holds it
	}
	return searchWords(s, found)
}
