package cli

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// termWriter starts the writer tool (mode, env) with stdout (nil:
// /dev/null), sends it SIGTERM once its writes have had time to stall,
// and checks that it ends within seconds, exit status 1 after "writer:
// interrupted". firsts are the stderr lines it writes before it stalls.
func termWriter(t *testing.T, mode string, stdout io.Writer, env []string, firsts ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), "CLI_TEST_WRITER="+mode), env...)
	cmd.Stdout = stdout
	lines := startTool(t, cmd)
	for _, first := range firsts {
		expectLine(t, cmd, lines, first)
	}
	time.Sleep(200 * time.Millisecond) // the pipe full, most likely; before works too
	termEndsInterrupted(t, cmd, lines, "writer", "still writing its stalled output")
}

// TestTermEndsStalledStdoutWrite: a tool writing to a pipe on stdout
// whose reader neither reads nor closes ends at a SIGTERM with
// "interrupted", exit status 1, whether it writes or splices; it waited
// in write(2) or splice(2) until the reader read, which could be never.
// The pipe's description, which this test shares with the tool as a
// shell does, stays in blocking mode.
func TestTermEndsStalledStdoutWrite(t *testing.T) {
	for _, mode := range []string{"write", "splice"} {
		t.Run(mode, func(t *testing.T) {
			_, w := stalledPipe(t)
			termWriter(t, mode, w, nil, "ready")
			flags, err := unix.FcntlInt(w.Fd(), unix.F_GETFL, 0)
			if err != nil {
				t.Fatal(err)
			}
			if flags&unix.O_NONBLOCK != 0 {
				t.Error("the shared pipe description was put in non-blocking mode")
			}
		})
	}
}

// TestTermEndsStalledOutputFIFO: a tool given a FIFO as its output file
// (written in place, CreateAtomic) ends at a SIGTERM with "interrupted",
// exit status 1, when no reader ever opens the FIFO (it waited in
// open(2)) and when its reader holds it and never reads (in write(2) or
// splice(2)).
func TestTermEndsStalledOutputFIFO(t *testing.T) {
	for _, c := range []struct {
		name, mode string
		reader     bool
	}{{"none", "write", false}, {"silent-write", "write", true}, {"silent-splice", "splice", true}} {
		t.Run(c.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			firsts := []string{"opening"}
			if c.reader {
				// Held open for reading, never read: O_RDWR opens a FIFO
				// without waiting for a writer.
				r, err := os.OpenFile(fifo, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				firsts = append(firsts, "ready")
			}
			termWriter(t, c.mode, nil, []string{"CLI_TEST_WRITER_OUT=" + fifo}, firsts...)
		})
	}
}

// TestCreateAtomicFIFOReaderLater: a FIFO output whose reader opens it
// only later (tool -o fifo & cat fifo) is waited for, as a blocking open
// waited, and gets every byte.
func TestCreateAtomicFIFOReaderLater(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		data, _ := os.ReadFile(fifo)
		got <- string(data)
	}()
	a, err := CreateAtomic(context.Background(), fifo, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	want := strings.Repeat("x", 1<<20) // more than the pipe holds
	if _, err := io.WriteString(a, want); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != want {
		t.Fatalf("the reader got %d bytes, want %d", len(s), len(want))
	}
}
