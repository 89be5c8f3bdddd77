package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "tar-merge", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

// TestScripts runs testdata/script; the repository's scripts/ is on PATH
// so the export-image and merge-images workflows run against this binary
// as tar-merge.
func TestScripts(t *testing.T) {
	testkit.Scripts{Path: []string{"../scripts"}, Cmds: []testkit.Cmds{testkit.ArchiveCommands()}}.Run(t)
}

func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t, []string{"--flatten", "--merge"}, []string{"--flatten", "--snapshot", "s"},
		[]string{"--store-paths", "-o", "out.tar"}, []string{"--flatten", "--max-expanded-bytes", "0"}, []string{"-", "-"})
}
