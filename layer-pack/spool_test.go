package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/rootfs"
)

// TestChangesSpoolKeepsHoles: a sparse file in a --changes tree (a root
// file system's /var/log/lastlog) is stored whole in the layer, but its
// zeros take no space in the spool: a 32 MiB hole took 32 MiB of $TMPDIR
// (a 100 GiB one, more than the disk had).
func TestChangesSpoolKeepsHoles(t *testing.T) {
	dir := t.TempDir()
	const holeSize = 32 << 20 // small: the test reads the layer back into memory
	f, err := os.Create(filepath.Join(dir, "lastlog"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("end"), holeSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "motd"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", t.TempDir())
	l := &changesLayer{dir: dir, opts: rootfs.LayerOptions{Mtime: rootfs.DefaultMtime}}
	size, err := l.measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.spool.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(l.spool.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != size {
		t.Fatalf("spool is %d bytes, layer %d", st.Size, size)
	}
	if used := st.Blocks * 512; used > 1<<20 {
		t.Fatalf("spool of a layer of %d bytes, nearly all zeros, takes %d bytes of disk", size, used)
	}
	tr := tar.NewReader(io.NewSectionReader(l.spool, 0, size))
	got := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = b
	}
	want := append(make([]byte, holeSize), "end"...)
	if !bytes.Equal(got["./lastlog"], want) || string(got["./motd"]) != "hello\n" {
		t.Fatalf("the layer's files read back wrong: lastlog %d bytes, motd %q", len(got["./lastlog"]), got["./motd"])
	}
}

// TestSpoolWriterBytes: whatever the writes' sizes and alignment, the
// spool reads back the bytes written, zero blocks (holes) included, and
// ends where they end, in a hole too.
func TestSpoolWriterBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var want []byte
	for range 200 {
		n := r.IntN(3 * spoolBlock)
		if r.IntN(2) == 0 {
			want = append(want, make([]byte, n)...)
		} else {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			want = append(want, b...)
		}
	}
	want = append(want, make([]byte, 5*spoolBlock)...)
	f, err := os.CreateTemp(t.TempDir(), "spool")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &spoolWriter{f: f}
	for p := want; len(p) > 0; {
		n := min(len(p), 1+r.IntN(4*spoolBlock))
		if k, err := w.Write(p[:n]); k != n || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", k, err, n)
		}
		p = p[n:]
	}
	size, err := w.finish()
	if err != nil || size != int64(len(want)) {
		t.Fatalf("finish = %d, %v; want %d, nil", size, err, len(want))
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("spool reads back other bytes (%d, want %d)", len(got), len(want))
	}
}
