package main

import (
	"sync/atomic"
)

// The writer's pass over a layer hashed apart read each small file again
// (one in five of the bench's files' bytes, 45,000 files below kernelMin),
// with a check and a close: three calls per file. The hashing pass reads
// such a file into the layer's keptBytes instead, and the writer's pass
// takes the bytes from there: it neither reads nor checks the file, and
// the layer holds exactly the bytes its digest was computed from. Files of
// kernelMin or more keep their descriptors (keptFDs): the kernel copies
// them.
//
// keptBytes is a ring of keptBytesSize bytes per layer, filled by the
// hashing pass and emptied by the writer's, in the layer's order: a file
// that does not fit (the writer's pass is a ring behind, on an earlier
// layer) keeps its descriptor as before. So the memory is bounded by the
// layers kept at once (cacheBudget), one ring each.
const keptBytesSize = 1 << 20

// spareRings are the rings of layers released, for the next layers: one
// for each layer that can be kept at once on up to maxHashers CPUs.
var spareRings = make(chan []byte, maxHashers+2)

type keptBytes struct {
	ring []byte       // nil until the hashing pass keeps a file's bytes
	w    int64        // the hashing pass: bytes taken in the ring, from its start
	r    atomic.Int64 // the writer's pass: bytes released, from its start
}

// room returns where n bytes of entry i's file and one more (a read past
// its end shows a file that grew) can be written, at the ring's offset
// at, or ok false when the ring has no room. Only the hashing pass calls
// it.
func (b *keptBytes) room(n int64) (buf []byte, at int64, ok bool) {
	if n+1 > keptBytesSize {
		return nil, 0, false
	}
	if b.ring == nil {
		select {
		case b.ring = <-spareRings:
		default:
			b.ring = make([]byte, keptBytesSize)
		}
	}
	at = b.w
	if pos := at % keptBytesSize; pos+n+1 > keptBytesSize {
		at += keptBytesSize - pos // the tail is too short: wrap
	}
	if at+n+1-b.r.Load() > keptBytesSize {
		return nil, 0, false
	}
	pos := at % keptBytesSize
	return b.ring[pos : pos+n+1], at, true
}

// kept records that the n bytes at at hold a file: the next room starts
// after them.
func (b *keptBytes) kept(at, n int64) { b.w = at + n }

// bytes returns the n bytes at at, which the writer's pass copies before
// calling release.
func (b *keptBytes) bytes(at, n int64) []byte {
	pos := at % keptBytesSize
	return b.ring[pos : pos+n]
}

// release gives the ring up to at+n back to the hashing pass.
func (b *keptBytes) release(at, n int64) { b.r.Store(at + n) }

// free keeps the ring as a spare once no pass uses it.
func (b *keptBytes) free() {
	if b.ring == nil {
		return
	}
	select {
	case spareRings <- b.ring:
	default:
	}
	b.ring = nil
}
