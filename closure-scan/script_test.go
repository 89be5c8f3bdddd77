package main

import (
	"maps"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "closure-scan", manual, func() cli.Runner { return &command{} })
}

func TestScripts(t *testing.T) {
	p := testkit.Params("testdata/script", nil)
	maps.Copy(p.Cmds, graphCommands)
	testscript.Run(t, p)
}
