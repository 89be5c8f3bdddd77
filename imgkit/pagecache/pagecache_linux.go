//go:build linux

package pagecache

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// nowait is preadv2(fd, b, off, RWF_NOWAIT) as a raw system call (off -1:
// at the file's offset); ok is false when the kernel did not read that way,
// for whatever reason, and the caller must make the ordinary call. It is a
// variable for the tests, which make it refuse.
var nowait = func(fd int, b []byte, off int64) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	iov := unix.Iovec{Base: unsafe.SliceData(b)}
	iov.SetLen(len(b))
	// The offset goes in two halves (pos_l, pos_h) on 32-bit systems; a
	// 64-bit kernel takes all of it from pos_l.
	lo, hi := uintptr(off), uintptr(uint64(off)>>32)
	r, _, e := unix.RawSyscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&iov)), 1, lo, hi, unix.RWF_NOWAIT)
	return int(r), e == 0
}
