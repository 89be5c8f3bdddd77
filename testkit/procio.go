package testkit

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ReadBytes returns the bytes this process has read so far, as Linux
// counts them (rchar in /proc/self/io): every byte read(2) and its kin
// returned, and copy_file_range(2) copied; not what splice(2) moved. A
// test shows with it that a file was read once, or that the kernel moved
// bytes the process never saw.
func ReadBytes() (int64, error) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/self/io has no rchar")
}

// PipeFrom returns the read end of a pipe that a goroutine fills with
// data and closes: a stdin that is a pipe, as in a shell pipeline.
func PipeFrom(t testing.TB, data []byte) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	t.Cleanup(func() { r.Close() })
	return r
}

// PipeInto returns the write end of a pipe that a goroutine drains, and a
// function that closes it and returns what went through.
func PipeInto(t testing.TB) (*os.File, func() []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		got <- b
	}()
	t.Cleanup(func() { w.Close() })
	return w, func() []byte { w.Close(); return <-got }
}

// FileWith returns a regular file holding data, open for reading from its
// start, closed when the test ends.
func FileWith(t testing.TB, data []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "data")
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// ReaderOf returns data to read from a reader of the given kind: "file" (a
// regular file), "pipe" (fed by a goroutine) or anything else (a
// bytes.Reader): the ends the kernel copies from, or not.
func ReaderOf(t testing.TB, kind string, data []byte) io.Reader {
	t.Helper()
	switch kind {
	case "file":
		return FileWith(t, data)
	case "pipe":
		return PipeFrom(t, data)
	}
	return bytes.NewReader(data)
}

// WriterOf returns a writer of the given kind, "file" (a new regular
// file), "pipe" (drained by a goroutine) or anything else (a buffer), and
// a function that returns what was written once the writer is done with.
func WriterOf(t testing.TB, kind string) (io.Writer, func() []byte) {
	t.Helper()
	switch kind {
	case "file":
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f, func() []byte { return readFile(t, f.Name()) }
	case "pipe":
		return PipeInto(t)
	}
	var b bytes.Buffer
	return &b, b.Bytes
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
