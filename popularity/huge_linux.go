package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePages asks the kernel to back the whole 2 MiB pages inside s's
// memory with huge pages (transparent huge pages set to madvise, as on
// the bench machine, or always). The ancestor passes read rows and
// records at random from tens of megabytes, far more than the TLB maps
// in 4 KiB pages: at 1,000,000 uniform paths, 79 CPU seconds against 89
// without (side by side). Best effort: an error leaves the pages as they
// were. Call it before the memory is written, while the kernel can still
// fault it in huge.
func hugePages[T any](s []T) {
	if cap(s) == 0 {
		return
	}
	var t T
	p := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	start := uintptr(p)
	lo, hi := hugeRange(start, start+uintptr(cap(s))*unsafe.Sizeof(t))
	if lo >= hi {
		return
	}
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lo-start)), hi-lo), unix.MADV_HUGEPAGE)
}

// hugePage is the size of a huge page where base pages are 4 KiB (x86-64,
// and arm64 as most kernels configure it).
const hugePage = 2 << 20

// hugeRange returns the whole huge pages [lo, hi) inside the memory
// [start, end), lo >= hi when none fits: madvise is given only the
// slice's own memory, never a neighbour's.
func hugeRange(start, end uintptr) (lo, hi uintptr) {
	return (start + hugePage - 1) &^ (hugePage - 1), end &^ (hugePage - 1)
}
