package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
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
	io.ReadAll(os.Stdin) // fd 0 itself: a blocking read (stdinFor)
	return ctx.Err()
}

// reader is a tool that reads its stdin to the end.
type reader struct{}

func (*reader) Run(ctx context.Context, o *IO) error {
	fmt.Fprintln(o.Stderr, "ready")
	_, err := io.ReadAll(o.Stdin)
	return err
}

func TestMain(m *testing.M) {
	if os.Getenv("CLI_TEST_STUCK") == "1" {
		Main("stuck", "// stuck hangs.\npackage main\n", &stuck{})
	}
	if os.Getenv("CLI_TEST_READER") == "1" {
		Main("reader", "// reader reads stdin.\npackage main\n", &reader{})
	}
	if mode := os.Getenv("CLI_TEST_WRITER"); mode != "" {
		Main("writer", "// writer writes stdout.\npackage main\n", &writer{mode: mode})
	}
	defaultSignals()
	os.Exit(m.Run())
}

// stuckLimit is how long a stuck tool may run before the test kills it:
// its tests take milliseconds, and one that waits for a line the tool
// never writes fails so, where it hung until go test's timeout.
const stuckLimit = time.Minute

// startStuck starts cmd, which runs the stuck tool (this binary, or a
// shell that execs it), and returns its stdin, held open so that its read
// never ends, and its stderr lines, its "ready" line read. The tool
// is killed after stuckLimit.
func startStuck(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "CLI_TEST_STUCK=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(stuckLimit, func() { cmd.Process.Kill() })
	t.Cleanup(func() {
		if !watchdog.Stop() {
			t.Errorf("the stuck tool still ran %v after it started: killed", stuckLimit)
		}
	})
	lines := bufio.NewScanner(stderr)
	expectLine(t, cmd, lines, "ready")
	return stdin, lines
}

// defaultSignals makes the programs the tests start begin with SIGINT,
// SIGTERM and SIGHUP at their default action. A test binary started with
// one ignored (SIGINT in a shell script's background command, SIGHUP
// under nohup go test) passed that on, and the tool, which keeps such a
// signal ignored, never saw the one a test sent: the test waited for its
// line until go test's timeout. A handler of this process's own, which
// exec resets to the default, stays for the whole run (signal.Stop would
// put SIG_IGN back, and signal.Ignored no longer say so); the signals,
// ignored before, are dropped.
func defaultSignals() {
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		if signal.Ignored(s) {
			signal.Notify(make(chan os.Signal, 1), s)
		}
	}
}

// expectLine reads the next line of lines, which must be want; else the
// tool is killed and the test fails.
func expectLine(t *testing.T, cmd *exec.Cmd, lines *bufio.Scanner, want string) {
	t.Helper()
	if !lines.Scan() || lines.Text() != want {
		cmd.Process.Kill()
		t.Fatalf("stderr line %q, want %q", lines.Text(), want)
	}
}

// TestSecondSignalEnds: the first SIGINT cancels the tool's context; a
// tool stuck where the context is not seen still ends at the next one,
// killed by the signal as an ordinary program is.
func TestSecondSignalEnds(t *testing.T) {
	cmd := exec.Command(os.Args[0]) // TestMain runs the tool: no test flags
	stdin, lines := startStuck(t, cmd)
	defer stdin.Close()
	cmd.Process.Signal(os.Interrupt)
	expectLine(t, cmd, lines, "interrupted, stuck")
	// Signal until it ends: the handler is restored just after the
	// context is cancelled, so one more SIGINT may come a moment early.
	done := make(chan error, 1)
	go func() {
		for lines.Scan() {
		}
		done <- cmd.Wait()
	}()
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

// TestIgnoredInterruptStaysIgnored: a tool started with SIGINT ignored, as
// a shell starts a background command, keeps ignoring it (a terminal's ^C
// reaches it besides the SIGTERM its workflow sends); SIGTERM is caught.
// A tool started normally catches both.
func TestIgnoredInterruptStaysIgnored(t *testing.T) {
	for _, c := range []struct {
		name, trap      string
		ignored, caught uint64 // masks of /proc/PID/status SigIgn, SigCgt
	}{
		{"Ignored", `trap "" INT`, 1 << (syscall.SIGINT - 1), 1 << (syscall.SIGTERM - 1)},
		{"Default", `:`, 0, 1<<(syscall.SIGINT-1) | 1<<(syscall.SIGTERM-1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", c.trap+`; exec "$0"`, os.Args[0])
			stdin, _ := startStuck(t, cmd) // "ready" comes after the signals are set up
			defer stdin.Close()
			defer cmd.Wait()
			defer cmd.Process.Kill()
			masks := sigMasks(t, cmd.Process.Pid)
			both := uint64(1<<(syscall.SIGINT-1) | 1<<(syscall.SIGTERM-1))
			if got := masks["SigIgn"] & both; got != c.ignored {
				t.Errorf("ignored INT/TERM mask %#x, want %#x", got, c.ignored)
			}
			if got := masks["SigCgt"] & both; got != c.caught {
				t.Errorf("caught INT/TERM mask %#x, want %#x", got, c.caught)
			}
		})
	}
}

// TestRepeatedTermLetsCleanUp: a SIGTERM after the first does not cut the
// clean-up short (a workflow stopping sends one to every process of its
// tree, so a tool of a nested workflow gets two): the tool still ends as
// it chooses, once its work is done, with its own status.
func TestRepeatedTermLetsCleanUp(t *testing.T) {
	cmd, stdin, lines := interruptStuck(t, syscall.SIGTERM)
	defer cmd.Process.Kill()
	// Each is queued before the next call: one taking the default action
	// would end the tool before it sees its stdin end.
	for range 3 {
		cmd.Process.Signal(syscall.SIGTERM)
	}
	endsInterrupted(t, cmd, stdin, lines)
}

// endsInterrupted ends the stuck tool's clean-up (its stdin) and checks
// that it exits 1 after "stuck: interrupted".
func endsInterrupted(t *testing.T, cmd *exec.Cmd, stdin io.Closer, lines *bufio.Scanner) {
	t.Helper()
	code, err, rest := endStuck(cmd, stdin, lines)
	if code != ExitFailure || !slices.Equal(rest, []string{"stuck: interrupted"}) {
		t.Fatalf("exit %v, then stderr %q; want exit status 1 after \"stuck: interrupted\"", err, rest)
	}
}

// endStuck ends the stuck tool's clean-up (its stdin) and returns its exit
// status (-1 for none), the error Wait gave and its remaining stderr lines.
func endStuck(cmd *exec.Cmd, stdin io.Closer, lines *bufio.Scanner) (int, error, []string) {
	stdin.Close()
	var rest []string
	for lines.Scan() {
		rest = append(rest, lines.Text())
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1, err, rest
	}
	return ee.ExitCode(), err, rest
}

// sigMasks reads the SigIgn and SigCgt masks of process pid.
func sigMasks(t *testing.T, pid int) map[string]uint64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	masks := map[string]uint64{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":\t"); ok && (k == "SigIgn" || k == "SigCgt") {
			var m uint64
			fmt.Sscanf(v, "%x", &m)
			masks[k] = m
		}
	}
	return masks
}

