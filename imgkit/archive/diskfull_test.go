//go:build linux

package archive

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
)

// smallTmpdir makes $TMPDIR a tmpfs of 64 KiB, for a write that fails
// with ENOSPC. Mounting needs root (CAP_SYS_ADMIN): the test is skipped,
// saying so, without it.
func smallTmpdir(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a 64 KiB tmpfs as $TMPDIR to fill it")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("needs to mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	t.Setenv("TMPDIR", dir)
}

// TestSpoolDiskFull: an archive on stdin (a pipe) is copied, decompressed,
// into a temporary file; a full $TMPDIR was reported as the archive's fault,
// "decompressing: write /tmp/imgkit-archive-…: no space left on device:
// invalid input". It is the disk's: not invalid input, ENOSPC kept.
func TestSpoolDiskFull(t *testing.T) {
	smallTmpdir(t)
	plain := tarOf(t, "x", string(make([]byte, 1<<20)))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	for name, in := range map[string][]byte{"gzip": gz.Bytes(), "uncompressed": plain} {
		_, err := Open("-", bytes.NewReader(in))
		if err == nil || errors.Is(err, errdefs.ErrInvalidInput) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s: got %v, want ENOSPC, not invalid input", name, err)
		}
	}
}
