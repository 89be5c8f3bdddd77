//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPrefetchOpensCachedFilesSparingly: prefetching a layer whose files
// are in the page cache opens the first warmAfter of them and then one in
// sampleEvery, not each; a layer whose files are not in the page cache
// has each file opened (and its reading asked for).
func TestPrefetchOpensCachedFilesSparingly(t *testing.T) {
	root := t.TempDir()
	const n = 1000
	p := "/nix/store/" + fmt.Sprintf("%032d", 0) + "-many"
	var files []string
	for i := range n {
		name := filepath.Join(root, p, fmt.Sprintf("f%04d", i))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("some bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	prefetchOpens := func() int {
		t.Helper()
		l := storeLayers(testStoreOptions(root), []string{p}, 0)[0].(*treeLayer)
		if _, err := l.measure(context.Background()); err != nil {
			t.Fatal(err)
		}
		opens := 0
		testHookPrefetch = func(string) { opens++ }
		defer func() { testHookPrefetch = nil }()
		l.prefetch(context.Background(), l.cache)
		return opens
	}
	// Just written: in the page cache.
	if got, want := prefetchOpens(), warmAfter+(n-warmAfter)/sampleEvery; got > want+1 {
		t.Errorf("files in the page cache: %d opened, want about %d", got, want)
	}
	// Written out and dropped from the page cache: each file is opened.
	// Another process can bring files back into the page cache between the
	// drop and the prefetch (seen with other packages' tests running), so
	// a short count is tried again, after another drop; a prefetch that
	// skips files not in the cache falls short every time.
	var got int
	for try := 0; try < 3; try++ {
		dropFromPageCache(t, files)
		if got = prefetchOpens(); got == n {
			return
		}
		t.Logf("files not in the page cache: %d opened of %d, trying again", got, n)
	}
	t.Errorf("files not in the page cache: %d opened, want each of %d", got, n)
}

// dropFromPageCache writes the files out and drops them from the page
// cache, or skips the test where the kernel keeps them.
func dropFromPageCache(t *testing.T, files []string) {
	t.Helper()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		// A page still on its way to the disk stays: ask again. (mincore
		// tells, without reading the file as resident's read may start
		// to.)
		for try := 0; try < 100 && inPageCache(t, f); try++ {
			unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
			if try > 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if inPageCache(t, f) {
			t.Skipf("%s stays in the page cache after FADV_DONTNEED here", name)
		}
		f.Close()
	}
}

// inPageCache says whether the first page of f is in the page cache.
func inPageCache(t *testing.T, f *os.File) bool {
	t.Helper()
	m, err := unix.Mmap(int(f.Fd()), 0, 1, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, 1)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), 1, uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	return vec[0]&1 != 0
}
