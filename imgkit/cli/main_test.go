package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stuck is a tool that sees the interrupt and then hangs where no context
// reaches (a read of a pipe nobody writes to).
type stuck struct{}

func (*stuck) Run(ctx context.Context, o *IO) error {
	fmt.Fprintln(o.Stderr, "ready")
	<-ctx.Done()
	fmt.Fprintln(o.Stderr, "interrupted, stuck")
	io.ReadAll(o.Stdin)
	return ctx.Err()
}

func TestMain(m *testing.M) {
	if os.Getenv("CLI_TEST_STUCK") == "1" {
		Main("stuck", "// stuck hangs.\npackage main\n", &stuck{})
	}
	os.Exit(m.Run())
}

// TestSecondSignalEnds: the first SIGINT cancels the tool's context; a
// tool stuck where the context is not seen still ends at the next one,
// killed by the signal as an ordinary program is.
func TestSecondSignalEnds(t *testing.T) {
	cmd := exec.Command(os.Args[0]) // TestMain runs the tool: no test flags
	cmd.Env = append(os.Environ(), "CLI_TEST_STUCK=1")
	stdin, err := cmd.StdinPipe() // held open: the read never ends
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			cmd.Process.Kill()
			t.Fatalf("stderr line %q, want %q", lines.Text(), want)
		}
	}
	expect("ready")
	cmd.Process.Signal(os.Interrupt)
	expect("interrupted, stuck")
	// Signal until it ends: the handler is restored just after the
	// context is cancelled, so one more SIGINT may come a moment early.
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, stderr); done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("exit: %v, want death by SIGINT", err)
			}
			ws := ee.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
				t.Fatalf("exit: %v, want death by SIGINT", strings.TrimSpace(err.Error()))
			}
			return
		case <-tick.C:
			cmd.Process.Signal(os.Interrupt)
		}
	}
}
