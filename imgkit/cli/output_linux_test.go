package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCreateAtomicFIFOReplacedWhileWaiting: a FIFO output that is
// replaced by a regular file while the tool waits for its reader (tool -o
// out & rm out; …) holds what the tool wrote and nothing else. The retry
// of the open took the new file for the FIFO it had stat'ed: it opened it
// without O_TRUNC and wrote over its start in place, leaving the old
// file's tail after the output.
func TestCreateAtomicFIFOReplacedWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := unix.Mkfifo(out, 0o600); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, []byte(strings.Repeat("y", 1<<16)), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond) // the open retried a few times
		os.Rename(old, out)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := CreateAtomic(ctx, out, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	want := "the output"
	if _, err := a.Write([]byte(want)); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("the output holds %d bytes (%.20q…), want %q", len(got), got, want)
	}
}
