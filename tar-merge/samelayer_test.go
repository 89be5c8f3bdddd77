package main

import (
	"os"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// TestWhiteoutsKeepTheirOwnLayer: a whiteout or opaque marker hides what
// lower layers put at its path, never what its own layer wrote there, even
// below a directory a lower layer made (FuzzFlatten and FuzzUnpack found
// --flatten dropping the layer's own nix/store/b with the lower store,
// and rootfs.Unpack keeping the lower nix/store/a).
func TestWhiteoutsKeepTheirOwnLayer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []layer
		want   string
	}{
		{"WhiteoutAfterOwnEntries", []layer{
			specLayer("d 0755 0:0 nix/store/a/"),
			specLayer("d 0755 0:0 nix/store/b/", `f 0644 0:0 nix/.wh.store ""`)},
			"d 0755 0:0 0 ./\nd 0755 0:0 0 ./nix/\nd 0755 0:0 0 ./nix/store/\nd 0755 0:0 0 ./nix/store/b/\n"},
		{"WhiteoutBeforeOwnEntries", []layer{
			specLayer("d 0755 0:0 nix/store/a/"),
			specLayer(`f 0644 0:0 nix/.wh.store ""`, "d 0755 0:0 nix/store/b/")},
			"d 0755 0:0 0 ./\nd 0755 0:0 0 ./nix/\nd 0755 0:0 0 ./nix/store/\nd 0755 0:0 0 ./nix/store/b/\n"},
		{"OpaqueKeepsOwnEntriesInLowerDirectories", []layer{
			specLayer("d 0755 0:0 a/c/", `f 0644 0:0 a/c/old "o"`, `f 0644 0:0 a/gone "g"`),
			specLayer(`f 0644 0:0 a/c/new "n"`, `f 0644 0:0 a/.wh..wh..opq ""`)},
			"d 0755 0:0 0 ./\nd 0755 0:0 0 ./a/\nd 0755 0:0 0 ./a/c/\nf 0644 0:0 1 ./a/c/new\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := flattenImage(t, t.TempDir(), tc.layers, testkit.ImageOptions{}, false)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got strings.Builder
			if err := testkit.ListTar(f, &got, testkit.ListOptions{}); err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want {
				t.Errorf("got\n%swant\n%s", got.String(), tc.want)
			}
		})
	}
}
