package layerstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"dockertools.dev/imgkit/kcopy"
)

// TestKernelPathsSameBytes: a stream written with LayerWriter.CopyN from
// files (the kernel's copy when the output is a file) is the stream
// Write makes; read back from a file, with WriteNTo copying each layer in
// two parts (the first within the Reader's buffer or past it) and Read
// taking what is left, every layer's bytes are the ones written.
func TestKernelPathsSameBytes(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 3))
	var layers [][]byte
	for _, size := range []int{5, 0, 2<<20 + 7, 70000} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		layers = append(layers, b)
	}
	write := func(w io.Writer, copyFiles bool) {
		sw := NewWriter(w)
		for i, l := range layers {
			sum := sha256Of(l)
			lw, err := sw.BeginLayerHashed(int64(len(l)))
			if err != nil {
				t.Fatal(err)
			}
			if copyFiles {
				name := filepath.Join(dir, "layer")
				if err := os.WriteFile(name, l, 0o644); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(name)
				if err != nil {
					t.Fatal(err)
				}
				_, err = lw.CopyN(f, int64(len(l)))
				f.Close()
				if err != nil {
					t.Fatalf("layer %d: %v", i, err)
				}
			} else if _, err := lw.Write(l); err != nil {
				t.Fatal(err)
			}
			if _, err := lw.Close(LayerInfo{DiffID: sum}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var want bytes.Buffer
	write(&want, false)
	out, err := os.Create(filepath.Join(dir, "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	write(out, true)
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the stream written with CopyN from files differs from the one written with Write")
	}

	for _, first := range []int64{0, 1, 600 << 10, 1<<20 + 1} {
		in, err := os.Open(out.Name())
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(in, Options{})
		for i := 0; ; i++ {
			l, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			k := min(first, l.Size)
			dst, read := kernelSink(t, dir)
			if _, err := kcopy.CopyN(dst, l, k); err != nil {
				t.Fatalf("layer %d: %v", i, err)
			}
			b.Write(read())
			if _, err := io.Copy(&b, l); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), layers[i]) {
				t.Fatalf("first part %d: layer %d reads back other bytes", first, i)
			}
		}
		in.Close()
	}
}

// kernelSink is a file to copy into and a function reading it back.
func kernelSink(t *testing.T, dir string) (*os.File, func() []byte) {
	t.Helper()
	f, err := os.CreateTemp(dir, "part")
	if err != nil {
		t.Fatal(err)
	}
	return f, func() []byte {
		defer f.Close()
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func sha256Of(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
