package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "closure-scan", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

func TestScripts(t *testing.T) { testkit.Scripts{Cmds: []testkit.Cmds{graphCommands}}.Run(t) }

func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t, []string{"-j", "100000"}, []string{"--store-dir", "store"}, []string{"--source", "guess"})
}
