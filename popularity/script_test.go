package main

import (
	"context"
	"os"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{"popularity": func() int {
		return cli.Run(context.Background(), "popularity", manual, &command{}, os.Args[1:], &cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}})
}

func TestScripts(t *testing.T) { testscript.Run(t, testkit.Params("testdata/script", nil)) }
