package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// testStoreOptions are store options for a store under root.
func testStoreOptions(root string) *storeOptions {
	return &storeOptions{storeDir: "/nix/store", root: root, uname: "root", gname: "root", mtime: 1}
}

// storeLayers are paths as store layers of three paths each.
func storeLayers(so *storeOptions, paths []string, budget int) []layer {
	var ls []layer
	for i := 0; i < len(paths); i += 3 {
		l := storeLayer(so, paths[i:min(i+3, len(paths))])
		l.budget = budget
		ls = append(ls, l)
	}
	return ls
}

// TestWriterTakesHashedDescriptors: with layers hashed apart from the
// ordered output, the writer's pass opens no file of a layer whose entries
// were kept: it takes the descriptor the hashing pass kept for it, so the
// two passes open each file once, whether the writer reads the file or the
// kernel copies it. A layer too big to keep its entries is not hashed
// apart (hashedApart): its one pass opens each file once. A layer whose
// hashing pass may keep no descriptor (keptMax 0: the process keeps as
// many as it may already) opens each file in each pass. Run under -race.
func TestWriterTakesHashedDescriptors(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 14)
	for _, c := range []struct {
		budget, want int
		output       string
		keep         int32
	}{{0, 1, "buffer", keptMax}, {0, 1, "pipe", keptMax}, {1, 1, "buffer", keptMax}, {0, 2, "pipe", 0}} {
		name := fmt.Sprintf("budget%d-%s", c.budget, c.output)
		if c.keep == 0 {
			name += "-keepnone"
		}
		t.Run(name, func(t *testing.T) {
			defer func(m int32) { keptMax = m }(keptMax)
			keptMax = c.keep
			var mu sync.Mutex
			opens := map[string]int{}
			testHookOpen = func(name string) {
				mu.Lock()
				opens[name]++
				mu.Unlock()
			}
			defer func() { testHookOpen = nil }()
			w, out := testkit.WriterOf(t, c.output)
			if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, storeLayers(testStoreOptions(root), paths, c.budget), w, 2); err != nil {
				t.Fatal(err)
			}
			checkStream(t, out())
			files := 0
			for _, p := range paths {
				entries, err := os.ReadDir(filepath.Join(root, p, "share"))
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					name := p + "/share/" + e.Name()
					if opens[name] != c.want {
						t.Errorf("%s opened %d times, want %d", name, opens[name], c.want)
					}
					files++
				}
			}
			if len(opens) != files {
				t.Errorf("%d files opened, want %d", len(opens), files)
			}
		})
	}
}

// TestKeptDescriptorFileChanged: a file that changes after the hashing
// pass hashed it, while its descriptor waits for the writer's pass, stops
// the stream with one line naming its layer and the file, never a layer
// whose bytes disagree with their digest: grown, or replaced by another
// file (the kept descriptor is then of a file no longer in the store).
func TestKeptDescriptorFileChanged(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 9)
	file := filepath.Join(root, paths[4], "share", "f0")
	for _, c := range []struct {
		name   string
		change func() error
		want   string
	}{
		{"grew", func() error { return appendTo(file) }, `": size changed from 10 to 14 bytes while packing`},
		{"replaced", func() error {
			other := file + ".new"
			if err := os.WriteFile(other, []byte("other file"), 0o644); err != nil {
				return err
			}
			return os.Rename(other, file)
		}, `" vanished while packing`},
	} {
		for _, output := range []string{"buffer", "pipe"} {
			t.Run(c.name+"-"+output, func(t *testing.T) {
				if err := os.WriteFile(file, []byte("ten bytes!"), 0o644); err != nil {
					t.Fatal(err)
				}
				var changed error
				var once sync.Once
				testHookKept = func(name string) {
					if strings.HasSuffix(name, paths[4]+"/share/f0") {
						once.Do(func() { changed = c.change() })
					}
				}
				defer func() { testHookKept = nil }()
				w, out := testkit.WriterOf(t, output)
				err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, storeLayers(testStoreOptions(root), paths, 0), w, 2)
				if changed != nil {
					t.Fatal(changed)
				}
				checkLayer1Changed(t, err, paths[4]+"/share/f0"+c.want, out())
			})
		}
	}
}
