package testkit

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
)

var update = flag.Bool("update", false, "rewrite the scripts' expected output with the actual output")

// Update reports whether -update was given: Go tests with golden files
// rewrite them, as the scripts' expected output is rewritten.
func Update() bool { return *update }

// Main is TestMain for a package with script tests but no tool of its own
// (the workflows'): process-wide components are stopped after the tests.
// The test binary doubles as each of programs (a name's main, returning
// its exit status), which the scripts run by name.
func Main(m *testing.M, programs ...Program) {
	cmds := map[string]func(){}
	for _, p := range programs {
		cmds[p.Name] = func() { os.Exit(p.Main()) }
	}
	// testscript.Main ends in os.Exit, so cleanup must run inside Run.
	testscript.Main(cleanupM{m}, cmds)
}

// Program is a program of the tests' own that scripts run by Name.
type Program struct {
	Name string
	Main func() int
}

// Tool is a tool as its package's tests run it: its script_test.go
// declares one, and its TestMain, TestScripts and
// TestUsageErrorsReadNoInput call Main, Scripts.Run and
// UsageErrorsReadNoInput.
type Tool struct {
	Name, Manual string
	New          func() cli.Runner // a command struct, as main gives cli.Main
	Scripts      Scripts           // what its testdata/script needs
	UsageErrors  [][]string        // command lines that are usage errors
}

// Main is TestMain for the tool's package: the test binary doubles as the
// tool, so scripts can `exec NAME …` it, and process-wide components are
// stopped after the tests.
func (tool Tool) Main(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		tool.Name: func() { os.Exit(cli.Process(tool.Name, tool.Manual, tool.New())) },
	})
}

// UsageErrorsReadNoInput runs the tool in-process with each of
// UsageErrors and a stdin that never ends (a pipe nobody writes): each
// must be a usage error, found before any input is read. A case passes by
// returning at all (a tool that read stdin would wait until the test
// binary times out; nothing is timed), with status 2, no stdout and one
// line on stderr, "NAME: " and the message.
func (tool Tool) UsageErrorsReadNoInput(t *testing.T) {
	t.Helper()
	if len(tool.UsageErrors) == 0 {
		t.Fatal("no usage error to try")
	}
	for _, args := range tool.UsageErrors {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r, w := io.Pipe()
			defer w.Close()
			var stdout, stderr strings.Builder
			code := cli.Run(context.Background(), tool.Name, tool.Manual, tool.New(), args, &cli.IO{Stdin: r, Stdout: &stdout, Stderr: &stderr})
			msg := stderr.String()
			if code != cli.ExitUsage || stdout.Len() > 0 || !strings.HasPrefix(msg, tool.Name+": ") || strings.Count(msg, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no stdout, one line %q", code, stdout.String(), msg, tool.Name+": …")
			}
		})
	}
}

