package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
)

// TestLayerTarsRefusesAnotherUsersDir: a --layer-tars directory owned by
// another user is refused, for a build and for --print-holdings, with
// one line naming both users. As root a directory is given away with
// chown; any other user is given one of root's.
func TestLayerTarsRefusesAnotherUsersDir(t *testing.T) {
	dir := "/"
	if os.Geteuid() == 0 {
		dir = filepath.Join(t.TempDir(), "tars")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	for _, create := range []bool{true, false} {
		_, err := openLayerTars(&cli.IO{Stderr: io.Discard}, dir, false, create)
		if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "not by this user") || strings.Contains(err.Error(), "\n") {
			t.Errorf("openLayerTars(%q, create %v) = %v, want one line refusing another user's directory", dir, create, err)
		}
	}
}

// TestEntriesOthersCanWriteNotTakenOnName: a --layer-tars entry or an
// oci-dir blob that a rebuild would take on its name and size, unread,
// is not taken when another user owns it (a hard link to their file:
// they can rewrite its bytes at will, and every rebuild would carry them
// under the digest of its name) or, for an entry, when others may write
// it: the entry is not listed, and a reference to it is refused.
func TestEntriesOthersCanWriteNotTakenOnName(t *testing.T) {
	data := []byte("layer")
	sum := sha256.Sum256(data)
	hex := fmt.Sprintf("%x", sum)
	ref := &layerstream.Ref{DiffID: "sha256:" + hex, Size: int64(len(data))}
	cases := map[string]func(string) error{"OthersWritable": func(p string) error { return os.Chmod(p, 0o666) }}
	if os.Geteuid() == 0 {
		cases["AnotherUsers"] = func(p string) error { return os.Chown(p, 4242, 4242) }
	}
	o := &cli.IO{Stderr: io.Discard}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			entry := filepath.Join(dir, hex+".tar")
			if err := os.WriteFile(entry, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := change(entry); err != nil {
				t.Fatal(err)
			}
			tars, err := openLayerTars(o, dir, false, false)
			if err != nil {
				t.Fatal(err)
			}
			defer tars.abort()
			h := layercache.Holdings{}
			if err := tars.holdings(o, h); err != nil {
				t.Fatal(err)
			}
			if len(h) != 0 {
				t.Errorf("--layer-tars: listed %v", h)
			}
			if f, err := tars.open(ref); err == nil {
				f.Close()
				t.Error("--layer-tars: a reference to the entry was taken")
			}
		})
	}
	if os.Geteuid() != 0 {
		return
	}
	dir := filepath.Join(t.TempDir(), "out")
	fillLayout(t, dir, "old")
	blob := filepath.Join(dir, "blobs", "sha256", hex)
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(blob, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	old, err := readOldLayout(dir)
	if err != nil || old == nil {
		t.Fatalf("readOldLayout = %v, %v", old, err)
	}
	if old.holds(ref.DiffID, ref.Size) {
		t.Error("oci-dir: another user's blob is held")
	}
}
