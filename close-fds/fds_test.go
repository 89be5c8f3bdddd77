package main

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openNoCloexec opens a file whose descriptor is inherited across exec,
// as the workflow's caller leaves one (Go opens its own close-on-exec).
func openNoCloexec(t *testing.T) int {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fd := int(f.Fd())
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	return fd
}

func cloexec(t *testing.T, fd int) bool {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	return flags&unix.FD_CLOEXEC != 0
}

// Both ways of marking (close_range and the listing it falls back on)
// mark every descriptor but the kept ones, and closeOnExec clears the
// mark of a kept one.
func TestMarkClosesAllButKept(t *testing.T) {
	for name, mark := range map[string]func([]int) error{"ranges": markRanges, "listed": markListed} {
		t.Run(name, func(t *testing.T) {
			a, b, c := openNoCloexec(t), openNoCloexec(t), openNoCloexec(t)
			if err := mark([]int{b}); err != nil {
				t.Fatal(err)
			}
			if !cloexec(t, a) || cloexec(t, b) || !cloexec(t, c) {
				t.Errorf("close-on-exec of %d, %d (kept), %d: %v %v %v; want true false true", a, b, c, cloexec(t, a), cloexec(t, b), cloexec(t, c))
			}
			if _, err := unix.FcntlInt(uintptr(a), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			if err := closeOnExec([]int{a, a}); err != nil {
				t.Fatal(err)
			}
			if cloexec(t, a) || !cloexec(t, b) {
				t.Errorf("after closeOnExec keeping %d: close-on-exec %v, of %d %v; want false, true", a, cloexec(t, a), b, cloexec(t, b))
			}
			for _, fd := range []int{0, 1, 2} {
				if cloexec(t, fd) {
					t.Errorf("descriptor %d marked close-on-exec", fd)
				}
			}
		})
	}
}
