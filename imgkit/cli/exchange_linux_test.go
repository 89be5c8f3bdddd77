package cli

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExchangeDirs: the two directories trade names with their contents,
// and a missing one is an error that changes nothing.
func TestExchangeDirs(t *testing.T) {
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	for _, dir := range []string{a, b} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "name"), []byte(filepath.Base(dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := ExchangeDirs(a, b); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{a: "b", b: "a"} {
		if got, err := os.ReadFile(filepath.Join(dir, "name")); err != nil || string(got) != want {
			t.Errorf("%s holds %q (%v), want %q", dir, got, err, want)
		}
	}
	if err := ExchangeDirs(a, filepath.Join(d, "missing")); err == nil {
		t.Error("exchanging with a missing directory succeeded")
	}
	if _, err := os.Stat(a); err != nil {
		t.Errorf("a failed exchange moved %s: %v", a, err)
	}
}

// TestExchangeDirsUnsupported: on a file system without the exchange
// (NFS), renameat2 says only "invalid argument"; the error says what it
// means.
func TestExchangeDirsUnsupported(t *testing.T) {
	defer func(f func(int, string, int, string, uint) error) { renameat2 = f }(renameat2)
	renameat2 = func(int, string, int, string, uint) error { return unix.EINVAL }
	err := ExchangeDirs("/n/.d.tmp-1", "/n/d")
	want := "exchanging /n/.d.tmp-1 and /n/d: the file system cannot exchange two directories in one rename (renameat2 RENAME_EXCHANGE: invalid argument); write it to a local file system"
	if err == nil || err.Error() != want || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestMountRootWithoutTheAttribute: on a kernel older than 5.8, whose
// statx has no STATX_ATTR_MOUNT_ROOT, a file system's root (here /proc)
// is still a mount root, told by its device, which is not its parent's:
// it was said to be none, and manifest-gen --format oci-dir -o on a
// volume failed only at the end (error_oci_dir_mount_point).
func TestMountRootWithoutTheAttribute(t *testing.T) {
	statx = func(dirfd int, path string, flags int, mask int, st *unix.Statx_t) error {
		err := unix.Statx(dirfd, path, flags, mask, st)
		st.Attributes_mask &^= unix.STATX_ATTR_MOUNT_ROOT
		st.Attributes &^= unix.STATX_ATTR_MOUNT_ROOT
		return err
	}
	defer func() { statx = unix.Statx }()
	if !MountRoot("/proc") {
		t.Error("MountRoot(/proc) is false")
	}
	if dir := t.TempDir(); MountRoot(dir) {
		t.Errorf("MountRoot(%s), a new directory, is true", dir)
	}
}
