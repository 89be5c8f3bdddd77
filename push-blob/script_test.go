package main

import (
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// The scripts run with layer-pack and manifest-gen (which make the images
// pushed), pull-blob (which reads attached SBOMs back) and the workflow
// scripts (../scripts) on PATH.
var tool = testkit.Tool{Name: "push-blob", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Build: []string{"layer-pack", "manifest-gen", "pull-blob"}, Path: []string{"../scripts"},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands(), testkit.PushCommands(), testkit.ArgvCommands(), cacheCommands()}},
	UsageErrors: [][]string{{"--dest", "localhost:5000/app", "--list-present", "img.tar"},
		{"--dest", "localhost:5000/app@sha256:" + strings.Repeat("0", 64)}, {"--dest", "bad ref!"},
		{"--dest", "localhost:5000/app", "--verify-cache"}, {"--dest", "localhost:5000/app", "--chunk-size", "lots"},
		{"--dest", "localhost:5000/app", "--list-present", "--sbom", "image.cdx.json"},
		{"--dest", "localhost:5000/app", "--creds-file", ""}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
