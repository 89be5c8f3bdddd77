package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "close-fds", Manual: manual, New: func() cli.Runner { return &command{} },
	UsageErrors: [][]string{
		{},
		{"--keep", "2", "true"},
		{"--keep", "-1", "true"},
		{"--keep", "999999", "true"},
		{"--keep", "x", "true"},
	}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
