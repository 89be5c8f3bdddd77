package rootfs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/testkit"
)

// bounded keeps what a fuzzed layer expands to small: a few bytes of a
// sparse file's map make terabytes.
var bounded = tarsafe.Options{Expanded: errdefs.Bound{Max: 64 << 20, Flag: "fuzz"}}

// FuzzUnpack: whatever the layers hold, Unpack writes nothing outside its
// directory (a sibling directory stays as it was). What it refuses, it
// refuses with one line of the tar rules' classes. What it applies has a
// snapshot that writes, reads and writes back to the same bytes, and the
// store paths it leaves in /nix/store are exactly those StorePaths
// computes from the layers without unpacking them.
func FuzzUnpack(f *testing.F) {
	testkit.AddLayerPairs(f)
	f.Fuzz(func(t *testing.T, lower, upper []byte) {
		a, err := archive.Open(testkit.LayerImage(t, lower, upper), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		img := a.Images[0]
		work := t.TempDir()
		root, outside := filepath.Join(work, "root"), filepath.Join(work, "outside")
		must(t, os.Mkdir(root, 0o700))
		must(t, os.Mkdir(outside, 0o755))
		must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600))
		before := listTree(t, outside)

		snap, err := Unpack(context.Background(), img, root, UnpackOptions{Tarsafe: bounded})
		if entries, _ := os.ReadDir(work); len(entries) != 2 || listTree(t, outside) != before {
			t.Fatalf("something outside the root changed: %v\n%s", entries, listTree(t, outside))
		}
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrUnsafeEntry, errdefs.ErrInvalidInput, errdefs.ErrDigestMismatch, errdefs.ErrTooLarge)
			return
		}
		var text bytes.Buffer
		_, err = snap.WriteTo(&text)
		must(t, err)
		back, err := ReadSnapshot(bytes.NewReader(text.Bytes()))
		if err != nil {
			t.Fatalf("the snapshot does not read back: %v\n%s", err, text.Bytes())
		}
		var again bytes.Buffer
		back.WriteTo(&again)
		if !bytes.Equal(again.Bytes(), text.Bytes()) || back.Len() != snap.Len() {
			t.Fatalf("the snapshot\n%s\nreads back as\n%s", text.Bytes(), again.Bytes())
		}
		paths, err := StorePaths(context.Background(), img, "/nix/store", bounded)
		if err != nil {
			t.Fatalf("Unpack applies the layers, StorePaths refuses them: %v", err)
		}
		if have := storeEntries(t, root); !slices.Equal(paths, have) {
			t.Fatalf("StorePaths says %q, the unpacked store holds %q\n%s", paths, have, listTree(t, root))
		}
	})
}

// storeEntries lists what root/nix/store holds, as store paths, when it
// is a directory reached without a symlink.
func storeEntries(t *testing.T, root string) []string {
	t.Helper()
	for _, d := range []string{"nix", "nix/store"} {
		if fi, err := os.Lstat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			return []string{}
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "nix/store"))
	must(t, err)
	out := []string{}
	for _, e := range entries {
		out = append(out, "/nix/store/"+e.Name())
	}
	return out
}
