package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestLowProcessLimitOneLine: under a limit on processes (RLIMIT_NPROC)
// that leaves a tool too few threads, run as a user of its own so that
// nothing else counts, the tool stops with one line saying so, exit
// status 1; it died with the Go runtime's "failed to create new OS
// thread" and a stack of every goroutine. At a limit it fits, it runs.
// Needs root (to run as another user) and util-linux's setpriv and
// prlimit.
func TestLowProcessLimitOneLine(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: runs the tool as another user, which needs root")
	}
	for _, p := range []string{"setpriv", "prlimit"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("SKIP: no %s", p)
		}
	}
	bin := buildReader(t)
	// A user id of this test's own: the limit counts every thread of the
	// user's processes, and other tests run programs as a fixed user
	// (nobody, 65534: tarsafe's, the workflows') at once under go test
	// ./...; 4242 (layercache's, manifest-gen's) only owns files.
	uid := strconv.Itoa(1<<20 + os.Getpid())
	run := func(nproc string) (int, string) {
		return runReader(t, exec.Command("setpriv", "--reuid="+uid, "--regid="+uid, "--clear-groups", "prlimit", "--nproc="+nproc, bin))
	}
	code, stderr := run("5")
	want := "reader: the limit on processes (ulimit -u 5, every thread of the user's processes) leaves room for 5 threads, fewer than the 8 a tool needs: raise it, or run fewer processes under it\n"
	if code != ExitFailure || stderr != want {
		t.Fatalf("under ulimit -u 5: exit %d, stderr (%d lines):\n%s\nwant exit 1 and %q", code, strings.Count(stderr, "\n"), stderr, want)
	}
	if code, stderr := run("12"); code != 0 || stderr != "ready\n" {
		t.Fatalf("under ulimit -u 12: exit %d, stderr %q; want 0 and \"ready\"", code, stderr)
	}
}

// TestLowPidsCgroupOneLine: in a cgroup whose pids controller leaves a
// tool too few threads (pids.max 5), the tool stops with one line saying
// so, exit status 1, where it died with the Go runtime's message and
// stack; under pids.max 12 it runs. Needs root and a pids controller
// (cgroup v1's pids hierarchy, or v2's with pids enabled).
func TestLowPidsCgroupOneLine(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIP: makes a cgroup, which needs root")
	}
	parent := "/sys/fs/cgroup/pids"
	if _, err := os.Stat(parent); err != nil {
		parent = "/sys/fs/cgroup"
		if c, err := os.ReadFile(parent + "/cgroup.subtree_control"); err != nil || !strings.Contains(string(c), "pids") {
			t.Skip("SKIP: no pids controller enabled under /sys/fs/cgroup")
		}
	}
	bin := buildReader(t)
	cg, err := os.MkdirTemp(parent, "cli-pids-")
	if err != nil {
		t.Skip("SKIP: ", err)
	}
	defer os.Remove(cg)
	run := func(max string) (int, string) {
		if err := os.WriteFile(cg+"/pids.max", []byte(max), 0o644); err != nil {
			t.Fatal(err)
		}
		return runReader(t, exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2"`, "sh", cg, bin))
	}
	code, stderr := run("5")
	want := "reader: the cgroup's limit on tasks (pids.max 5) leaves room for 5 threads, fewer than the 8 a tool needs: raise it, or run fewer processes under it\n"
	if code != ExitFailure || stderr != want {
		t.Fatalf("under pids.max 5: exit %d, stderr (%d lines):\n%s\nwant exit 1 and %q", code, strings.Count(stderr, "\n"), stderr, want)
	}
	if code, stderr := run("12"); code != 0 || stderr != "ready\n" {
		t.Fatalf("under pids.max 12: exit %d, stderr %q; want 0 and \"ready\"", code, stderr)
	}
}

// buildReader builds testdata/readertool, static as the tools are, into
// a directory any user may read, and returns its path.
func buildReader(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cli-reader-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "reader")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./testdata/readertool")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the reader tool: %v\n%s", err, out)
	}
	return bin
}

// runReader runs cmd, which runs the reader tool, stdin empty, and
// returns its exit status and stderr.
func runReader(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stderr.String()
}
