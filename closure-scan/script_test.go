package main

import (
	"maps"
	"os"
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
	cond := p.Condition
	p.Condition = func(c string) (bool, error) {
		if c == "root" { // root reads files whatever their mode
			return os.Geteuid() == 0, nil
		}
		return cond(c)
	}
	testscript.Run(t, p)
}
