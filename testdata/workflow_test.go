package testdata

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/testkit"
)

var tools = []string{"closure-scan", "popularity", "layer-pack", "manifest-gen", "tar-merge", "pull-blob", "push-blob"}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer testkit.Cleanup()
		return m.Run()
	}())
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
	binDir := testkit.BuildTools(t, tools...)
	p := testkit.Params("workflows", func(env *testscript.Env) error {
		env.Setenv("PATH", binDir+string(os.PathListSeparator)+scripts+string(os.PathListSeparator)+env.Getenv("PATH"))
		env.Setenv("SCRIPTS", scripts)
		env.Setenv("VECTORS", vectors)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	testscript.Run(t, p)
}
