package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/testkit/storegen"
)

// TestCacheAndWalkGiveSameBytes: a layer written from the entries recorded
// while measuring is the layer written by walking the tree again (the path
// taken for layers too big to record), for store and customisation layers.
func TestCacheAndWalkGiveSameBytes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "nix", "store", "aaa-x")
	for _, d := range []string{"bin", "lib/deep/er", strings.Repeat("long", 30)} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"bin/x": "#!/bin/sh\n", "lib/deep/er/data": strings.Repeat("d", 3000), strings.Repeat("long", 30) + "/f": "f"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../lib/deep/er/data", filepath.Join(dir, "bin", "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	so := &storeOptions{storeDir: "/nix/store", root: root, uname: "root", gname: "root", mtime: 1}
	layers := func() []*treeLayer {
		return []*treeLayer{
			storeLayer(so, []string{"/nix/store/aaa-x"}),
			dirLayer(&dirOptions{root: dir, warn: t.Logf}, layerstream.LayerInfo{Comment: "c"}),
		}
	}
	var out [2]bytes.Buffer
	for i, budget := range []int{0, 1} {
		var ls []layer
		for _, l := range layers() {
			l.budget = budget
			ls = append(ls, l)
		}
		if err := pack(context.Background(), &cli.IO{Stderr: &out[i]}, ls, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Fatal("cached and walked layers differ")
	}
}

// BenchmarkEntryCache packs the layers of a store of many small files
// (storegen: 100 paths, 25,000 files, 25 MiB) to io.Discard, with the
// entries measure recorded (Cached) and walking each tree again (Walked),
// for the gain entryCache's comment gives.
func BenchmarkEntryCache(b *testing.B) {
	root := b.TempDir()
	m, err := storegen.Generate(root, storegen.Spec{Seed: 3, Paths: 100, Files: 25_000, Bytes: 25 << 20})
	if err != nil {
		b.Fatal(err)
	}
	so := &storeOptions{storeDir: "/nix/store", root: root, uname: "root", gname: "root", mtime: 1}
	for _, c := range []struct {
		name   string
		budget int
	}{{"Cached", 0}, {"Walked", 1}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var ls []layer
				for _, p := range m.Paths {
					l := storeLayer(so, []string{p.Path})
					l.budget = c.budget
					ls = append(ls, l)
				}
				if err := pack(context.Background(), &cli.IO{Stderr: io.Discard}, ls, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
