package rootfs

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"dockertools.dev/imgkit/tarsafe"
)

// TestUnpackWhiteoutsKeepTheirOwnLayer: a whiteout hides what lower layers
// put at its path, never what its own layer wrote there, and StorePaths
// says what Unpack leaves (FuzzUnpack and FuzzFlatten found Unpack keeping
// the lower nix/store/a when the layer had written nix/store/b, and
// StorePaths keeping a store path whose store the layer then replaced by
// a file).
func TestUnpackWhiteoutsKeepTheirOwnLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []string
		want   string
		store  []string
	}{
		{"WhiteoutAfterOwnEntries", []string{spec("d 0755 0:0 nix/store/a/"), spec("d 0755 0:0 nix/store/b/", `f 0644 0:0 nix/.wh.store ""`)},
			"d 0755 0:0 .\nd 0755 0:0 nix\nd 0755 0:0 nix/store\nd 0755 0:0 nix/store/b\n", []string{"/nix/store/b"}},
		{"WhiteoutOfOwnFile", []string{spec(`f 0644 0:0 a "lower"`), spec(`f 0644 0:0 a "own"`, `f 0644 0:0 .wh.a ""`)},
			"d 0755 0:0 .\nf 0644 0:0 a \"own\"\n", []string{}},
		{"StoreReplacedByAFile", []string{spec("d 0755 0:0 nix/store/x/", `f 0644 0:0 nix/store "file"`)},
			"d 0755 0:0 .\nd 0755 0:0 nix\nf 0644 0:0 nix/store \"file\"\n", []string{}},
		{"OpaqueKeepsOwnEntriesInLowerDirectories", []string{spec("d 0755 0:0 a/c/", `f 0644 0:0 a/c/old "o"`), spec(`f 0644 0:0 a/c/new "n"`, `f 0644 0:0 a/.wh..wh..opq ""`)},
			"d 0755 0:0 .\nd 0755 0:0 a\nd 0755 0:0 a/c\nf 0644 0:0 a/c/new \"n\"\n", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := imageOf(t, tc.layers...)
			dir, _ := unpackInto(t, img)
			if got := listTree(t, dir); got != tc.want {
				t.Error(diffText(tc.want, got))
			}
			paths, err := StorePaths(context.Background(), img, "/nix/store", tarsafe.Options{})
			if err != nil || !slices.Equal(paths, tc.store) {
				t.Errorf("StorePaths: %q, %v; want %q", paths, err, tc.store)
			}
		})
	}
}

// TestUnpackWhiteoutOfOwnSymlinkFollowsNothing: a whiteout of a symlink
// its own layer made leaves the symlink, and what it points to, alone.
func TestUnpackWhiteoutOfOwnSymlinkFollowsNothing(t *testing.T) {
	work := t.TempDir()
	outside := filepath.Join(work, "outside")
	must(t, os.Mkdir(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "keep"), []byte("x"), 0o644))
	img := imageOf(t, spec("d 0755 0:0 d/", `f 0644 0:0 d/f "f"`), spec("l 0777 0:0 d "+outside, `f 0644 0:0 .wh.d ""`))
	root := filepath.Join(work, "root")
	must(t, os.Mkdir(root, 0o700))
	if _, err := Unpack(context.Background(), img, root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(outside, "keep")); err != nil || string(data) != "x" {
		t.Fatalf("the symlink's target lost its file: %v", err)
	}
	if link, err := os.Readlink(filepath.Join(root, "d")); err != nil || link != outside {
		t.Fatalf("d is no longer the layer's symlink: %q, %v", link, err)
	}
}
