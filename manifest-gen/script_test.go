package main

import (
	"maps"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "manifest-gen", manual, func() cli.Runner { return &command{} })
}

func TestScripts(t *testing.T) {
	p := testkit.Params("testdata/script", nil)
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	p.Cmds["mkstream"] = cmdMkstream
	p.Cmds["member"] = cmdMember
	p.Cmds["mkref"] = cmdMkref
	testscript.Run(t, p)
}
