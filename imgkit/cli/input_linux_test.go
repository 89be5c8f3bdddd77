package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// readAsync reads name (OpenInput, under ctx) to its end in a goroutine.
func readAsync(ctx context.Context, t *testing.T, name string) <-chan readResult {
	done := make(chan readResult, 1)
	go func() {
		r, err := OpenInput(ctx, name)
		if err != nil {
			done <- readResult{err: err}
			return
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		done <- readResult{data, err}
	}()
	return done
}

type readResult struct {
	data []byte
	err  error
}

func mkfifo(t *testing.T) string {
	name := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestCancelEndsStalledFIFO: a named input that is a FIFO whose writer
// never comes (os.Open waited in open(2)) or comes and never writes (the
// read waited) ends with the context's error once it is cancelled.
func TestCancelEndsStalledFIFO(t *testing.T) {
	for _, writer := range []bool{false, true} {
		name := mkfifo(t)
		if writer {
			// O_RDWR holds the FIFO open for writing without waiting.
			w, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := readAsync(ctx, t, name)
		select {
		case res := <-done:
			t.Fatalf("writer %v: read ended before the cancellation: %q, %v", writer, res.data, res.err)
		case <-time.After(100 * time.Millisecond):
		}
		cancel()
		select {
		case res := <-done:
			if !errors.Is(res.err, context.Canceled) {
				t.Errorf("writer %v: %v, want context.Canceled", writer, res.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("writer %v: still reading 10 s after the cancellation", writer)
		}
	}
}

// TestFIFOInputWaitsForWriter: opened without waiting, a FIFO still reads
// what a writer that comes later writes, to its close: no end of file
// while no writer came, nor while the writer is open and silent.
func TestFIFOInputWaitsForWriter(t *testing.T) {
	name := mkfifo(t)
	done := readAsync(context.Background(), t, name)
	time.Sleep(100 * time.Millisecond)
	w, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	w.Write([]byte("graph"))
	time.Sleep(100 * time.Millisecond)
	w.Write([]byte(" data"))
	w.Close()
	select {
	case res := <-done:
		if res.err != nil || string(res.data) != "graph data" {
			t.Fatalf("read %q, %v; want \"graph data\"", res.data, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still reading 10 s after the writer closed")
	}
	// A writer that comes and goes without writing: an empty input.
	done = readAsync(context.Background(), t, name)
	time.Sleep(100 * time.Millisecond)
	w, err = os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case res := <-done:
		if res.err != nil || len(res.data) != 0 {
			t.Fatalf("read %q, %v; want an empty input", res.data, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still reading 10 s after a writer came and went")
	}
}

// TestRegularInputIsAFile: a regular file is opened as os.Open opens it,
// an *os.File in blocking mode (mmap, kernel copies, ReadAt as before).
func TestRegularInputIsAFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	os.WriteFile(name, []byte("x"), 0o600)
	r, err := OpenInput(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, ok := r.(*os.File)
	if !ok {
		t.Fatalf("%T, want *os.File", r)
	}
	if fl, _ := fcntlFlags(f); fl&syscall.O_NONBLOCK != 0 {
		t.Error("left non-blocking")
	}
	if _, err := OpenInput(context.Background(), filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}

func fcntlFlags(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var fl int
	var ferr error
	rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		fl = int(r)
		if e != 0 {
			ferr = e
		}
	})
	return fl, ferr
}

// TestDescriptorFIFOInputWriterGone: a FIFO or a pipe reached through a
// descriptor the tool holds (/proc/self/fd/N, as /dev/fd/3 or a process
// substitution's /dev/fd/63), whose writer wrote (or wrote nothing) and
// went before the open, reads what it wrote and its end: it does not wait
// for another writer, as --creds-file /dev/fd/3 once waited for ever.
func TestDescriptorFIFOInputWriterGone(t *testing.T) {
	for _, line := range []string{"line\n", ""} {
		name := mkfifo(t)
		wrote := make(chan error, 1)
		go func() {
			w, err := os.OpenFile(name, os.O_WRONLY, 0)
			if err == nil {
				_, err = w.WriteString(line)
				w.Close()
			}
			wrote <- err
		}()
		fifo, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer fifo.Close()
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		pw.WriteString(line)
		pw.Close()
		for _, f := range []*os.File{fifo, pr} {
			select {
			case res := <-readAsync(context.Background(), t, fmt.Sprintf("/proc/self/fd/%d", f.Fd())):
				if res.err != nil || string(res.data) != line {
					t.Errorf("%s: read %q, %v; want %q", f.Name(), res.data, res.err, line)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s, %q written: still reading 5 s after its writer went", f.Name(), line)
			}
		}
	}
}
