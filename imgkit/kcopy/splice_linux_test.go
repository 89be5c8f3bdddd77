package kcopy

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// TestCopyNSpliceReadsNothing: when one end is a pipe, the bytes do not
// pass through this process (splice): its read count (testkit.ReadBytes)
// grows by far less
// than the bytes copied. The ends that read are elsewhere: a file, or a
// pipe to another process (wc -c, which says how many bytes it got).
// (copy_file_range, between two files, counts as a read: the byte
// comparisons of TestCopyNSameBytesEveryPairing cover it.)
func TestCopyNSpliceReadsNothing(t *testing.T) {
	needKernelCopy(t)
	const size = 16 << 20
	data := payload(size)
	check := func(t *testing.T, src io.Reader, dst io.Writer) {
		t.Helper()
		before, err := testkit.ReadBytes()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := CopyN(dst, src, size); err != nil {
			t.Fatal(err)
		}
		after, err := testkit.ReadBytes()
		if err != nil {
			t.Fatal(err)
		}
		if read := after - before; read > size/4 {
			t.Fatalf("this process read %d bytes to copy %d: the kernel did not copy them", read, size)
		}
	}
	t.Run("pipe-to-file", func(t *testing.T) {
		w, got := sink(t, "file")
		check(t, testkit.ReaderOf(t, "pipe", data), w)
		if !bytes.Equal(got(), data) {
			t.Fatal("bytes differ")
		}
	})
	t.Run("pipe-to-devnull", func(t *testing.T) {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		check(t, testkit.ReaderOf(t, "pipe", data), null)
	})
	t.Run("file-to-pipe", func(t *testing.T) {
		cmd := exec.Command("wc", "-c")
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		check(t, testkit.ReaderOf(t, "file", data), w.(*os.File))
		w.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out.String()); got != strconv.Itoa(size) {
			t.Fatalf("the reader got %s bytes, want %d", got, size)
		}
	})
}
