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
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	defer r.Close()
	defer w.Close() // held open and unwritten: the stall
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CLI_TEST_READER=1")
	cmd.Stdin = r
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	expectLine(t, cmd, lines, "ready")
	time.Sleep(50 * time.Millisecond) // into the read, most likely; before it works too
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
		if !errors.As(err, &ee) || ee.ExitCode() != ExitFailure || len(rest) != 1 || rest[0] != "reader: interrupted" {
			t.Fatalf("exit %v, stderr %q; want exit status 1 after \"reader: interrupted\"", err, rest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still reading its stalled stdin 10 s after SIGTERM")
	}
	flags, err := unix.FcntlInt(r.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("the shared pipe description was put in non-blocking mode")
	}
}
