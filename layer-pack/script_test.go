package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// The scripts' $ORACLES is testdata (the Python oracle), $VECTORS the
// shared reference vectors.
var tool = testkit.Tool{Name: "layer-pack", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Dirs: map[string]string{"ORACLES": "testdata", "VECTORS": "../testdata/vectors"}},
	UsageErrors: [][]string{{"--reuse", "held.json"}, {"--uid=-1"}, {"--mtime", "yesterday"},
		{"--snapshot", "s"}, {"--store-dir", "store"}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
