package main

import (
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "push-blob", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

// TestScripts runs the scripts with layer-pack and manifest-gen (which
// make the images pushed) and the workflow scripts (../scripts) on PATH.
func TestScripts(t *testing.T) {
	testkit.Scripts{Build: []string{"layer-pack", "manifest-gen"}, Path: []string{"../scripts"},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands(), testkit.PushCommands(), cacheCommands()}}.Run(t)
}

func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t, []string{"--dest", "localhost:5000/app", "--list-present", "img.tar"},
		[]string{"--dest", "localhost:5000/app@sha256:" + strings.Repeat("0", 64)}, []string{"--dest", "bad ref!"},
		[]string{"--dest", "localhost:5000/app", "--verify-cache"}, []string{"--dest", "localhost:5000/app", "--chunk-size", "lots"})
}
