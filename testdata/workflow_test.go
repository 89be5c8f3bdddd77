package testdata

import (
	"maps"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/testkit"
)

var tools = []string{"closure-scan", "popularity", "layer-pack", "manifest-gen", "tar-merge", "pull-blob", "push-blob", "nix-db"}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer testkit.Cleanup()
		return m.Run()
	}())
}

func TestWorkflows(t *testing.T) {
	scripts := testkit.Abs(t, "../scripts")
	vectors := testkit.Abs(t, "vectors")
	binDir := testkit.BuildTools(t, tools...)
	p := testkit.Params("workflows", func(env *testscript.Env) error {
		testkit.PrependPath(env, binDir, scripts)
		env.Setenv("SCRIPTS", scripts)
		env.Setenv("VECTORS", vectors)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	maps.Copy(p.Cmds, testkit.FrontCommands())
	testscript.Run(t, p)
}
