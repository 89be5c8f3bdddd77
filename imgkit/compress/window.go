package compress

import (
	"encoding/binary"
	"io"
)

// DecoderMemory is what a decoder of the size bytes of r, compressed as
// kind, may hold: a zstd stream's window (ZstdWindow), xz's largest
// dictionary (4 GiB; its blocks are not read), bzip2's largest block and
// gzip's window, with their tables.
func DecoderMemory(kind Kind, r io.ReaderAt, size int64) int64 {
	switch kind {
	case Zstd:
		return ZstdWindow(r, size)
	case Xz:
		return 4 << 30
	case Bzip2:
		return 4 << 20
	case Gzip:
		return 64 << 10
	}
	return 0
}

// ZstdWindow returns the largest window the zstd frames of the size bytes
// of r declare: the history a decoder of them holds, MaxZstdWindow at most
// (a larger one is refused when decoding). It reads only the frame and
// block headers (RFC 8878, 3.1), so it costs little however much the
// frames expand to. When the bytes are not zstd frames from end to end it
// returns MaxZstdWindow, the most a decoder of them may hold.
func ZstdWindow(r io.ReaderAt, size int64) int64 {
	var largest, off int64
	for off < size {
		var hdr [14]byte // magic, descriptor, window, dictionary id, content size
		n, _ := r.ReadAt(hdr[:], off)
		if n < 4 {
			return MaxZstdWindow
		}
		magic := binary.LittleEndian.Uint32(hdr[:4])
		if magic&0xfffffff0 == 0x184d2a50 { // a skippable frame
			if n < 8 {
				return MaxZstdWindow
			}
			off += 8 + int64(binary.LittleEndian.Uint32(hdr[4:8]))
			continue
		}
		if magic != 0xfd2fb528 || n < 6 {
			return MaxZstdWindow
		}
		fhd := hdr[4]
		single, checksum := fhd&0x20 != 0, fhd&0x04 != 0
		fcsSize := [4]int{0, 2, 4, 8}[fhd>>6]
		if single && fcsSize == 0 {
			fcsSize = 1
		}
		at := 5
		var window int64
		if !single {
			wd := hdr[at]
			base := int64(1) << (10 + wd>>3)
			window = base + base/8*int64(wd&7)
			at++
		}
		at += [4]int{0, 1, 2, 4}[fhd&3]
		if single {
			if n < at+fcsSize {
				return MaxZstdWindow
			}
			var fcs [8]byte
			copy(fcs[:], hdr[at:at+fcsSize])
			window = int64(binary.LittleEndian.Uint64(fcs[:]))
			if fcsSize == 2 {
				window += 256
			}
		}
		if window < 0 || window > MaxZstdWindow {
			return MaxZstdWindow
		}
		largest = max(largest, window)
		off += int64(at + fcsSize)
		for last := false; !last; {
			var b [3]byte
			if n, _ := r.ReadAt(b[:], off); n < 3 {
				return MaxZstdWindow
			}
			h := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
			last = h&1 != 0
			switch (h >> 1) & 3 {
			case 0, 2: // raw, compressed: the block's bytes follow
				off += 3 + int64(h>>3)
			case 1: // RLE: one byte, repeated
				off += 4
			default:
				return MaxZstdWindow
			}
		}
		if checksum {
			off += 4
		}
	}
	if off != size {
		return MaxZstdWindow
	}
	return largest
}
