package cli

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTermEndsStalledStdinRead: a tool reading a pipe on stdin whose
// writer neither writes nor closes ends at a SIGTERM with "interrupted",
// exit status 1; it waited in the read until the writer wrote or closed.
// The pipe's description, which this test shares with the tool as a
// shell does, stays in blocking mode.
func TestTermEndsStalledStdinRead(t *testing.T) {
	r, _ := stalledPipe(t) // its write end held open and unwritten: the stall
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CLI_TEST_READER=1")
	cmd.Stdin = r
	lines := startTool(t, cmd)
	expectLine(t, cmd, lines, "ready")
	time.Sleep(50 * time.Millisecond) // into the read, most likely; before it works too
	termEndsInterrupted(t, cmd, lines, "reader", "still reading its stalled stdin")
	flags, err := unix.FcntlInt(r.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("the shared pipe description was put in non-blocking mode")
	}
}

// termEndsInterrupted sends the tool SIGTERM and checks that it ends
// within seconds, exit status 1 after the one line "TOOL: interrupted";
// stalled says what it did when it did not.
func termEndsInterrupted(t *testing.T, cmd *exec.Cmd, lines *bufio.Scanner, tool, stalled string) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	var rest []string
	go func() {
		for lines.Scan() {
			rest = append(rest, lines.Text())
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != ExitFailure || len(rest) != 1 || rest[0] != tool+": interrupted" {
			t.Fatalf("exit %v, stderr %q; want exit status 1 after \"%s: interrupted\"", err, rest, tool)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s 10 s after SIGTERM", stalled)
	}
}

// stalledPipe returns a pipe whose ends the test holds open: one never
// read, or never written.
func stalledPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// startTool starts cmd, a tool of this test binary, and returns its
// stderr lines; it is killed when the test ends.
func startTool(t *testing.T, cmd *exec.Cmd) *bufio.Scanner {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return bufio.NewScanner(stderr)
}
