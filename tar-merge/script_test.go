package main

import (
	"maps"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "tar-merge", manual, func() cli.Runner { return &command{} })
}

// TestScripts runs testdata/script; the repository's scripts/ is on PATH
// so the export-image and merge-images workflows run against this binary
// as tar-merge.
func TestScripts(t *testing.T) {
	scripts := testkit.Abs(t, "../scripts")
	p := testkit.Params("testdata/script", func(env *testscript.Env) error {
		testkit.PrependPath(env, scripts)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	testscript.Run(t, p)
}
