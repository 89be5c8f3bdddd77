package storegen_test

import (
	"bytes"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

// A store of a few hundred paths has every feature real closures have and
// the tools must handle.
func TestShape(t *testing.T) {
	m := generate(t, storegen.Spec{Seed: 3, Paths: 300, Files: 6000, Bytes: 24 << 20, MaxFile: 4 << 20})
	found := map[string]bool{}
	for _, p := range m.Paths {
		found["kind "+p.Kind] = true
		for _, r := range p.References {
			if r == p.Path {
				found["self-reference"] = true
			}
		}
	}
	store := m.Physical(m.StoreDir)
	err := filepath.WalkDir(store, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(store, name)
		fi, err := os.Lstat(name)
		if err != nil {
			return err
		}
		if strings.Count(rel, "/") >= 4 {
			found["nested directories"] = true
		}
		if len("/nix/store/"+rel) > 100 {
			found["name over 100 bytes"] = true
		}
		if !utf8.ValidString(rel) || strings.ContainsFunc(rel, func(r rune) bool { return r > 127 }) {
			found["non-ASCII name"] = true
		}
		switch mode := fi.Mode(); {
		case mode&fs.ModeSymlink != 0:
			target, _ := os.Readlink(name)
			if strings.HasPrefix(target, "/") {
				found["absolute symlink"] = true
			} else {
				found["relative symlink"] = true
			}
		case mode.IsRegular():
			found["mode "+mode.String()] = true
			if fi.Sys().(*syscall.Stat_t).Nlink > 1 {
				found["hardlink"] = true
			}
			if fi.Size() > 64<<10 {
				found["file over 64 KiB"] = true
			}
			if fi.Size() < 1<<10 {
				found["file under 1 KiB"] = true
			}
		case mode.IsDir():
			if rel != "." {
				found["mode "+mode.String()] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kind directory", "kind file", "kind symlink", "self-reference", "nested directories",
		"name over 100 bytes", "non-ASCII name", "absolute symlink", "relative symlink",
		"hardlink", "file over 64 KiB", "file under 1 KiB",
		"mode -r--r--r--", "mode -r-xr-xr-x", "mode dr-xr-xr-x",
	} {
		if !found[want] {
			t.Errorf("no %s in the store", want)
		}
	}
	for f := range found {
		if strings.HasPrefix(f, "mode ") && !strings.Contains("mode -r--r--r-- mode -r-xr-xr-x mode dr-xr-xr-x", f) {
			t.Errorf("unexpected %s", f)
		}
	}
}

func TestSpecRefused(t *testing.T) {
	for name, spec := range map[string]storegen.Spec{
		"OnePath":             {Paths: 1},
		"FewerFilesThanPaths": {Paths: 10, Files: 9},
		"RelativeStoreDir":    {StoreDir: "nix/store"},
		"RootStoreDir":        {StoreDir: "/"},
		"NegativeBytes":       {Bytes: -1},
		"NegativeRefs":        {Refs: -1},
		"NaNSigma":            {SizeSigma: math.NaN()},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := storegen.Generate(t.TempDir(), spec); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// Generate refuses to mix a new store into an existing one.
func TestGenerateRefusesNonEmptyStore(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "nix/store/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := storegen.Generate(root, small); err == nil {
		t.Fatal("generated into a non-empty store")
	}
}

// Ensure generates once and then reuses the store; a new spec gets a new
// store.
func TestEnsureReuses(t *testing.T) {
	cache := t.TempDir()
	t.Cleanup(func() { storegen.RemoveAll(cache) })
	a, err := storegen.Ensure(cache, small)
	if err != nil {
		t.Fatal(err)
	}
	sentinel := filepath.Join(filepath.Dir(a.Root), "sentinel")
	if err := os.WriteFile(sentinel, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := storegen.Ensure(cache, small)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sentinel); err != nil || a.Root != b.Root || !bytes.Equal(manifestJSON(t, a), manifestJSON(t, b)) {
		t.Fatalf("the second Ensure did not reuse the store (%v)", err)
	}
	other := small
	other.Refs = 2
	c, err := storegen.Ensure(cache, other)
	if err != nil {
		t.Fatal(err)
	}
	if c.Root == a.Root {
		t.Fatal("another spec reused the store")
	}
	if c.Graph()[0].Path != a.Graph()[0].Path || c.Totals.References == a.Totals.References {
		t.Error("changing only Refs should keep the names and change the graph")
	}
}

// drawGraph draws spec's graph twice and returns it and its canonical
// document, failing unless both draws give the same document.
func drawGraph(t *testing.T, spec storegen.GraphSpec) (graphplan.Graph, *bytes.Buffer) {
	t.Helper()
	g, err := storegen.RandomGraph(spec)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := storegen.RandomGraph(spec)
	var a, b bytes.Buffer
	graphplan.WriteGraph(&a, g)
	graphplan.WriteGraph(&b, again)
	if a.String() != b.String() {
		t.Fatal("one spec gave two graphs")
	}
	return g, &a
}

func TestRandomGraph(t *testing.T) {
	spec := storegen.GraphSpec{Seed: 1, Paths: 20000, Refs: 8, SelfRefs: 0.1}
	g, a := drawGraph(t, spec)
	// Canonical and closed: reading it back gives the same bytes.
	read, err := graphplan.ReadGraph(bytes.NewReader(a.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	var c bytes.Buffer
	graphplan.WriteGraph(&c, read)
	if c.String() != a.String() {
		t.Fatal("the graph is not canonical")
	}
	refs, self := 0, 0
	for _, n := range g {
		for _, r := range n.References {
			if r == n.Path {
				self++
			} else {
				refs++
			}
		}
	}
	if mean := float64(refs) / float64(len(g)); len(g) != spec.Paths || math.Abs(mean-spec.Refs) > 1 {
		t.Errorf("%d paths with %.2f references each, want %d with about %v", len(g), mean, spec.Paths, spec.Refs)
	}
	if frac := float64(self) / float64(len(g)); math.Abs(frac-spec.SelfRefs) > 0.02 {
		t.Errorf("%.3f of paths refer to themselves, want about %v", frac, spec.SelfRefs)
	}
	if cyc := cycle(g); cyc != "" {
		t.Errorf("cycle through %s", cyc)
	}
}

// TestRandomGraphUniform: with Uniform, path number i (in drawing order)
// refers to min(i, Refs) distinct earlier paths, so the sorted reference
// counts are 0, 1, ..., Refs-1 and then Refs for every other path; the
// graph is a canonical, closed DAG, the same for the same spec, and not
// the preferential one.
func TestRandomGraphUniform(t *testing.T) {
	spec := storegen.GraphSpec{Seed: 3, Paths: 3000, Refs: 8, SelfRefs: 0.1, Uniform: true}
	g, a := drawGraph(t, spec)
	if _, err := graphplan.ReadGraph(bytes.NewReader(a.Bytes()), ""); err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 0, len(g))
	for _, n := range g {
		c := 0
		for _, r := range n.References {
			if r != n.Path {
				c++
			}
		}
		counts = append(counts, c)
	}
	slices.Sort(counts)
	for i, c := range counts {
		if want := min(i, int(spec.Refs)); c != want {
			t.Fatalf("the %d-th smallest reference count is %d, want %d", i, c, want)
		}
	}
	if cyc := cycle(g); cyc != "" {
		t.Errorf("cycle through %s", cyc)
	}
	spec.Uniform = false
	if _, p := drawGraph(t, spec); p.String() == a.String() {
		t.Error("Uniform changed nothing")
	}
}

// cycle returns a path on a cycle (self-references aside), or "".
func cycle(g graphplan.Graph) string {
	state := make([]byte, len(g)) // 0 new, 1 on the stack, 2 done
	var visit func(int) string
	visit = func(i int) string {
		state[i] = 1
		for _, r := range g[i].References {
			j, _ := g.Index(r)
			if j == i {
				continue
			}
			if state[j] == 1 {
				return r
			}
			if state[j] == 0 {
				if c := visit(j); c != "" {
					return c
				}
			}
		}
		state[i] = 2
		return ""
	}
	for i := range g {
		if state[i] == 0 {
			if c := visit(i); c != "" {
				return c
			}
		}
	}
	return ""
}
