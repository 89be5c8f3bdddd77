package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// The repository's scripts/ is on the scripts' PATH, so the export-image
// and merge-images workflows run against this binary as tar-merge.
var tool = testkit.Tool{Name: "tar-merge", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Path: []string{"../scripts"}, Cmds: []testkit.Cmds{testkit.ArchiveCommands()}},
	UsageErrors: [][]string{{"--flatten", "--merge"}, {"--flatten", "--snapshot", "s"},
		{"--store-paths", "-o", "out.tar"}, {"--flatten", "--max-expanded-bytes", "0"}, {"-", "-"},
		{"--index"}, {"--layer-compression", "zstd", "-"}, {"--index", "--layer-compression", "xz", "-"}}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
