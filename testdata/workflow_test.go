package testdata

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/testkit"
)

var tools = []string{"closure-scan", "popularity", "layer-pack", "manifest-gen", "tar-merge", "pull-blob", "push-blob"}

// binDir holds the tools built for this test run.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "workflow-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := buildTools(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		binDir = dir
		defer testkit.Cleanup()
		return m.Run()
	}())
}

// buildTools compiles the workspace's tools into dir.
func buildTools(dir string) error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, t := range tools {
		cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, t), "dockertools.dev/"+t)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", t, err, out)
		}
	}
	return nil
}

func TestWorkflows(t *testing.T) {
	scripts, err := filepath.Abs("../scripts")
	if err != nil {
		t.Fatal(err)
	}
	vectors, err := filepath.Abs("vectors")
	if err != nil {
		t.Fatal(err)
	}
	p := testkit.Params("workflows", func(env *testscript.Env) error {
		env.Setenv("PATH", binDir+string(os.PathListSeparator)+scripts+string(os.PathListSeparator)+env.Getenv("PATH"))
		env.Setenv("SCRIPTS", scripts)
		env.Setenv("VECTORS", vectors)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	testscript.Run(t, p)
}
