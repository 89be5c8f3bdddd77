package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// TestReadsEachFileOnce: nixpkgs tars every layer twice (once to hash it,
// once to write it); layer-pack on one CPU reads each file once and hashes
// the layers as they stream. What this process reads while layer-pack
// packs three store layers and a customisation directory, as Linux counts
// it (rchar in /proc/self/io: every byte a read returned), is the files'
// bytes once, not twice. With two CPUs, layers are hashed apart from the
// ordered output, which reads each file twice (from the page cache), never
// more, for the same bytes.
func TestReadsEachFileOnce(t *testing.T) {
	if _, err := testkit.ReadBytes(); err != nil {
		t.Skipf("no read accounting here: %v", err)
	}
	root := t.TempDir()
	var total int64
	file := func(name string, size int64) {
		t.Helper()
		name = filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		// Sparse: reading it still returns every byte, and rchar counts them.
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		total += size
	}
	file("nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one/big", 24<<20)
	for i := range 40 {
		file(fmt.Sprintf("nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one/share/f%02d", i), 100<<10)
	}
	file("nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-two/lib/libtwo.so", 6<<20)
	file("nix/store/cccccccccccccccccccccccccccccccc-three/bin/three", 3<<20)
	file("custom/etc/data", 5<<20)
	plan := `[["/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-one"],["/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-two","/nix/store/cccccccccccccccccccccccccccccccc-three"]]`

	var sums []string
	for _, cpus := range []int{1, 2} {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cpus))
		var out countWriter
		var stderr bytes.Buffer
		o := &cli.IO{Stdin: strings.NewReader(plan), Stdout: &out, Stderr: &stderr}
		args := []string{"--root", root, "--customisation-dir", filepath.Join(root, "custom")}
		before, _ := testkit.ReadBytes()
		code := cli.Run(context.Background(), "layer-pack", manual, &command{}, args, o)
		after, err := testkit.ReadBytes()
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			t.Fatalf("layer-pack exited %d: %s", code, stderr.String())
		}
		if out.n < total {
			t.Fatalf("the layer stream has %d bytes, fewer than the files' %d", out.n, total)
		}
		sums = append(sums, hex.EncodeToString(out.h.Sum(nil)))
		read := after - before
		t.Logf("%d CPUs: files: %d bytes; read: %d bytes (%.2f times)", cpus, total, read, float64(read)/float64(total))
		// Slack for directory listings and the odd runtime read, far
		// below another pass over the files.
		if read < int64(cpus)*total || read > int64(cpus)*total+total/10 {
			t.Errorf("%d CPUs: read %d bytes for %d bytes of files: want each file read %d times", cpus, read, total, cpus)
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("the stream hashed apart on two CPUs differs from the one of one CPU")
	}
}

type countWriter struct {
	n int64
	h hash.Hash
}

func (w *countWriter) Write(p []byte) (int, error) {
	if w.h == nil {
		w.h = sha256.New()
	}
	w.h.Write(p)
	w.n += int64(len(p))
	return len(p), nil
}
