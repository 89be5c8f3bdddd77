package main

import (
	"context"
	"maps"
	"os"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{"closure-scan": func() int {
		return cli.Run(context.Background(), "closure-scan", manual, &command{}, os.Args[1:], &cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}})
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
