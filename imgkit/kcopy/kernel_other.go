//go:build !linux

package kcopy

import "syscall"

// kernelCopies is false: splice(2), which moves bytes to and from a
// pipe, is Linux's alone, so CopyN copies through user space (io.CopyN,
// which hands two regular files to the kernel itself where Go can, as on
// FreeBSD): the same bytes, read and written once more.
func kernelCopies() bool { return false }

// kernelCopy is never called here (kernelCopies).
func kernelCopy(dst, src syscall.Conn, n int64, checks ...checker) (written int64, handled bool, err error) {
	return 0, false, nil
}
