package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// writeNAR serialises path as a NAR, following the grammar byte by byte;
// narSize must agree with its length without writing anything.
func writeNAR(w io.Writer, path string) error {
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		w.Write(n[:])
		io.WriteString(w, s)
		w.Write(make([]byte, (8-len(s)%8)%8))
	}
	var node func(p string) error
	node = func(p string) error {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		str("(")
		str("type")
		switch {
		case fi.Mode().IsRegular():
			str("regular")
			if fi.Mode()&0o100 != 0 {
				str("executable")
				str("")
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			str("contents")
			str(string(data))
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			str("symlink")
			str("target")
			str(target)
		case fi.IsDir():
			str("directory")
			entries, err := os.ReadDir(p)
			if err != nil {
				return err
			}
			for _, e := range entries {
				str("entry")
				str("(")
				str("name")
				str(e.Name())
				str("node")
				if err := node(filepath.Join(p, e.Name())); err != nil {
					return err
				}
				str(")")
			}
		default:
			return fmt.Errorf("%s: unsupported type", p)
		}
		str(")")
		return nil
	}
	str("nix-archive-1")
	return node(path)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(b []byte) (int, error) { c.n += int64(len(b)); return len(b), nil }

// narTrees builds trees that cover every padding case: names, targets and
// contents of lengths 0 to 17, executable and plain files, empty
// directories, a top-level file and a top-level symlink.
func narTrees(t *testing.T) map[string]string {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tree := filepath.Join(dir, "tree")
	must(os.MkdirAll(filepath.Join(tree, "empty-dir"), 0o755))
	must(os.MkdirAll(filepath.Join(tree, "sub", "deeper"), 0o755))
	for n := range 18 {
		must(os.WriteFile(filepath.Join(tree, "sub", strings.Repeat("f", n+1)), []byte(strings.Repeat("x", n)), 0o644))
		must(os.WriteFile(filepath.Join(tree, "sub", "deeper", fmt.Sprintf("exec%d", n)), []byte(strings.Repeat("y", n*7)), 0o755))
		must(os.Symlink(strings.Repeat("t", n+1), filepath.Join(tree, fmt.Sprintf("link%d", n))))
	}
	must(os.WriteFile(filepath.Join(tree, "owner-cannot-exec"), []byte("z"), 0o655))
	file := filepath.Join(dir, "file")
	must(os.WriteFile(file, []byte("hello\n"), 0o444))
	link := filepath.Join(dir, "link")
	must(os.Symlink("/nix/store/"+h1+"-target", link))
	return map[string]string{"Directory": tree, "TopLevelFile": file, "TopLevelSymlink": link}
}

// scannedNarSize scans p as an extra root and returns its narSize.
func scannedNarSize(t *testing.T, p string) uint64 {
	t.Helper()
	st := &store{dir: "/nix/store", root: "/"}
	sc := newScanner(st, &candidates{byHash: map[string]int32{}}, false, 2)
	if err := sc.addExtra(p); err != nil {
		t.Fatal(err)
	}
	if err := sc.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sc.graph()[0].NarSize
}

func TestNarSize(t *testing.T) {
	for name, p := range narTrees(t) {
		t.Run(name, func(t *testing.T) {
			var c countWriter
			if err := writeNAR(&c, p); err != nil {
				t.Fatal(err)
			}
			if got := scannedNarSize(t, p); got != uint64(c.n) {
				t.Errorf("narSize = %d, the NAR written is %d bytes", got, c.n)
			}
		})
	}
}

// TestNarSizeMatchesNix compares with the NAR that Nix itself writes.
func TestNarSizeMatchesNix(t *testing.T) {
	testkit.Need(t, "nix")
	trees := narTrees(t)
	for _, name := range slices.Sorted(maps.Keys(trees)) {
		p := trees[name]
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("nix-store", "--dump", p)
			var c countWriter
			cmd.Stdout = &c
			if err := cmd.Run(); err != nil {
				t.Fatalf("nix-store --dump: %v", err)
			}
			if got := scannedNarSize(t, p); got != uint64(c.n) {
				t.Errorf("narSize = %d, nix-store --dump writes %d bytes", got, c.n)
			}
		})
	}
}
