package main

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{"manifest-gen": func() int {
		return cli.Run(context.Background(), "manifest-gen", manual, &command{}, os.Args[1:], &cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}})
}

func TestScripts(t *testing.T) {
	p := testkit.Params("testdata/script", nil)
	for name, cmd := range testkit.ArchiveCommands() {
		p.Cmds[name] = cmd
	}
	p.Cmds["mkstream"] = cmdMkstream
	p.Cmds["member"] = cmdMember
	testscript.Run(t, p)
}
