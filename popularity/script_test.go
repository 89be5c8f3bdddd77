package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "popularity", Manual: manual, New: func() cli.Runner { return &command{} },
	UsageErrors: [][]string{{"--max", "1"}, {"--max", "126", "--strategy", "size"}, {"--base-layers", "-1"}, {"--strategy", "random"},
		{"--pipeline", "[]", "--strategy", "size"}, {"--pipeline", "[]", "--base-layers", "124"}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
