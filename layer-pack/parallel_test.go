package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/testkit"
)

// parallelStore makes a store of n paths under root, each with a few files
// of random sizes (some past one buffer), and returns the paths.
func parallelStore(t *testing.T, root string, n int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(12, 12))
	var paths []string
	for i := range n {
		p := fmt.Sprintf("/nix/store/%032d-p%d", i, i)
		for f := range 1 + rng.IntN(6) {
			name := filepath.Join(root, p, "share", fmt.Sprintf("f%d", f))
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			data := make([]byte, rng.IntN(3<<20)>>rng.IntN(12))
			for k := range data {
				data[k] = byte(rng.Uint32())
			}
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, p)
	}
	return paths
}

// parallelLayers are layers of every kind that can be hashed apart: store
// layers (one without paths), one wrapped by the layer cache, a
// customisation directory and a ready tar.
func parallelLayers(t *testing.T, root string, paths []string, budget int) []layer {
	so := testStoreOptions(root)
	ls := storeLayers(so, paths, budget)
	empty := storeLayer(so, nil)
	empty.budget = budget
	ls = append(ls, empty)
	sc, err := openStoreCache(&cli.IO{Stderr: io.Discard}, t.TempDir(), "", so)
	if err != nil {
		t.Fatal(err)
	}
	ls = append(ls, sc.wrap(storeLayer(so, paths[:1]), paths[:1]))
	custom := dirLayer(&dirOptions{root: filepath.Join(root, paths[1]), warn: t.Logf}, layerstream.LayerInfo{Comment: "c"})
	custom.budget = budget
	ls = append(ls, custom)
	var tarball bytes.Buffer
	if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, ls[:1], &tarball, 1); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "ready.tar")
	if err := os.WriteFile(name, tarball.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return append(ls, &fileLayer{path: name, info: layerstream.LayerInfo{Comment: "ready"}})
}

// TestParallelHashingSameBytes: layers hashed apart from the ordered
// output, by two or four goroutines, make the very stream one hashing
// goroutine makes, with entry caches and without (every pass walking
// again). Run under -race.
func TestParallelHashingSameBytes(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 14)
	var want []byte
	for _, budget := range []int{0, 1} {
		for _, hashers := range []int{1, 2, 4} {
			var out bytes.Buffer
			if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, budget), &out, hashers); err != nil {
				t.Fatalf("budget %d, %d hashers: %v", budget, hashers, err)
			}
			if want == nil {
				want = out.Bytes()
				checkStream(t, want)
				continue
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("budget %d, %d hashers: the stream differs from one hasher's", budget, hashers)
			}
		}
	}
}

// checkStream reads a layer stream back, recomputing every diff_id.
func checkStream(t *testing.T, data []byte) {
	t.Helper()
	r := layerstream.NewReader(bytes.NewReader(data), layerstream.Options{Verify: true})
	n := 0
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the stream does not read back: %v", err)
		}
		if _, err := io.Copy(io.Discard, l); err != nil {
			t.Fatalf("layer %d: %v", n, err)
		}
		n++
	}
	if n < 3 {
		t.Fatalf("the stream has %d layers", n)
	}
}

// TestParallelHashingVanishedFile: a file of layer 1 that vanishes after
// the layer was measured, just before its hashing pass, stops the stream
// with one line naming the file, whichever pass meets it first; the
// stream written so far has no trailer, so no consumer takes it for an
// image (manifest-gen -o then leaves no file, stream_truncated.txtar).
func TestParallelHashingVanishedFile(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 9)
	gone := filepath.Join(root, paths[4], "share", "f0")
	for _, c := range []struct {
		hashers int
		output  string
	}{{1, "buffer"}, {2, "buffer"}, {2, "file"}, {2, "pipe"}} {
		hashers := c.hashers
		t.Run(fmt.Sprint(hashers, c.output), func(t *testing.T) {
			if err := os.WriteFile(gone, []byte("back again"), 0o644); err != nil {
				t.Fatal(err)
			}
			testHookMeasured = func(i int) {
				if i == 1 {
					os.Remove(gone)
				}
			}
			defer func() { testHookMeasured = nil }()
			w, out := testkit.WriterOf(t, c.output)
			err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), w, hashers)
			checkLayer1Changed(t, err, paths[4]+`/share/f0" vanished while packing`, out())
		})
	}
}

// checkLayer1Changed fails the test unless err is ErrChanged in one line
// naming layer 1 and holding want, and the stream data has no trailer.
func checkLayer1Changed(t *testing.T, err error, want string, data []byte) {
	t.Helper()
	if !errors.Is(err, errdefs.ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "layer 1: ") || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("error %q: want one line naming layer 1 and %q", msg, want)
	}
	checkCut(t, data)
}

