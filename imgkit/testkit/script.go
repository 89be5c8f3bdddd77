package testkit

import (
	"flag"
	"os"
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

// Main is TestMain for a package with script tests: the test binary doubles
// as each tool in tools (so scripts can `exec closure-scan …`), and
// process-wide components are stopped after the tests.
func Main(m *testing.M, tools map[string]func() int) {
	cmds := make(map[string]func(), len(tools))
	for name, fn := range tools {
		cmds[name] = func() { os.Exit(fn()) }
	}
	// testscript.Main ends in os.Exit, so cleanup must run inside Run.
	testscript.Main(cleanupM{m}, cmds)
}

// ToolMain is TestMain for a tool's package: the test binary doubles as the
// tool, so scripts can `exec NAME …` it.
func ToolMain(m *testing.M, name, manual string, newCmd func() cli.Runner) {
	Main(m, map[string]func() int{name: func() int { return cli.Process(name, manual, newCmd()) }})
}

// cleanupM runs the tests, then stops the components they started.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	defer Cleanup()
	return c.m.Run()
}

// Params returns the standard parameters for the scripts in dir: explicit
// exec, unique file names, -update, the [real:NAME] condition and the
// commands of the package doc. setup, when non-nil, runs after the standard
// setup of each script.
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

// condition evaluates [real:NAME]: true when the component is usable. A
// missing component is an error (failing the script) under
// REQUIRE_REAL_CLIENTS=1. [root] is true when the tests run as root.
func condition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	name, ok := strings.CutPrefix(cond, "real:")
	if !ok {
		return false, errUnknownCondition(cond)
	}
	if why := Missing(name); why != "" {
		if RequireReal() {
			return false, errRequired(why)
		}
		return false, nil
	}
	return true, nil
}

type errUnknownCondition string

func (e errUnknownCondition) Error() string { return "unknown condition " + string(e) }

type errRequired string

func (e errRequired) Error() string { return "REQUIRE_REAL_CLIENTS=1: " + string(e) }

type tKey struct{}

// skip skips the running script with a message, which testscript's API
// only offers to its own skip command.
func skip(ts *testscript.TestScript, msg string) {
	ts.Logf("%s", msg)
	ts.Value(tKey{}).(testscript.T).Skip(msg)
}
