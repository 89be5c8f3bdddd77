package main

import (
	"encoding/binary"

	"dockertools.dev/imgkit/storefs"
)

// searchWords, the portable search, calls found with every window of
// hashLen bytes of s that consists of base32 characters only, in order,
// stopping at the first error. These are the windows Nix's reference
// scanner looks up in its set of hash parts; overlapping windows inside a
// longer base32 run all count. search, what closure-scan calls, does the
// same with a vector search where the CPU has AVX2 (search_amd64.go),
// tested against searchWords, and is searchWords elsewhere
// (search_other.go).
//
// Most data holds no such window, so searchWords rules regions out with a
// probe first: a window starting at p contains the 8-byte block at every
// offset in [p, p+hashLen-8], an interval of probeStride offsets, so it
// contains one of the blocks probeStride bytes apart. searchWords tests
// only those blocks, 8 bytes at once (allBase32), and looks around a
// block for windows only when all its bytes are base32. The probe takes
// no data-dependent branch until a block passes, but in text a block of
// 8 base32 bytes passes often enough to cost branch mispredictions:
// BenchmarkSearch measures about 20 GB/s on random bytes here, 6 to 9 on
// storegen's text and binaries, 2.5 on text dense with store paths (at a
// load of 4 on 2 cores).
//
// The vector search classifies every byte, 32 at once, and costs the same
// on any data: about 20 GB/s on all three, 5 on the store paths, where
// each hash goes to found. It takes a scan of the bench store (2.16 GB)
// from 0.89 to 0.78 s of CPU time, the medians of 8 interleaved runs at a
// load of 1.3 to 1.7 (0.94 to 0.82 s at 3.3 to 4.4; user time 0.32 to
// 0.22 s; most of the rest is the kernel's copy of the reads).
//
// Nix's RefScanSink instead tests each window from its last byte
// backwards; that moves hashLen bytes at a time on binary data but a few
// bytes on text, where the inner loop ends at a different byte each time
// and the branch predictor fails (backwardSearch in the tests measures
// it: on storegen's text about 3 GB/s here).
func searchWords(s []byte, found func(window []byte) error) error {
	n := len(s)
	// Block b is probed for the windows starting in [b-probeStride+1, b]:
	// successive blocks cover every start once, in order.
	for b := probeStride - 1; b+8 <= n; b += probeStride {
		if !allBase32(binary.LittleEndian.Uint64(s[b : b+8 : b+8])) { // the capacity spares a bounds check
			continue
		}
		// The run of base32 bytes around the block, as far as windows
		// starting in [lo, b] can reach.
		lo, start, end := b-(probeStride-1), b, b+8
		for start > lo && storefs.IsBase32(s[start-1]) {
			start--
		}
		for limit := min(n, b+hashLen); end < limit && storefs.IsBase32(s[end]); end++ {
		}
		if err := eachWindow(s[start:end], found); err != nil {
			return err
		}
	}
	return nil
}

// eachWindow calls found with every window of hashLen bytes of run, a run
// of base32 bytes, in order, stopping at the first error.
func eachWindow(run []byte, found func(window []byte) error) error {
	for p := 0; p+hashLen <= len(run); p++ {
		if err := found(run[p : p+hashLen]); err != nil {
			return err
		}
	}
	return nil
}

// probeStride is the distance between probed blocks: every window of
// hashLen bytes contains one whole.
const probeStride = hashLen - 8 + 1

// Byte-parallel constants: one in the lowest or the highest bit of every
// byte of a word.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// allBase32 reports whether all 8 bytes of w are in storefs.Base32. It
// computes, in the high bit of each byte, "at least c" for the bounds of
// '0'-'9' and 'a'-'z' (a byte below 0x80 plus at most 0x80 never carries
// into the next one; an odd number of bounds passed means inside a range),
// and "not equal" to the letters the alphabet leaves out.
func allBase32(w uint64) bool {
	if w&highBits != 0 {
		return false
	}
	in := (w + (0x80-'0')*lowBits) ^ (w + (0x80-'9'-1)*lowBits) ^ (w + (0x80-'a')*lowBits) ^ (w + (0x80-'z'-1)*lowBits)
	notE := (w ^ 'e'*lowBits) + 0x7f*lowBits
	notO := (w ^ 'o'*lowBits) + 0x7f*lowBits
	notTU := (w | lowBits ^ 'u'*lowBits) + 0x7f*lowBits // 't'|1 == 'u'
	return in&notE&notO&notTU&highBits == highBits
}
