package testkit

import (
	"bytes"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WatchOpens reports every open or read of the directories dirs or of a
// file directly in them (inotify IN_OPEN and IN_ACCESS), from now until
// the returned function is called, which returns their paths. Tests of
// code that must never read outside a tree watch what lies outside it: the
// events are queued when the system call happens, so nothing is missed
// and no waiting is needed. Without inotify the test is skipped.
func WatchOpens(t testing.TB, dirs ...string) func() []string {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Skipf("no inotify here: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	names := map[int]string{}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, unix.IN_OPEN|unix.IN_ACCESS)
		if err != nil {
			t.Fatal(err)
		}
		names[wd] = d
	}
	return func() []string {
		var opened []string
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if n <= 0 || err != nil {
				return opened
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				end := off + unix.SizeofInotifyEvent + int(ev.Len)
				name := bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00")
				opened = append(opened, filepath.Join(names[int(ev.Wd)], string(name)))
				off = end
			}
		}
	}
}
