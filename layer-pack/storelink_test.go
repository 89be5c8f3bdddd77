package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	canonicalTimes(t, root)
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

// canonicalTimes gives every regular file under root Nix's modification
// time, as in a store.
func canonicalTimes(t *testing.T, root string) {
	t.Helper()
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			err = os.Chtimes(p, nixTime, nixTime)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

var nixTime = time.Unix(1, 0)

// replaceBy does to the store file name what `nix-store --optimise` does
// when /nix/store/.links holds its bytes already: it renames another file
// (here made for it) of the same permission bits and Nix's modification
// time, holding data, over it.
func replaceBy(name string, data []byte) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp := name + ".link"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, nixTime, nixTime); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// TestStoreFileReplacedWhilePacking: `nix-store --optimise` replaces a
// store file whose bytes /nix/store/.links holds already by a rename of
// that identical file over it, maybe while a pack reads the path. Wherever
// each pass is then (after the measure, after the hashing pass kept the
// descriptor for the writer's, before the kernel copies it into the
// output), and whether one pass hashes and writes or a hashing pass runs
// apart, the pack goes on and gives the stream it gives without: the
// bytes hashed are the bytes written (the same file, or the copy both
// passes read). It failed with "was replaced while packing" or "vanished
// while packing". Where the passes would read different files (the
// hashing pass's descriptor could not be kept: the writer would open
// whatever is at the name then), it is an error that says what happened;
// and a copy with other bytes never gives a layer whose digest disagrees
// with them.
func TestStoreFileReplacedWhilePacking(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 9)
	file := filepath.Join(root, paths[4], "share", "big")
	data := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	if err := os.WriteFile(file, data, 0o444); err != nil {
		t.Fatal(err)
	}
	canonicalTimes(t, root)
	var want bytes.Buffer
	if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), &want, 1); err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte("o"), len(data))
	// pack packs the store with hashers, in output, replacing file by a
	// copy holding with at point; fired says whether the point was reached.
	pack := func(t *testing.T, hashers int, output, point string, with []byte) (out []byte, err error, fired bool) {
		t.Helper()
		if err := replaceBy(file, data); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		replace := func(name string) {
			if strings.HasSuffix(name, paths[4]+"/share/big") {
				once.Do(func() {
					fired = true
					if err := replaceBy(file, with); err != nil {
						t.Error(err)
					}
				})
			}
		}
		switch point {
		case "measured":
			testHookMeasured = func(i int) {
				if i == 1 {
					replace(file)
				}
			}
		case "kept":
			testHookKept = replace
		case "kernel":
			testHookKernelCopy = replace
		}
		defer func() { testHookMeasured, testHookKept, testHookKernelCopy = nil, nil, nil }()
		w, got := testkit.WriterOf(t, output)
		err = packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), w, hashers)
		return got(), err, fired
	}
	for _, point := range []string{"measured", "kept", "kernel"} {
		for _, c := range []struct {
			hashers int
			output  string
		}{{1, "buffer"}, {2, "buffer"}, {2, "pipe"}, {4, "file"}} {
			if point == "kept" && c.hashers == 1 || point == "kernel" && (c.hashers == 1 || c.output == "buffer") {
				continue // no such point: one pass, or no kernel copy
			}
			t.Run(fmt.Sprint(point, c.hashers, c.output), func(t *testing.T) {
				out, err, fired := pack(t, c.hashers, c.output, point, data)
				if !fired {
					t.Fatal("the file was not replaced")
				}
				if err != nil {
					t.Fatalf("a store file replaced by its copy while packing: %v", err)
				}
				if !bytes.Equal(out, want.Bytes()) {
					t.Fatal("the stream differs from the one packed without the replacement")
				}
			})
			t.Run(fmt.Sprint(point, c.hashers, c.output, "other"), func(t *testing.T) {
				out, err, _ := pack(t, c.hashers, c.output, point, other)
				if err == nil {
					checkStream(t, out)
				} else {
					checkLayer1Changed(t, err, paths[4]+`/share/big"`, out)
				}
			})
		}
	}
	t.Run("notkept", func(t *testing.T) {
		// The hashing pass read the copy but could keep no descriptor:
		// the writer would open the name again.
		defer func(m int32) { keptMax = m }(keptMax)
		keptMax = 0
		out, err, fired := pack(t, 2, "pipe", "measured", data)
		if !fired {
			t.Fatal("the file was not replaced")
		}
		checkLayer1Changed(t, err, paths[4]+`/share/big" was replaced while packing (nix-store --optimise?): run again`, out)
	})
}
