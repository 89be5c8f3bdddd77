package compress

import (
	"io"

	"github.com/klauspost/compress/zstd"
)

// DecoderMemory is what a decoder of the size bytes of r, compressed as
// kind, may hold: a zstd stream's window (ZstdWindow), the largest xz
// dictionary NewXzReader accepts (MaxXzDict; its blocks are not read) and
// what it reads ahead, bzip2's largest block and gzip's window, with their
// tables.
func DecoderMemory(kind Kind, r io.ReaderAt, size int64) int64 {
	switch kind {
	case Zstd:
		return ZstdWindow(r, size)
	case Xz:
		return MaxXzDict + xzAheadBytes
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
// block headers (RFC 8878, 3.1; the frame's by zstd.Header), so it costs
// little however much the frames expand to. When the bytes are not zstd
// frames from end to end it returns MaxZstdWindow, the most a decoder of
// them may hold.
func ZstdWindow(r io.ReaderAt, size int64) int64 {
	var largest, off int64
	for off < size {
		var buf [zstd.HeaderMaxSize]byte
		n, _ := r.ReadAt(buf[:], off)
		var h zstd.Header
		if h.Decode(buf[:n]) != nil {
			return MaxZstdWindow
		}
		if h.Skippable {
			off += int64(h.HeaderSize) + int64(h.SkippableSize)
			continue
		}
		window := h.WindowSize
		if h.SingleSegment { // the frame's content is its window
			window = h.FrameContentSize
		}
		if window > MaxZstdWindow {
			return MaxZstdWindow
		}
		largest = max(largest, int64(window))
		off += int64(h.HeaderSize)
		for last := false; !last; {
			var b [3]byte
			if n, _ := r.ReadAt(b[:], off); n < 3 {
				return MaxZstdWindow
			}
			bh := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
			last = bh&1 != 0
			switch (bh >> 1) & 3 {
			case 0, 2: // raw, compressed: the block's bytes follow
				off += 3 + int64(bh>>3)
			case 1: // RLE: one byte, repeated
				off += 4
			default:
				return MaxZstdWindow
			}
		}
		if h.HasCheckSum {
			off += 4
		}
	}
	if off != size {
		return MaxZstdWindow
	}
	return largest
}
