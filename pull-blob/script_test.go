package main

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{"pull-blob": func() int {
		return cli.Run(context.Background(), "pull-blob", manual, &command{}, os.Args[1:], &cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}})
}

// TestScripts runs the scripts with the workflow scripts (../scripts) and
// manifest-gen, which pull-image pipes into, on PATH.
func TestScripts(t *testing.T) {
	bin := buildTools(t, "manifest-gen")
	scripts, err := filepath.Abs("../scripts")
	if err != nil {
		t.Fatal(err)
	}
	p := testkit.Params("testdata/script", func(env *testscript.Env) error {
		env.Setenv("PATH", scripts+string(os.PathListSeparator)+bin+string(os.PathListSeparator)+env.Getenv("PATH"))
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	maps.Copy(p.Cmds, testkit.ProxyCommands())
	maps.Copy(p.Cmds, testCommands())
	testscript.Run(t, p)
}

// buildTools builds the workspace's tools into a directory removed after
// the test.
func buildTools(t *testing.T, tools ...string) string {
	dir := t.TempDir()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, tool := range tools {
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, tool), "../"+tool)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", tool, err, out)
		}
	}
	return dir
}