// InterruptedBeforeInput runs the tool in-process with args and a context
// cancelled before it starts, as a signal that came while it started: it
// must end with status 1, no stdout and the one line "NAME: interrupted",
// not with what it would have found in its input (the caller makes args
// name a bad one), which it must not read through.
func (tool Tool) InterruptedBeforeInput(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code := cli.Run(ctx, tool.Name, tool.Manual, tool.New(), args, &cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if want := tool.Name + ": interrupted\n"; code != cli.ExitFailure || stderr.String() != want || stdout.Len() > 0 {
		t.Fatalf("cancelled: exit %d, stderr %q, stdout %q; want exit 1, %q, no output", code, stderr.String(), stdout.String(), want)
	}
}

// Cmds is a set of script commands, by name.
type Cmds = map[string]func(ts *testscript.TestScript, neg bool, args []string)

// Scripts are what a package's scripts (testdata/script/*.txtar) need
// beyond Params: tools built and folders on PATH, folders named by
// variables, command sets.
type Scripts struct {
	Build []string          // tools (folder names) built for the run (BuildTools), first on PATH
	Path  []string          // folders (a relative one to the package) on PATH after them
	Dirs  map[string]string // variables naming folders (a relative one to the package), made absolute
	Cmds  []Cmds            // command sets besides the package doc's
	Files []string          // when set, only these scripts (names in testdata/script, without .txtar)
}

// Run runs the package's scripts.
func (s Scripts) Run(t *testing.T) {
	t.Helper()
	var path []string
	if len(s.Build) > 0 {
		path = append(path, BuildTools(t, s.Build...))
	}
	for _, d := range s.Path {
		path = append(path, Abs(t, d))
	}
	dirs := map[string]string{}
	for k, d := range s.Dirs {
		dirs[k] = Abs(t, d)
	}
	p := Params("testdata/script", func(env *testscript.Env) error {
		if len(path) > 0 {
			sep := string(os.PathListSeparator)
			env.Setenv("PATH", strings.Join(path, sep)+sep+env.Getenv("PATH"))
		}
		for k, d := range dirs {
			env.Setenv(k, d)
		}
		return nil
	})
	for _, cmds := range s.Cmds {
		maps.Copy(p.Cmds, cmds)
	}
	if s.Files != nil {
		p.Dir = ""
		for _, f := range s.Files {
			p.Files = append(p.Files, filepath.Join("testdata", "script", f+".txtar"))
		}
	}
	testscript.Run(t, p)
}

// Abs returns path (relative to the package folder the test runs in) made
// absolute, failing t when it cannot be.
func Abs(t testing.TB, path string) string {
	t.Helper()
	a, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// BuildTools builds the workspace's tools, given by folder name (the test
// runs in a folder of the repository, so "../manifest-gen" is built for
// "manifest-gen"), into a directory removed after the test, and returns
// it, to put on the scripts' PATH.
func BuildTools(t testing.TB, tools ...string) string {
	t.Helper()
	dir := t.TempDir()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	// One go build for all: the module graph is loaded once and the
	// tools are linked in parallel; each binary is named by its folder.
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, tool := range tools {
		args = append(args, "../"+tool)
	}
	// Static, as make build links them (no cgo): the Nix tests' builders
	// run them in Nix's sandbox, which has no /lib.
	cmd := exec.Command(goTool, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", strings.Join(tools, ", "), err, out)
	}
	return dir
}

// cleanupM runs the tests, then stops the components they started.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	defer Cleanup()
	return c.m.Run()
}

// Params returns the standard parameters for the scripts in dir: explicit
// exec, unique file names, -update, the [root] condition and the commands
// of the package doc. setup, when non-nil, runs after the standard
// setup of each script. Scripts.Run is Params for testdata/script.
func Params(dir string, setup func(*testscript.Env) error) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Condition:           condition,
		Cmds:                Commands(),
		Setup: func(env *testscript.Env) error {
			for _, kv := range NixEnv() {
				k, v, _ := strings.Cut(kv, "=")
				env.Setenv(k, v)
			}
			env.Values[tKey{}] = env.T()
			env.Setenv("HOME", filepath.Join(env.WorkDir, ".home"))
			if err := os.MkdirAll(filepath.Join(env.WorkDir, ".home"), 0o755); err != nil {
				return err
			}
			if setup != nil {
				return setup(env)
			}
			return nil
		},
	}
}

// condition evaluates [root]: true when the tests run as root (root
// reads files whatever their mode). A component a script needs is asked
// for with the need command, which skips or fails it.
func condition(cond string) (bool, error) {
	switch cond {
	case "root":
		return os.Geteuid() == 0, nil
	case "portable":
		// A build with the tag dockertools_portable (imgkit/internal/offlinux),
		// whose tools copy through user space: a script about the kernel
		// copy itself skips there ([portable] skip).
		return portableBuild, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

type tKey struct{}

// skip skips the running script with a message, which testscript's API
// only offers to its own skip command.
func skip(ts *testscript.TestScript, msg string) {
	ts.Logf("%s", msg)
	ts.Value(tKey{}).(testscript.T).Skip(msg)
}

// SkipPortable skips a test of the kernel copy itself in a build with the
// tag dockertools_portable, whose tools copy through user space.
func SkipPortable(t testing.TB) {
	t.Helper()
	if portableBuild {
		t.Skip("the kernel copy is off in this build (dockertools_portable)")
	}
}
