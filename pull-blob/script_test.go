package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// The scripts run with manifest-gen, which pull-image pipes into, and the
// workflow scripts (../scripts) on PATH.
var tool = testkit.Tool{Name: "pull-blob", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Build: []string{"manifest-gen"}, Path: []string{"../scripts"},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands(), testkit.ProxyCommands(), testkit.ArgvCommands(), testCommands()}},
	UsageErrors: [][]string{{"--blob", "localhost:5000/app:v1"}, {"--retries", "-1", "localhost:5000/app:v1"},
		{"--blob", "--resolve", "localhost:5000/app:v1"}, {"--creds", "nocolon", "localhost:5000/app:v1"},
		{"--creds", "", "localhost:5000/app:v1"}, {"--creds", "a:b", "--creds-file", "creds", "localhost:5000/app:v1"},
		{"--max-expanded-bytes", "0", "localhost:5000/app:v1"}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
