package main

import (
	"maps"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "pull-blob", manual, func() cli.Runner { return &command{} })
}

// TestScripts runs the scripts with the workflow scripts (../scripts) and
// manifest-gen, which pull-image pipes into, on PATH.
func TestScripts(t *testing.T) {
	bin := testkit.BuildTools(t, "manifest-gen")
	scripts := testkit.Abs(t, "../scripts")
	p := testkit.Params("testdata/script", func(env *testscript.Env) error {
		testkit.PrependPath(env, scripts, bin)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	maps.Copy(p.Cmds, testkit.FrontCommands())
	maps.Copy(p.Cmds, testkit.ProxyCommands())
	maps.Copy(p.Cmds, testCommands())
	testscript.Run(t, p)
}
