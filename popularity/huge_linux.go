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
	const huge = 2 << 20
	if cap(s) == 0 {
		return
	}
	var t T
	p := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	start := uintptr(p)
	end := start + uintptr(cap(s))*unsafe.Sizeof(t)
	lo, hi := (start+huge-1)&^(huge-1), end&^(huge-1)
	if lo >= hi {
		return
	}
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lo-start)), hi-lo), unix.MADV_HUGEPAGE)
}
