package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "popularity", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

func TestScripts(t *testing.T) { testkit.Scripts{}.Run(t) }

func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t, []string{"--max", "1"}, []string{"--base-layers", "-1"}, []string{"--strategy", "random"})
}
