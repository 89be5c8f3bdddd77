package kcopy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"dockertools.dev/testkit"
)

// payload is n deterministic random bytes.
func payload(n int) []byte {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// sink is a writer of the given kind and a function returning what it
// got once the writer is done with (flushed).
func sink(t *testing.T, kind string) (io.Writer, func() []byte) {
	t.Helper()
	switch kind {
	case "buffered-file":
		w, got := testkit.WriterOf(t, "file")
		bw := NewWriterSize(w, 4096)
		return bw, func() []byte {
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			return got()
		}
	case "append-file":
		// Neither kernel call writes to it: the bytes go through Write.
		f, err := os.OpenFile(filepath.Join(t.TempDir(), "dst"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f, func() []byte {
			b, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	return testkit.WriterOf(t, kind)
}

// TestCopyNSameBytesEveryPairing: whatever the two ends (files, pipes,
// buffers, a buffered writer with bytes pending, a file opened for
// appending), CopyN writes exactly what io.CopyN writes, through the
// kernel or, as off Linux, through user space: the prefix, then n bytes of the source; a source
// that ends sooner gives io.EOF and all it had.
func TestCopyNSameBytesEveryPairing(t *testing.T) {
	eachWay(t, testCopyNSameBytesEveryPairing)
}

func testCopyNSameBytesEveryPairing(t *testing.T) {
	kinds := []string{"file", "pipe", "buffer"}
	for _, in := range kinds {
		for _, out := range append(kinds, "buffered-file", "append-file") {
			for _, size := range []int{0, 1, 70000, 3 << 20} {
				for _, short := range []bool{false, true} {
					name := fmt.Sprintf("%s-to-%s-%d-short=%v", in, out, size, short)
					t.Run(name, func(t *testing.T) {
						data := payload(size)
						n := int64(size)
						want := data
						if short {
							n++
						} else if size > 1 {
							// Copy all but the last byte: CopyN stops at n.
							n--
							want = data[:n]
						}
						w, got := sink(t, out)
						prefix := []byte("prefix")
						if _, err := w.Write(prefix); err != nil {
							t.Fatal(err)
						}
						k, err := CopyN(w, testkit.ReaderOf(t, in, data), n)
						switch {
						case short && err != io.EOF:
							t.Fatalf("short source: err %v, want io.EOF", err)
						case !short && err != nil:
							t.Fatal(err)
						case k != int64(len(want)):
							t.Fatalf("copied %d bytes, want %d", k, len(want))
						}
						if g := got(); !bytes.Equal(g, append(prefix, want...)) {
							t.Fatalf("wrote %d bytes that differ from the %d expected", len(g), len(prefix)+len(want))
						}
					})
				}
			}
		}
	}
}

// errCancelled stands for a cancelled context's error.
var errCancelled = errors.New("cancelled")

// cancelled is a reader wrapper whose Err says it is cancelled.
type cancelled struct{ r io.Reader }

func (c cancelled) Read(p []byte) (int, error) { return 0, errCancelled }
func (c cancelled) Unwrap() io.Reader          { return c.r }
func (c cancelled) Err() error                 { return errCancelled }

// TestCopyNStopsOnErr: a wrapper's Err (a cancelled context) stops the
// kernel copy before it copies anything.
func TestCopyNStopsOnErr(t *testing.T) { eachWay(t, testCopyNStopsOnErr) }

func testCopyNStopsOnErr(t *testing.T) {
	w, _ := sink(t, "file")
	n, err := CopyN(w, cancelled{testkit.ReaderOf(t, "file", payload(1000))}, 1000)
	if !errors.Is(err, errCancelled) || n != 0 {
		t.Fatalf("copied %d, err %v; want 0 and the wrapper's error", n, err)
	}
}

// TestWriterIsABufioWriter: a Writer buffers as bufio.Writer does.
func TestWriterIsABufioWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriterSize(&b, 16)
	var _ *bufio.Writer = w.Writer
	w.Write([]byte("abc"))
	if b.Len() != 0 {
		t.Fatal("wrote through at once")
	}
	w.Flush()
	if b.String() != "abc" {
		t.Fatalf("got %q", b.String())
	}
}
