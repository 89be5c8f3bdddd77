package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// Its usage errors: --compressor and --digest-file with oci-dir were
// refused only after the stream's first member was read, the --sbom flags
// only after the --conf, --config and --from-image files.
var tool = testkit.Tool{Name: "manifest-gen", Manual: manual, New: func() cli.Runner { return &command{} },
	Scripts: testkit.Scripts{Cmds: []testkit.Cmds{testkit.ArchiveCommands(), {"mkstream": cmdMkstream, "member": cmdMember, "mkref": cmdMkref}}},
	UsageErrors: [][]string{
		{"--name", "app", "--format", "oci-dir", "--compressor", "gz", "-o", "dir"},
		{"--name", "app", "--format", "oci-dir", "--digest-file", "d", "-o", "dir"},
		{"--name", "app", "--max-layers", "200"},
		{"--print-holdings", "-o", "dir"},
		{"--name", "app", "--format", "oci", "--layer-tars", "dir"},
		{"--name", "A B"},
		{"--name", "app", "--created", "soon"},
		{"--name", "app", "--layer-compression", "zstd"},
		{"--name", "app", "--sbom-cyclonedx", "out.cdx.json"},
		{"--name", "app", "--sbom-graph", "graph.json"},
		{"--name", "app", "--sbom-graph", "graph.json", "--sbom-in-image", "swid"},
	}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
