package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

var tool = testkit.Tool{Name: "manifest-gen", Manual: manual, New: func() cli.Runner { return &command{} }}

func TestMain(m *testing.M) { tool.Main(m) }

func TestScripts(t *testing.T) {
	testkit.Scripts{Cmds: []testkit.Cmds{testkit.ArchiveCommands(), {"mkstream": cmdMkstream, "member": cmdMember, "mkref": cmdMkref}}}.Run(t)
}

// TestUsageErrorsReadNoInput: --compressor and --digest-file with oci-dir
// were refused only after the stream's first member was read.
func TestUsageErrorsReadNoInput(t *testing.T) {
	tool.UsageErrorsReadNoInput(t,
		[]string{"--name", "app", "--format", "oci-dir", "--compressor", "gz", "-o", "dir"},
		[]string{"--name", "app", "--format", "oci-dir", "--digest-file", "d", "-o", "dir"},
		[]string{"--name", "app", "--max-layers", "200"},
		[]string{"--name", "A B"},
		[]string{"--name", "app", "--created", "soon"},
		[]string{"--name", "app", "--layer-compression", "zstd"})
}
