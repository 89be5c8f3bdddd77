package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/tarw"
	"dockertools.dev/testkit"
)

const testHash = "0123456789abcdfghijklmnpqrsvwxyz"

// swapStore makes root/nix/store/<hash>-x (sub/file, 2000 bytes of "a") and,
// outside the root, a look-alike holding a secret of the same size.
func swapStore(t *testing.T) (root, outside, storePath string) {
	t.Helper()
	work := t.TempDir()
	root, outside = filepath.Join(work, "root"), filepath.Join(work, "outside")
	storePath = filepath.Join(root, "nix", "store", testHash+"-x")
	for dir, fill := range map[string]string{storePath: "a", outside: "s"} {
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", "file"), []byte(strings.Repeat(fill, 2000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside, storePath
}

// swap replaces the directory dir by a symlink to target.
func swap(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
}

// TestSwappedDirectoryNotFollowed: a directory of a store path replaced by
// a symlink to a look-alike outside the store, after the layer was
// measured and before it is written, is never followed: nothing outside is
// opened and no byte of it is in the layer. Written from the entries
// recorded while measuring, the run fails as a changed store: the
// directories of the files are opened relative to their parents without
// following a symlink (imgkit/storefs.Opener), where reopening a path from
// the root would go through the symlink. Walked again, the symlink is what
// the walk finds, and it is packed as a symlink. A customisation directory
// is read the same way below its top.
func TestSwappedDirectoryNotFollowed(t *testing.T) {
	for _, c := range []struct {
		name   string
		dir    string // below the store path; "" for the store path itself
		custom bool   // the store path as a customisation directory
	}{
		{"StorePathSwapped", "", false},
		{"SubdirectorySwapped", "sub", false},
		{"CustomisationSubdirectorySwapped", "sub", true},
	} {
		for _, mode := range []struct {
			name    string
			budget  int
			changed bool
		}{{"Cached", 0, true}, {"Walked", 1, false}} {
			t.Run(c.name+"/"+mode.name, func(t *testing.T) {
				root, outside, storePath := swapStore(t)
				l := storeLayer(&storeOptions{storeDir: "/nix/store", root: root}, []string{"/nix/store/" + testHash + "-x"})
				if c.custom {
					l = dirLayer(&dirOptions{root: storePath, warn: t.Logf}, layerstream.LayerInfo{})
				}
				l.budget = mode.budget
				size, err := l.measure(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				target := outside
				if c.dir != "" {
					target = filepath.Join(outside, c.dir)
				}
				swap(t, filepath.Join(storePath, c.dir), target)
				opened := testkit.WatchOpens(t, outside, filepath.Join(outside, "sub"))
				var out bytes.Buffer
				p := startPipeline(layerstream.NewWriter(&out), false)
				err = p.begin(size)
				if err == nil {
					err = l.emit(context.Background(), p, size)
				}
				err = p.finish(err)
				if mode.changed && !errors.Is(err, errdefs.ErrChanged) || !mode.changed && err != nil {
					t.Errorf("err = %v, want changed: %v", err, mode.changed)
				}
				if got := opened(); len(got) > 0 {
					t.Errorf("opened outside the store: %q", got)
				}
				if bytes.Contains(out.Bytes(), []byte("sss")) {
					t.Error("the output holds bytes of the file outside the store")
				}
			})
		}
	}
}

// TestWalkTreeKeepsListedDirectory: the walk descends into a directory
// relative to its parent as listed, so a parent swapped for a symlink
// right after it was listed (here by the visit of its child, the moment
// before the walk opens that child) is not followed: the walk goes on in
// the directory it listed and opens nothing outside.
func TestWalkTreeKeepsListedDirectory(t *testing.T) {
	_, outside, storePath := swapStore(t)
	store, err := unix.Open(filepath.Dir(storePath), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(store)
	var st unix.Stat_t
	if err := unix.Fstatat(store, testHash+"-x", &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	var opened func() []string
	var seen []string
	visit := func(at place, name string, st *unix.Stat_t) (bool, error) {
		seen = append(seen, at.rel)
		if at.rel == testHash+"-x/sub" {
			swap(t, storePath, outside)
			opened = testkit.WatchOpens(t, outside, filepath.Join(outside, "sub"))
		}
		return true, nil
	}
	err = walkTree(context.Background(), place{store, testHash + "-x", testHash + "-x"}, "/nix/store/"+testHash+"-x", &st, tarw.PythonLess, visit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{testHash + "-x", testHash + "-x/sub", testHash + "-x/sub/file"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("visited %q, want %q", seen, want)
	}
	if got := opened(); len(got) > 0 {
		t.Errorf("opened outside the store: %q", got)
	}
}
