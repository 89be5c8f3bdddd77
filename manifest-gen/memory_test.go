package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
)

// TestMemoryFlatWithImageSize: layers are copied through as they arrive,
// so what manifest-gen allocates for an image of 256 MiB is what it
// allocates for one of 16 MiB, and a small fraction of either.
func TestMemoryFlatWithImageSize(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 272 MiB")
	}
	small := allocatedFor(t, 16<<20)
	big := allocatedFor(t, 256<<20)
	t.Logf("allocated %d KiB for 16 MiB of layers, %d KiB for 256 MiB", small>>10, big>>10)
	if big > small+4<<20 || big > 16<<20 {
		t.Errorf("allocated %d KiB for 256 MiB of layers, %d KiB for 16 MiB: memory grows with the image", big>>10, small>>10)
	}
}

// allocatedFor runs manifest-gen on a layer stream of two layers holding
// size bytes of files in all, made as it is read, and returns the bytes
// allocated meanwhile.
func allocatedFor(t *testing.T, size int64) uint64 {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		w := layerstream.NewWriter(pw)
		for _, n := range []int64{size / 4, size - size/4} {
			if _, err := w.WriteLayer(tarSize(n), layerstream.LayerInfo{}, zerosTar(n)); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(w.Close())
	}()
	var out countingWriter
	var stderr bytes.Buffer
	o := &cli.IO{Stdin: pr, Stdout: &out, Stderr: &stderr}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := cli.Run(context.Background(), "manifest-gen", manual, &command{}, []string{"--name", "mem", "--tag", "t", "--architecture", "amd64"}, o)
	runtime.ReadMemStats(&after)
	if code != 0 {
		t.Fatalf("manifest-gen exited %d: %s", code, stderr.String())
	}
	if out.n < size {
		t.Fatalf("the image has %d bytes, fewer than its layers' %d", out.n, size)
	}
	return after.TotalAlloc - before.TotalAlloc
}

// tarSize is the size of zerosTar(n).
func tarSize(n int64) int64 { return 512 + (n+511)/512*512 + 1024 }

// zerosTar streams a tar of one file of n zero bytes.
func zerosTar(n int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "zeros", Size: n, Mode: 0o644, Format: tar.FormatUSTAR})
		if err == nil {
			_, err = io.CopyN(tw, zeros{}, n)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
