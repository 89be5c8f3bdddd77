package layercache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A cache whose records are trusted (layer-pack --reuse takes a layer's
// diff_id unread) must be the user's own: a directory that another user
// may write decides the layers of every image built with it, such as an
// old layer of the same store paths that the destination still holds.
func TestOpenRefusesCacheOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o775, 0o757} {
		dir := filepath.Join(t.TempDir(), "cache")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), "writable by group or others") {
			t.Errorf("mode %04o: Open = %v, want a refusal", mode, err)
		}
	}
	// v1, where the records are, is checked too.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "v1"), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("v1 mode 0777: Open = %v, want a refusal", err)
	}
}

// TestOpenRefusesCacheOfAnotherUser: a directory owned by someone else
// (root's test runs chown it away) is refused even when its mode is 0755.
func TestOpenRefusesCacheOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "owned by uid 4242, not by this user") {
		t.Fatalf("Open = %v, want a refusal", err)
	}
}

// A record that is a symlink out of the cache is not read there, even when
// what it points at is a whole, verifying record for the key: what the
// cache says comes from the cache.
func TestRecordSymlinkOutOfCacheNotRead(t *testing.T) {
	outside, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := Layer{DiffID: digest("1"), Size: 10240}
	if err := outside.PutLayer(baseKey, want); err != nil {
		t.Fatal(err)
	}
	c, p := emptyRecordPlace(t)
	if err := os.Symlink(outside.layerPath(baseKey), p); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Layer(baseKey); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("Layer = %+v %v, want ErrBadRecord", got, err)
	}
	// A directory of the cache that is a symlink out of it is not entered
	// either, for reading or for writing.
	c2dir := t.TempDir()
	c2, err := Open(c2dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(c2dir, "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside.dir, "layers"), filepath.Join(c2dir, "v1", "layers")); err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Layer(baseKey); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("through a symlinked directory: Layer = %+v %v, want ErrBadRecord", got, err)
	}
	other := baseKey
	other.Mtime = 99
	if err := c2.PutLayer(other, want); err == nil {
		t.Fatal("PutLayer wrote through a symlinked directory")
	}
	if _, err := outside.Layer(other); !errors.Is(err, ErrNotCached) {
		t.Fatalf("a record was written outside the cache: %v", err)
	}
}

// A record that is a FIFO is not waited on (a reader would block for ever,
// and SIGTERM does not end a blocked open), nor is a device read: a
// symlink to /dev/zero read "to its end" grew until the process died.
func TestRecordNotARegularFile(t *testing.T) {
	c, p := emptyRecordPlace(t)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Layer(baseKey); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("FIFO: Layer = %+v %v, want ErrBadRecord", got, err)
	}
	// Writing replaces it.
	want := Layer{DiffID: digest("1"), Size: 10240}
	if err := c.PutLayer(baseKey, want); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Layer(baseKey); err != nil || got != want {
		t.Fatalf("after PutLayer: Layer = %+v %v", got, err)
	}
}

// A record far larger than a record is not read whole.
func TestRecordTooLargeNotRead(t *testing.T) {
	c, p := emptyRecordPlace(t)
	// Sparse: no disk, and little enough memory for the old code, which
	// read a record whole before looking at its size.
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 * maxRecord); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, err := c.Layer(baseKey); !errors.Is(err, ErrBadRecord) || !strings.Contains(err.Error(), "larger than a record") {
		t.Fatalf("Layer = %+v %v, want ErrBadRecord (larger than a record)", got, err)
	}
}

// emptyRecordPlace opens a new cache and makes the directory of
// baseKey's record, returning the cache and the record's path.
func emptyRecordPlace(t *testing.T) (*Cache, string) {
	t.Helper()
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := c.layerPath(baseKey)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	return c, p
}

// TestRecordOthersCanWriteNotTrusted: a whole, verifying record that
// another user owns (a hard link to their file, which they can rewrite at
// will, checksum and all) or that group or others may write (in a record
// directory made writable to them, where they can also plant one) is not
// trusted: it decides the layers of the images built with the cache. It
// is ignored and written again, which replaces the link.
func TestRecordOthersCanWriteNotTrusted(t *testing.T) {
	want := Layer{DiffID: digest("1"), Size: 10240}
	cases := map[string]func(p string) error{
		"GroupWritable":  func(p string) error { return os.Chmod(p, 0o664) },
		"OthersWritable": func(p string) error { return os.Chmod(p, 0o646) },
	}
	if os.Geteuid() == 0 {
		cases["AnotherUsers"] = func(p string) error { return os.Chown(p, 4242, 4242) }
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			c, p := emptyRecordPlace(t)
			if err := c.PutLayer(baseKey, want); err != nil {
				t.Fatal(err)
			}
			if err := change(p); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Layer(baseKey); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("Layer = %+v %v, want ErrBadRecord", got, err)
			}
			if err := c.PutLayer(baseKey, want); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Layer(baseKey); err != nil || got != want {
				t.Fatalf("after PutLayer: Layer = %+v %v", got, err)
			}
		})
	}
}
