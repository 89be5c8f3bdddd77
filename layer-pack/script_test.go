package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{"layer-pack": func() int {
		return cli.Run(context.Background(), "layer-pack", manual, &command{}, os.Args[1:], &cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}})
}

// TestScripts runs testdata/script; $ORACLES is testdata (the Python oracle)
// and $VECTORS the shared reference vectors.
func TestScripts(t *testing.T) {
	oracles, _ := filepath.Abs("testdata")
	vectors, _ := filepath.Abs("../testdata/vectors")
	testscript.Run(t, testkit.Params("testdata/script", func(env *testscript.Env) error {
		env.Setenv("ORACLES", oracles)
		env.Setenv("VECTORS", vectors)
		return nil
	}))
}
