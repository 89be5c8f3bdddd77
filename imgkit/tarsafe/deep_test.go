package tarsafe

import (
	"archive/tar"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/testkit"
)

// countingView is a View of nested directories "a/a/…/a" (depth of them)
// holding a symlink at the depth given, which counts the names it walks,
// as a tree or a directory on disk walks them.
type countingView struct {
	depth, symlinkAt int
	names            int
}

func (v *countingView) Lookup(p string) (Kind, bool) {
	if p == "" {
		return Dir, true
	}
	n := strings.Count(p, "/") + 1
	v.names += n
	switch {
	case n > v.depth || n > v.symlinkAt:
		return Ignored, false
	case n == v.symlinkAt:
		return Symlink, true
	}
	return Dir, true
}

// TestCheckPlaceDeepPath: checking the parents of an entry 2000
// directories deep walks a few times its depth, not the square of it
// (2 million names for each entry, so a layer of such a tree took
// minutes), and still finds a symlink among them.
func TestCheckPlaceDeepPath(t *testing.T) {
	const depth = 2000
	name := strings.Repeat("a/", depth) + "f"
	for _, symlinkAt := range []int{depth + 1, 1, depth / 2, depth} {
		v := &countingView{depth: depth, symlinkAt: symlinkAt}
		e, err := Classify(&tar.Header{Typeflag: tar.TypeReg, Name: name}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = CheckPlace(e, v)
		if want := symlinkAt <= depth; want != errors.Is(err, errdefs.ErrUnsafeEntry) {
			t.Fatalf("symlink at depth %d of %d: CheckPlace: %v", symlinkAt, depth, err)
		}
		if limit := 16 * depth; v.names > limit {
			t.Fatalf("symlink at depth %d: %d names walked, more than %d", symlinkAt, v.names, limit)
		}
	}
}

// TestDirViewDeepParents: on disk, the parents of an entry 300
// directories deep are walked once, and a symlink, a file or nothing
// among them is found where it is (the 301 bytes of the error are the
// parent's, cut).
func TestDirViewDeepParents(t *testing.T) {
	root := t.TempDir()
	deep := strings.TrimSuffix(strings.Repeat("a/", 300), "/")
	if err := os.MkdirAll(filepath.Join(root, deep), 0o755); err != nil {
		t.Fatal(err)
	}
	half := strings.TrimSuffix(strings.Repeat("a/", 150), "/")
	os.Symlink("/etc", filepath.Join(root, half, "s"))
	os.WriteFile(filepath.Join(root, half, "f"), nil, 0o644)
	for _, tc := range []struct {
		name string
		want error
		msg  string
	}{
		{deep + "/x", nil, ""},
		{deep + "/new/x", nil, ""},
		{half + "/s/a/x", errdefs.ErrUnsafeEntry, `"…(301 bytes) is a symlink`},
		{half + "/f/a/x", errdefs.ErrInvalidInput, `"…(301 bytes) is a file, not a directory`},
	} {
		e, err := Classify(hdr(tar.TypeReg, tc.name, ""), Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = CheckPlace(e, DirView(root))
		if !errors.Is(err, tc.want) || tc.want != nil && !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: CheckPlace: %v; want %v mentioning %q", tc.name[len(half):], err, tc.want, tc.msg)
		}
	}
}

// TestDirViewSearchOnlyDirectory: a directory on disk that may be searched
// but not read (mode 0311, not ours) cannot be opened for the walk, yet a
// symlink below it is still found: lookups go on by path. (Taken for
// missing, it let "d/s/x" be written through the symlink d/s.) So too
// when the root itself is such a directory, and when directories are
// opened O_RDONLY, as off Linux, where there is no O_PATH to open them
// for search only. Root reads any directory, so as root the test runs
// itself again as nobody.
func TestDirViewSearchOnlyDirectory(t *testing.T) {
	root := os.Getenv("DIRVIEW_ROOT")
	if root == "" {
		root = t.TempDir()
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.Chmod(filepath.Dir(root), 0o755))
		must(os.Chmod(root, 0o755))
		must(os.Mkdir(filepath.Join(root, "d"), 0o755))
		must(os.Symlink("/etc", filepath.Join(root, "d/s")))
		must(os.Mkdir(filepath.Join(root, "r"), 0o755))
		must(os.Symlink("/etc", filepath.Join(root, "r/s")))
		for _, d := range []string{"d", "r"} {
			must(os.Chmod(filepath.Join(root, d), 0o311))
			t.Cleanup(func() { os.Chmod(filepath.Join(root, d), 0o755) })
		}
		if os.Geteuid() == 0 {
			testkit.Need(t, "setpriv")
			cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				os.Args[0], "-test.run=^TestDirViewSearchOnlyDirectory$", "-test.count=1")
			cmd.Env = append(os.Environ(), "DIRVIEW_ROOT="+root)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("as nobody: %v\n%s", err, out)
			}
			return
		}
	}
	defer func(was int) { dirSearch = was }(dirSearch)
	for _, flag := range []int{storefs.SearchOnly, unix.O_RDONLY} {
		dirSearch = flag
		for _, c := range []struct{ view, name, link string }{{root, "d/s/x", "d/s"}, {root + "/r", "s/x", "s"}} {
			e, err := Classify(hdr(tar.TypeReg, c.name, ""), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckPlace(e, DirView(c.view)); !errors.Is(err, errdefs.ErrUnsafeEntry) || !strings.Contains(err.Error(), `its parent "`+c.link+`" is a symlink`) {
				t.Errorf("opening directories with %#x: CheckPlace %s in %s: %v; want the symlink %s refused", flag, c.name, c.view, err, c.link)
			}
		}
	}
}
