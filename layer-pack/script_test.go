package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "layer-pack", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

// TestScripts runs testdata/script; $ORACLES is testdata (the Python oracle)
// and $VECTORS the shared reference vectors.
func TestScripts(t *testing.T) {
	testkit.Scripts{Dirs: map[string]string{"ORACLES": "testdata", "VECTORS": "../testdata/vectors"}}.Run(t)
}

func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t, []string{"--reuse", "held.json"}, []string{"--uid", "-1"}, []string{"--mtime", "yesterday"},
		[]string{"--snapshot", "s"}, []string{"--store-dir", "store"})
}
