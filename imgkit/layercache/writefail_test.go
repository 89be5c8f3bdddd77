package layercache

import (
	"os"
	"testing"
)

// TestWritesStopAfterFailure: a cache that fails to take a record (its
// directory removed during the run, a full disk) is not written again in
// the same run: the first failure is returned, for one warning, and the
// next writes are skipped. Each failed record was a warning of its own,
// one line per layer of the image.
func TestWritesStopAfterFailure(t *testing.T) {
	dir := t.TempDir() + "/cache"
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	k := func(p string) Key { return Key{Rules: "r", StoreDir: "/nix/store", Paths: []string{p}} }
	l := Layer{DiffID: "sha256:" + string(make64('a')), Size: 1}
	if err := c.PutLayer(k("/nix/store/a"), l); err == nil {
		t.Fatal("a record written into a removed cache directory")
	}
	if err := c.PutLayer(k("/nix/store/b"), l); err != nil {
		t.Fatalf("second write: %v, want it skipped without an error", err)
	}
	if err := c.PutSource("example.com", l.DiffID, "r"); err != nil {
		t.Fatalf("third write: %v, want it skipped without an error", err)
	}
}

func make64(b byte) []byte {
	s := make([]byte, 64)
	for i := range s {
		s[i] = b
	}
	return s
}
