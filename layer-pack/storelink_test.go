package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// TestStoreFileLinkedWhilePacking: Nix's store optimisation
// (auto-optimise-store, nix-store --optimise) hard-links a file of
// another store path, built meanwhile, to an identical file of a path
// being packed: that moves the file's change time, not its bytes or its
// modification time, which stays Nix's canonical 1. The pack goes on and
// gives the stream it gives without the link (it failed with "was written
// to while packing", a concurrent nix-build enough). A file of the same
// store whose bytes are written meanwhile, at the same size, is still an
// error: the write moved its modification time.
func TestStoreFileLinkedWhilePacking(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 9)
	canonical := time.Unix(1, 0)
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			err = os.Chtimes(p, canonical, canonical)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, paths[4], "share", "f0")
	var want bytes.Buffer
	if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), &want, 1); err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, c := range []struct {
		hashers int
		output  string
	}{{1, "buffer"}, {2, "buffer"}, {2, "pipe"}, {4, "file"}} {
		t.Run(fmt.Sprint(c.hashers, c.output), func(t *testing.T) {
			// After layer 1 is measured: its files are examined, and
			// read by the passes after.
			testHookMeasured = func(i int) {
				if i == 1 {
					links++
					if err := os.Link(file, filepath.Join(root, fmt.Sprintf("link%d", links))); err != nil {
						t.Error(err)
					}
				}
			}
			defer func() { testHookMeasured = nil }()
			w, out := testkit.WriterOf(t, c.output)
			if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), w, c.hashers); err != nil {
				t.Fatalf("a link to a store file made while packing: %v", err)
			}
			if !bytes.Equal(out(), want.Bytes()) {
				t.Fatal("the stream differs from the one packed without the link")
			}
		})
	}
	t.Run("written", func(t *testing.T) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		testHookMeasured = func(i int) {
			if i == 1 {
				f, err := os.OpenFile(file, os.O_WRONLY, 0)
				if err == nil {
					_, err = f.WriteAt(bytes.Repeat([]byte{'w'}, len(data)), 0)
					f.Close()
				}
				if err != nil {
					t.Error(err)
				}
			}
		}
		defer func() { testHookMeasured = nil }()
		w, out := testkit.WriterOf(t, "buffer")
		err = packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), w, 2)
		checkLayer1Changed(t, err, paths[4]+`/share/f0" was written to while packing`, out())
	})
}
