package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "layer-pack", manual, func() cli.Runner { return &command{} })
}

// TestScripts runs testdata/script; $ORACLES is testdata (the Python oracle)
// and $VECTORS the shared reference vectors.
func TestScripts(t *testing.T) {
	oracles := testkit.Abs(t, "testdata")
	vectors := testkit.Abs(t, "../testdata/vectors")
	testscript.Run(t, testkit.Params("testdata/script", func(env *testscript.Env) error {
		env.Setenv("ORACLES", oracles)
		env.Setenv("VECTORS", vectors)
		return nil
	}))
}