// TestHangupLetsCleanUp: SIGHUP (the terminal or ssh session that ran the
// tool went away) cancels the tool's context as SIGTERM does, so that it
// removes its temporary output; it used to kill the tool at once, leaving
// "-o FILE"'s temporary file behind.
func TestHangupLetsCleanUp(t *testing.T) {
	cmd, stdin, lines := interruptStuck(t, syscall.SIGHUP)
	defer cmd.Process.Kill()
	endsInterrupted(t, cmd, stdin, lines)
}

// interruptStuck starts the stuck tool, sends it sig and reads the line
// that says its context was cancelled.
func interruptStuck(t *testing.T, sig os.Signal) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	stdin, lines := startStuck(t, cmd)
	cmd.Process.Signal(sig)
	expectLine(t, cmd, lines, "interrupted, stuck")
	return cmd, stdin, lines
}

// TestIgnoredHangupStaysIgnored: a tool started under nohup (SIGHUP
// ignored) keeps ignoring it, as nohup means.
func TestIgnoredHangupStaysIgnored(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" HUP; exec "$0"`, os.Args[0])
	stdin, _ := startStuck(t, cmd)
	defer stdin.Close()
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if m := sigMasks(t, cmd.Process.Pid)["SigIgn"]; m&(1<<(syscall.SIGHUP-1)) == 0 {
		t.Fatalf("SIGHUP not ignored (SigIgn %#x)", m)
	}
}

// TestStepStoppedQuietly: run as a workflow's step (StepEnv set), the tool
// stopped by SIGTERM cleans up as ever (its stdin read to the end) and
// exits 143, as the signal would end it, with no line: the workflow says
// "interrupted" once. It said "stuck: interrupted" and exited 1.
func TestStepStoppedQuietly(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), StepEnv+"=wf")
	stdin, lines := startStuck(t, cmd)
	defer cmd.Process.Kill()
	cmd.Process.Signal(syscall.SIGTERM)
	expectLine(t, cmd, lines, "interrupted, stuck")
	if code, err, rest := endStuck(cmd, stdin, lines); code != 128+int(syscall.SIGTERM) || len(rest) != 0 {
		t.Fatalf("exit %v, then stderr %q; want exit status 143 and no line", err, rest)
	}
}

// TestSignalTestsWhenIgnored: the signal tests pass when this test binary
// starts with SIGINT and SIGHUP ignored (go test in a shell script's
// background, nohup go test); their tools inherited the ignored signal,
// never saw the one sent, and the tests waited for a line until go
// test's timeout.
func TestSignalTestsWhenIgnored(t *testing.T) {
	if os.Getenv("CLI_TEST_IGNORED") == "1" {
		t.Skip("SKIP: already run with the signals ignored")
	}
	cmd := exec.Command("sh", "-c", `trap "" INT HUP; exec "$0" "$@"`, os.Args[0],
		"-test.run=^(TestSecondSignalEnds|TestHangupLetsCleanUp|TestIgnoredInterruptStaysIgnored)$", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), "CLI_TEST_IGNORED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the signal tests with SIGINT and SIGHUP ignored: %v\n%.2000s", err, out)
	}
}
