package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDynamicBusyboxMissing: a dynamically linked busybox on PATH (Debian's
// busybox package, which replaces busybox-static) is reported missing with
// the reason, not taken: the tests copy it into images without a C library,
// where it failed every run-as-root test as "execvp /bin/sh: No such file
// or directory". The static one install-test-deps installs serves.
func TestDynamicBusyboxMissing(t *testing.T) {
	Need(t, "busybox")
	if why := Missing("busybox"); why != "" {
		t.Fatalf("the busybox on PATH: %s", why)
	}
	dir := t.TempDir()
	prog, err := os.ReadFile("/bin/true") // dynamically linked on Debian
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), prog, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if why := Missing("busybox"); !strings.Contains(why, "dynamically linked") {
		t.Fatalf("a dynamically linked busybox: Missing says %q", why)
	}
}
