package main

import (
	"maps"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "push-blob", manual, func() cli.Runner { return &command{} })
}

// TestScripts runs the scripts with layer-pack and manifest-gen (which
// make the images pushed) and the workflow scripts (../scripts) on PATH.
func TestScripts(t *testing.T) {
	bin := testkit.BuildTools(t, "layer-pack", "manifest-gen", "pull-blob")
	scripts := testkit.Abs(t, "../scripts")
	p := testkit.Params("testdata/script", func(env *testscript.Env) error {
		testkit.PrependPath(env, scripts, bin)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	maps.Copy(p.Cmds, testkit.FrontCommands())
	maps.Copy(p.Cmds, testkit.PushCommands())
	maps.Copy(p.Cmds, cacheCommands())
	testscript.Run(t, p)
}
