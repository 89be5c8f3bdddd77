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
