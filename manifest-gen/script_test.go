package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "manifest-gen", manual, func() cli.Runner { return &command{} })
}

func TestScripts(t *testing.T) {
	// testkit.Main's deferred Cleanup never runs (testscript's Main ends
	// in os.Exit), so the Docker engine is stopped here, after every
	// script: t.Cleanup waits for the parallel subtests.
	t.Cleanup(testkit.Cleanup)
	p := testkit.Params("testdata/script", nil)
	for name, cmd := range testkit.ArchiveCommands() {
		p.Cmds[name] = cmd
	}
	p.Cmds["mkstream"] = cmdMkstream
	p.Cmds["member"] = cmdMember
	p.Cmds["mkref"] = cmdMkref
	testscript.Run(t, p)
}
