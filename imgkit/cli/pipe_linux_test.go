package cli

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	GrowPipe(w, 1<<20)
	if size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || size < 1<<20 {
		t.Fatalf("pipe buffer %d bytes (%v), want %d", size, err, 1<<20)
	}
	// A file, or a writer that is no file, is left alone.
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	GrowPipe(f, 1<<20)
	GrowPipe(nil, 1<<20)
}
