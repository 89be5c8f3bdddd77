package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/testkit"
)

// kernelStream is a layer stream of layers around the reader's buffer
// size (1 MiB): empty, small, past one buffer, past three.
func kernelStream(t *testing.T) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	var b bytes.Buffer
	w := layerstream.NewWriter(&b)
	for _, size := range []int{0, 700, 1<<20 + 3, 3<<20 + 5} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if _, err := w.WriteLayer(int64(size), layerstream.LayerInfo{Comment: fmt.Sprint(size)}, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stdinOf gives manifest-gen the stream as stdin of a kind: a buffer,
// a regular file, a pipe fed by this process, or a pipe fed by another
// process (cat), whose reads are not this process's.
func stdinOf(t *testing.T, kind string, stream []byte) io.Reader {
	t.Helper()
	switch kind {
	case "cat":
		cat := exec.Command("cat", testkit.FileWith(t, stream).Name())
		r, err := cat.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cat.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); cat.Wait() })
		return r
	}
	return testkit.ReaderOf(t, kind, stream)
}

// runOutput runs manifest-gen with args on stdin, writing to an output
// of a kind (stdout as a buffer, a file or a pipe; -o FILE), and returns
// what it wrote, its exit status and stderr.
func runOutput(t *testing.T, stdin io.Reader, output string, args ...string) ([]byte, int, string) {
	t.Helper()
	var stderr bytes.Buffer
	o := &cli.IO{Stdin: stdin, Stderr: &stderr}
	var got func() []byte
	switch output {
	case "file", "-o":
		name := filepath.Join(t.TempDir(), "img.tar")
		read := func() []byte {
			b, err := os.ReadFile(name)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			return b
		}
		if output == "-o" {
			args = append(args, "-o", name)
			o.Stdout = io.Discard
			got = read
			break
		}
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		o.Stdout, got = f, read
	case "pipe":
		o.Stdout, got = testkit.PipeInto(t)
	default:
		var b bytes.Buffer
		o.Stdout, got = &b, b.Bytes
	}
	code := cli.Run(context.Background(), "manifest-gen", manual, &command{}, append([]string{"--name", "k", "--tag", "t"}, args...), o)
	return got(), code, stderr.String()
}

// TestStreamCopySameBytes: whatever stdin and the output are (buffers,
// files, pipes), with --verify or without (where the kernel copies the
// layers when both ends are files or pipes), manifest-gen writes the same
// archive; compressed, or hashed for --digest-file, too: those writers
// must not see where the stream's buffer happened to end (zstd and gzip
// start a block at each ReadFrom).
func TestStreamCopySameBytes(t *testing.T) {
	stream := kernelStream(t)
	digest := filepath.Join(t.TempDir(), "digest")
	for _, extra := range [][]string{nil, {"--compressor", "zstd"}, {"--compressor", "gz"}, {"--digest-file", digest}} {
		want, code, stderr := runOutput(t, bytes.NewReader(stream), "buffer", append([]string{"--verify"}, extra...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
		for _, in := range []string{"buffer", "file", "pipe", "cat"} {
			for _, out := range []string{"buffer", "file", "pipe", "-o"} {
				for _, verify := range []bool{false, true} {
					args := extra
					if verify {
						args = append([]string{"--verify"}, extra...)
					}
					got, code, stderr := runOutput(t, stdinOf(t, in, stream), out, args...)
					if code != 0 {
						t.Fatalf("%s to %s, %v: exit %d: %s", in, out, args, code, stderr)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%s to %s, %v: %d bytes, different from the %d of buffers", in, out, args, len(got), len(want))
					}
				}
			}
		}
	}
}

// TestStreamCopyReadsNothing: from a pipe into a file, without --verify,
// the layers' bytes are spliced, never read by this process
// (testkit.ReadBytes counts what read(2) returns, not what splice moves); with
// --verify every byte is read, and hashed.
func TestStreamCopyReadsNothing(t *testing.T) {
	testkit.SkipPortable(t)
	stream := kernelStream(t)
	for _, verify := range []bool{false, true} {
		var args []string
		if verify {
			args = append(args, "--verify")
		}
		stdin := stdinOf(t, "cat", stream)
		before, err := testkit.ReadBytes()
		if err != nil {
			t.Fatal(err)
		}
		img, code, stderr := runOutput(t, stdin, "-o", args...)
		after, err := testkit.ReadBytes()
		if err != nil {
			t.Fatal(err)
		}
		// Less what the test read back of the archive.
		read := after - before - int64(len(img))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		t.Logf("verify %v: read %d bytes of a %d-byte stream", verify, read, len(stream))
		if kernel := read < int64(len(stream))/2; kernel == verify {
			t.Fatalf("verify %v: read %d bytes of a %d-byte stream", verify, read, len(stream))
		}
	}
}

// TestStreamCopyTruncated: a stream cut inside a large layer, read from a
// pipe (the kernel path), fails with one line naming the layer, and -o
// leaves no file.
func TestStreamCopyTruncated(t *testing.T) {
	stream := kernelStream(t)
	cut := stream[:len(stream)-2<<20]
	got, code, stderr := runOutput(t, stdinOf(t, "cat", cut), "-o")
	if code != 1 || !strings.HasPrefix(stderr, "manifest-gen: stdin: layer 3: ") || !strings.Contains(stderr, "truncated") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want 1 and one line naming layer 3", code, stderr)
	}
	if got != nil {
		t.Fatalf("-o left a %d-byte file", len(got))
	}
}
