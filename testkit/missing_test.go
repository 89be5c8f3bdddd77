package testkit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A missing component is visible, as make test runs the tests (go test
// -json | testsum): this package's own script component_registry, run by
// this test binary with an empty PATH, is skipped with a SKIP line naming
// what is missing, and fails instead under REQUIRE_REAL_CLIENTS=1.
func TestMissingComponentIsVisible(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	testsum := filepath.Join(tmp, "testsum")
	if out, err := exec.Command(goBin, "build", "-o", testsum, "dockertools.dev/testkit/cmd/testsum").CombinedOutput(); err != nil {
		t.Fatalf("building testsum: %v\n%s", err, out)
	}
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	const missing = "registry is not installed (no docker-registry on PATH; scripts/install-test-deps installs it)"
	for _, tc := range []struct {
		name, require string
		wantExit      int
		want          []string
	}{
		{"Skipped", "", 0, []string{
			"SKIP dockertools.dev/testkit TestScripts/component_registry: " + missing,
		}},
		{"FailsInCI", "1", 1, []string{
			"--- FAIL dockertools.dev/testkit TestScripts/component_registry",
			"REQUIRE_REAL_CLIENTS=1: " + missing,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"PATH=" + empty, "REQUIRE_REAL_CLIENTS=" + tc.require}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "REQUIRE_REAL_CLIENTS=") {
					env = append(env, kv)
				}
			}
			run := exec.Command(goBin, "tool", "test2json", "-p", "dockertools.dev/testkit",
				"-t", self, "-test.v", "-test.run", "^TestScripts$/^component_registry$")
			run.Env = env
			sum := exec.Command(testsum)
			sum.Env = env
			var out bytes.Buffer
			sum.Stdout = &out
			if sum.Stdin, err = run.StdoutPipe(); err != nil {
				t.Fatal(err)
			}
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			sumErr := sum.Run()
			run.Wait() // its status is testsum's to judge
			exit := 0
			if ee, ok := sumErr.(*exec.ExitError); ok {
				exit = ee.ExitCode()
			} else if sumErr != nil {
				t.Fatal(sumErr)
			}
			if exit != tc.wantExit {
				t.Errorf("testsum exited %d, want %d", exit, tc.wantExit)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("testsum's report lacks %q", w)
				}
			}
			if t.Failed() {
				t.Logf("testsum's report:\n%s", out.String())
			}
		})
	}
}
