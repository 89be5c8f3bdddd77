package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "pull-blob", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

// TestScripts runs the scripts with manifest-gen, which pull-image pipes
// into, and the workflow scripts (../scripts) on PATH.
func TestScripts(t *testing.T) {
	testkit.Scripts{Build: []string{"manifest-gen"}, Path: []string{"../scripts"},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands(), testkit.ProxyCommands(), testCommands()}}.Run(t)
}

func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t, []string{"--blob", "localhost:5000/app:v1"}, []string{"--retries", "-1", "localhost:5000/app:v1"},
		[]string{"--blob", "--resolve", "localhost:5000/app:v1"}, []string{"--creds", "nocolon", "localhost:5000/app:v1"})
}