// appendTo appends a few bytes to the file name.
func appendTo(name string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("more")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkCut fails the test if the stream data reads as complete: a stream
// stopped by an error must have no trailer.
func checkCut(t *testing.T, data []byte) {
	t.Helper()
	r := layerstream.NewReader(bytes.NewReader(data), layerstream.Options{})
	for {
		l, err := r.Next()
		if err == io.EOF {
			t.Fatal("the cut stream reads as complete")
		}
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, l); err != nil {
			return
		}
	}
}

// TestHashPassesReuseBuffers: the hashing passes share a few buffers
// (spareBufs) rather than each making its own pool: packing 40 small
// layers after a first pack allocates less than the writer's pool and the
// buffers of maxHashers passes, where a pool per pass allocates 40 MiB.
func TestHashPassesReuseBuffers(t *testing.T) {
	root := t.TempDir()
	var paths []string
	for i := range 40 {
		p := fmt.Sprintf("/nix/store/%032d-p%d", i, i)
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p, "f"), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	so := testStoreOptions(root)
	allocated := func() uint64 {
		var ls []layer
		for _, p := range paths {
			ls = append(ls, storeLayer(so, []string{p}))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, ls, io.Discard, 2); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated() // the first pack makes the spares
	limit := uint64(bufCount*bufSize + maxHashers*hashBufCount*hashBufSize)
	if got := allocated(); got > limit {
		t.Fatalf("packing 40 layers allocated %d MiB, past %d MiB", got>>20, limit>>20)
	}
}

// popularityLayers are store layers split as popularity splits them: a
// path each for the first two, then one layer of most of the rest (the
// one firstToHash picks), then two more paths.
func popularityLayers(so *storeOptions, paths []string) []layer {
	n := len(paths)
	return []layer{storeLayer(so, paths[:1]), storeLayer(so, paths[1:2]), storeLayer(so, paths[2:n-2]), storeLayer(so, paths[n-2:])}
}

// TestLargestLayerMeasuredFirst: with layers hashed apart, the layer of
// the most store paths is measured (and its hashing pass started) without
// waiting for the layers before it, and the stream is still the one a
// single hasher makes, layer for layer in order. A file of that layer
// vanishing after its measure stops the stream with one line naming it and
// layer 2, its position, not the layer being written. Run under -race.
func TestLargestLayerMeasuredFirst(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 12)
	so := testStoreOptions(root)
	var want bytes.Buffer
	if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, popularityLayers(so, paths), &want, 1); err != nil {
		t.Fatal(err)
	}
	checkStream(t, want.Bytes())
	for _, hashers := range []int{2, 4} {
		// Layer 0's measure waits for layer 2's: measured in order, the
		// pack would wait forever.
		measured2 := make(chan struct{})
		var waited atomic.Bool
		testHookMeasured = func(i int) {
			switch i {
			case 2:
				close(measured2)
			case 0:
				select {
				case <-measured2:
				case <-time.After(20 * time.Second):
					waited.Store(true)
				}
			}
		}
		var out bytes.Buffer
		err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, popularityLayers(so, paths), &out, hashers)
		testHookMeasured = nil
		if err != nil {
			t.Fatalf("%d hashers: %v", hashers, err)
		}
		if waited.Load() {
			t.Errorf("%d hashers: layer 2, of the most paths, was not measured until layer 0 was", hashers)
		}
		if !bytes.Equal(out.Bytes(), want.Bytes()) {
			t.Errorf("%d hashers: the stream differs from one hasher's", hashers)
		}
	}

	gone := filepath.Join(root, paths[5], "share", "f0")
	for _, output := range []string{"buffer", "pipe"} {
		t.Run(output, func(t *testing.T) {
			if err := os.WriteFile(gone, []byte("back again"), 0o644); err != nil {
				t.Fatal(err)
			}
			testHookMeasured = func(i int) {
				if i == 2 {
					os.Remove(gone)
				}
			}
			defer func() { testHookMeasured = nil }()
			w, out := testkit.WriterOf(t, output)
			err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, popularityLayers(so, paths), w, 2)
			if !errors.Is(err, errdefs.ErrChanged) {
				t.Fatalf("err = %v, want ErrChanged", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "layer 2: ") || !strings.Contains(msg, paths[5]+`/share/f0" vanished while packing`) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming layer 2 and the file", msg)
			}
			checkCut(t, out())
		})
	}
}
