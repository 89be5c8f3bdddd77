//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHeldTempSurvivesCleaners makes held temporaries while other runs'
// cleanups race with them: a cleaner may lock a name before its maker
// does, and then removes it; the maker must never return a name that is
// gone (or goes while held), and a temporary no longer held is removed.
func TestHeldTempSurvivesCleaners(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					RemoveStaleTemps(root, ".out.tmp-")
				}
			}
		}()
	}
	for i := range 300 {
		name, hold, err := MkdirHeldTemp(root, ".out.tmp-")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "f"), nil, 0o644); err != nil {
			t.Fatalf("try %d: the held temporary %s was removed: %v", i, name, err)
		}
		hold.Close()
	}
	close(stop)
	wg.Wait()
	if removed := RemoveStaleTemps(root, ".out.tmp-"); len(removed) > 0 {
		t.Logf("left for the last cleanup: %v", removed)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".out.tmp-*")); len(left) > 0 {
		t.Fatalf("temporaries no run holds were left: %v", left)
	}
}

// TestRemoveStaleTempsTouchesOnlyTemporaries: a symlink of a temporary's
// name (to a directory elsewhere), a name with other characters after the
// prefix, and a held directory are all left as they are.
func TestRemoveStaleTempsTouchesOnlyTemporaries(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, ".out.tmp-123")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".out.tmp-12x", ".out.tmp-", "out.tmp-1", ".out.tmp-5"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	held, hold, err := MkdirHeldTemp(root, ".out.tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	removed := RemoveStaleTemps(root, ".out.tmp-")
	if len(removed) != 1 || removed[0] != ".out.tmp-5" {
		t.Errorf("removed %v, want [.out.tmp-5]", removed)
	}
	for _, n := range []string{".out.tmp-123", ".out.tmp-12x", ".out.tmp-", "out.tmp-1", held} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "keep")); err != nil {
		t.Errorf("the symlink's target lost its file: %v", err)
	}
}

// TestLockDirHeldElsewhere: a directory another process (here another
// open file description) holds a lock on is waited for, for wait and not
// for ever, then one line that says what may hold it; once it is let go
// the lock is taken; a directory that cannot be opened is not locked.
func TestLockDirHeldElsewhere(t *testing.T) {
	dir := t.TempDir()
	other, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := lockFile(other, false); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := LockDir(dir, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "another process has held a lock (flock) on it for 50ms (a build committing there that is stopped") {
		t.Fatalf("LockDir on a held directory = %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("LockDir gave up after %v, before its wait", d)
	}
	other.Close()
	unlock, err := LockDir(dir, 0)
	if err != nil {
		t.Fatalf("LockDir once let go: %v", err)
	}
	unlock()
	unlock, err = LockDir(filepath.Join(dir, "missing"), 0)
	if err != nil {
		t.Fatalf("LockDir on a directory that cannot be opened: %v", err)
	}
	unlock()
}
