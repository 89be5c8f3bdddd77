package storegen_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit"
	"dockertools.dev/testkit/storegen"
)

var small = storegen.Spec{Seed: 7, Paths: 60, Files: 1500, Bytes: 8 << 20}

// generate writes spec under a fresh temporary root.
func generate(t *testing.T, spec storegen.Spec) *storegen.Manifest {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	t.Cleanup(func() { storegen.RemoveAll(root) })
	m, err := storegen.Generate(root, spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// treeListing describes every object under the store directory: name,
// type, mode, mtime, size, link target, content digest and inode sharing.
func treeListing(t *testing.T, m *storegen.Manifest) string {
	t.Helper()
	var b strings.Builder
	dir := m.Physical(m.StoreDir)
	inodes := map[uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v %d %d", rel, fi.Mode(), fi.ModTime().Unix(), fi.Size())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " -> %s", target)
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
			if first, ok := inodes[st.Ino]; ok {
				fmt.Fprintf(&b, " link=%s", first)
			}
			inodes[st.Ino] = rel
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func manifestJSON(t *testing.T, m *storegen.Manifest) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The same spec gives the same bytes, modes, times and manifest, whatever
// the umask; another seed gives another store.
func TestGenerateDeterministic(t *testing.T) {
	a := generate(t, small)
	old := syscall.Umask(0o077)
	b := generate(t, small)
	syscall.Umask(old)
	if la, lb := treeListing(t, a), treeListing(t, b); la != lb {
		t.Fatalf("two stores from one spec differ:\n%s", firstDiff(la, lb))
	}
	if !bytes.Equal(manifestJSON(t, a), manifestJSON(t, b)) {
		t.Fatal("two manifests from one spec differ")
	}
	other := small
	other.Seed++
	if c := generate(t, other); treeListing(t, c) == treeListing(t, a) {
		t.Fatal("another seed gave the same store")
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return la[i] + "\n" + lb[i]
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}

// Every site of the manifest holds its reference, and an independent scan
// for hash parts (in contents and link targets, as Nix's scanner does)
// finds exactly the manifest's references: none missing, none extra.
func TestReferencesWhereManifestSays(t *testing.T) {
	m := generate(t, small)
	for _, p := range m.Paths {
		for _, s := range p.Sites {
			name := m.Physical(p.Path)
			if s.Entry != "" {
				name = filepath.Join(name, filepath.FromSlash(s.Entry))
			}
			if s.Offset < 0 {
				target, err := os.Readlink(name)
				if err != nil {
					t.Fatal(err)
				}
				if target != s.Ref && !strings.HasPrefix(target, s.Ref+"/") {
					t.Errorf("%s: link %q does not point into %s", p.Path, target, s.Ref)
				}
				continue
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if end := s.Offset + int64(len(s.Ref)); end > int64(len(data)) || string(data[s.Offset:end]) != s.Ref {
				t.Errorf("%s: %s at %d does not hold %s", p.Path, s.Entry, s.Offset, s.Ref)
			}
		}
	}
	if got, want := scanGraph(t, m), m.Graph(); !slices.EqualFunc(got, want, func(a, b graphplan.PathInfo) bool {
		return a.Path == b.Path && slices.Equal(a.References, b.References)
	}) {
		t.Fatalf("scanned references differ from the manifest:\n got %v\nwant %v", got, want)
	}
}

var hashPart = regexp.MustCompile(`[0-9a-df-np-sv-z]{32}`)

// scanGraph finds the references of every path by searching its bytes and
// link targets for the hash parts of the store's paths.
func scanGraph(t *testing.T, m *storegen.Manifest) graphplan.Graph {
	t.Helper()
	byHash := map[string]string{}
	for _, p := range m.Paths {
		byHash[strings.TrimPrefix(p.Path, m.StoreDir+"/")[:32]] = p.Path
	}
	var g graphplan.Graph
	for _, p := range m.Paths {
		refs := map[string]bool{}
		find := func(b []byte) {
			for _, h := range hashPart.FindAll(b, -1) {
				if ref, ok := byHash[string(h)]; ok {
					refs[ref] = true
				}
			}
		}
		err := filepath.WalkDir(m.Physical(p.Path), func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				target, err := os.Readlink(name)
				find([]byte(target))
				return err
			case d.Type().IsRegular():
				data, err := os.ReadFile(name)
				find(data)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var list []string
		for r := range refs {
			list = append(list, r)
		}
		g = append(g, graphplan.PathInfo{Path: p.Path, References: list})
	}
	return g.Canonical()
}

// narSize is what Nix computes: nix-store --dump serialises each path.
func TestNarSizeMatchesNix(t *testing.T) {
	testkit.Need(t, "nix")
	m := generate(t, small)
	for _, p := range m.Paths {
		out, err := exec.Command("nix-store", "--dump", m.Physical(p.Path)).Output()
		if err != nil {
			t.Fatalf("nix-store --dump %s: %v", p.Path, err)
		}
		if uint64(len(out)) != p.NarSize {
			t.Errorf("%s (%s): narSize %d, nix-store --dump gives %d bytes", p.Path, p.Kind, p.NarSize, len(out))
		}
	}
}

// The totals are what is on disk, the spec's counts are kept, and the top
// path's closure is the whole store.
func TestTotals(t *testing.T) {
	m := generate(t, small)
	var tot storegen.Totals
	seen := map[uint64]bool{} // inodes: a hardlink is its file's second name
	err := filepath.WalkDir(m.Physical(m.StoreDir), func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(name)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			tot.Dirs++
		case fi.Mode()&fs.ModeSymlink != 0:
			tot.Symlinks++
		case fi.Mode().IsRegular():
			ino := fi.Sys().(*syscall.Stat_t).Ino
			if seen[ino] {
				tot.Hardlinks++
				break
			}
			seen[ino] = true
			tot.Files++
			tot.Bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tot.Dirs-- // the store directory itself
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"paths", int64(len(m.Paths)), int64(small.Paths)},
		{"files in manifest", int64(m.Totals.Files), int64(small.Files)},
		{"files on disk", int64(tot.Files), int64(m.Totals.Files)},
		{"bytes on disk", tot.Bytes, m.Totals.Bytes},
		{"dirs", int64(tot.Dirs), int64(m.Totals.Dirs)},
		{"symlinks", int64(tot.Symlinks), int64(m.Totals.Symlinks)},
		{"hardlinks", int64(tot.Hardlinks), int64(m.Totals.Hardlinks)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if m.Totals.Bytes < small.Bytes || m.Totals.Bytes > small.Bytes+small.Bytes/100 {
		t.Errorf("bytes: %d, want %d (+1%% at most for references)", m.Totals.Bytes, small.Bytes)
	}
	if c := closure(m.Graph(), m.Top); len(c) != len(m.Paths) {
		t.Errorf("the top path's closure has %d paths of %d", len(c), len(m.Paths))
	}
}

func closure(g graphplan.Graph, top string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		i, _ := g.Index(p)
		for _, r := range g[i].References {
			visit(r)
		}
	}
	visit(top)
	return seen
}

// BenchmarkGenerate reports the generator's speed (MB/s of file contents).
func BenchmarkGenerate(b *testing.B) {
	spec := storegen.Spec{Seed: 1, Paths: 200, Files: 5000, Bytes: 200 << 20}
	b.SetBytes(spec.Bytes)
	for b.Loop() {
		root := filepath.Join(b.TempDir(), "root")
		if _, err := storegen.Generate(root, spec); err != nil {
			b.Fatal(err)
		}
		storegen.RemoveAll(root)
	}
}
