package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// TestKernelCopySameBytes: packed to a file or a pipe, where the kernel
// copies the files of layers hashed apart, the stream is byte for byte
// the one packed to a buffer, for every number of hashers. Run under
// -race.
func TestKernelCopySameBytes(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 14)
	var want []byte
	for _, output := range []string{"buffer", "file", "pipe"} {
		for _, hashers := range []int{1, 2, 4} {
			w, got := testkit.WriterOf(t, output)
			if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), w, hashers); err != nil {
				t.Fatalf("%s, %d hashers: %v", output, hashers, err)
			}
			out := got()
			if want == nil {
				want = out
				checkStream(t, want)
				continue
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("%s, %d hashers: the stream differs from the one packed to a buffer", output, hashers)
			}
		}
	}
}

// TestKernelCopyReadsFilesOnce: packed to a pipe with two hashers, the
// store's large files are read once, by the hashing passes, and copied
// into the stream by the kernel: the process reads far fewer bytes (rchar,
// see testkit.ReadBytes: splice does not count) than when it packs to a buffer,
// where the writer reads every file again.
func TestKernelCopyReadsFilesOnce(t *testing.T) {
	testkit.SkipPortable(t)
	root := t.TempDir()
	paths := parallelStore(t, root, 14)
	read := map[string]int64{}
	for _, output := range []string{"buffer", "pipe"} {
		layers := parallelLayers(t, root, paths, 0)
		var w io.Writer = &bytes.Buffer{}
		if output == "pipe" {
			// Read by another process: its reads are not this one's.
			cat := exec.Command("cat")
			stdin, err := cat.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cat.Start(); err != nil {
				t.Fatal(err)
			}
			defer cat.Wait()
			defer stdin.Close()
			w = stdin
		}
		before, err := testkit.ReadBytes()
		if err != nil {
			t.Skipf("no read accounting here: %v", err)
		}
		if err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, layers, w, 2); err != nil {
			t.Fatal(err)
		}
		after, err := testkit.ReadBytes()
		if err != nil {
			t.Fatal(err)
		}
		read[output] = after - before
	}
	if read["pipe"] > read["buffer"]*3/4 {
		t.Fatalf("read %d bytes packing to a pipe, %d to a buffer: the kernel did not copy the files", read["pipe"], read["buffer"])
	}
}

// TestKernelCopyFileChanged: a file that shrinks, grows or is rewritten
// after the writer checked it, while the kernel copies it, stops the stream with one line
// naming its layer and the file, and the stream has no trailer.
func TestKernelCopyFileChanged(t *testing.T) {
	root := t.TempDir()
	paths := parallelStore(t, root, 9)
	big := filepath.Join(root, paths[4], "share", "big")
	for _, c := range []struct {
		name   string
		change func() error
		want   string
	}{
		{"shrank", func() error { return os.Truncate(big, 100<<10) }, `shrank by 102400 bytes while packing`},
		{"grew", func() error { return appendTo(big) }, `grew while packing`},
		// The same size, other bytes: the copy disagreed with the
		// diff_id the hashing pass computed, and layer-pack exited 0.
		{"rewritten", func() error { return os.WriteFile(big, bytes.Repeat([]byte("c"), 200<<10), 0o644) }, `was written to while packing`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(big, bytes.Repeat([]byte("b"), 200<<10), 0o644); err != nil {
				t.Fatal(err)
			}
			var changed error
			testHookKernelCopy = func(name string) {
				if strings.HasSuffix(name, paths[4]+"/share/big") {
					changed = c.change()
				}
			}
			defer func() { testHookKernelCopy = nil }()
			w, out := testkit.WriterOf(t, "file")
			err := packWith(context.Background(), &cli.IO{Stderr: io.Discard}, parallelLayers(t, root, paths, 0), w, 2)
			if changed != nil {
				t.Fatal(changed)
			}
			checkLayer1Changed(t, err, fmt.Sprintf("%s/share/big\" %s", paths[4], c.want), out())
		})
	}
}
