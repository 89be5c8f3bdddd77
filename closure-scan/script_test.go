package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "closure-scan", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Cmds: []testkit.Cmds{graphCommands}},
	UsageErrors: [][]string{{"-j", "100000"}, {"--store-dir", "store"}, {"--source", "guess"},
		{"--key", "graph"}, {"--graph", "graph.json", "--source", "nix"}, {"--graph", "graph.json", "--verified", "v.json"}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
