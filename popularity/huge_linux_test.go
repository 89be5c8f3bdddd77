package main

import "testing"

// TestHugeRange: the range hugePages advises is inside the slice's memory,
// whole huge pages, and all of those the memory holds, whatever its start
// and length (smaller than a page, unaligned at either end, aligned).
func TestHugeRange(t *testing.T) {
	const h = hugePage
	for _, start := range []uintptr{h, h + 8, 2*h - 8, 3*h - 1, 5*h + 4096} {
		for _, size := range []uintptr{0, 8, h - 8, h, h + 8, 2*h - 8, 2 * h, 3*h + 24} {
			end := start + size
			lo, hi := hugeRange(start, end)
			whole := uintptr(0) // the pages [a, a+h) inside, counted one by one
			for a := start / h * h; a+h <= end; a += h {
				if a >= start {
					whole++
				}
			}
			switch {
			case lo >= hi && whole != 0:
				t.Errorf("[%#x, %#x): no page advised, %d fit", start, end, whole)
			case lo < hi && (lo < start || hi > end || lo%h != 0 || hi%h != 0 || (hi-lo)/h != whole):
				t.Errorf("[%#x, %#x): advised [%#x, %#x), want %d whole pages inside", start, end, lo, hi, whole)
			}
		}
	}
}
