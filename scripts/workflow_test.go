package scripts

import (
	"testing"

	"dockertools.dev/testkit"
)

var tools = []string{"closure-scan", "popularity", "layer-pack", "manifest-gen", "tar-merge", "pull-blob", "push-blob"}

func TestMain(m *testing.M) { testkit.Main(m) }

func TestWorkflows(t *testing.T) {
	testkit.Scripts{Build: tools, Path: []string{"."},
		Dirs: map[string]string{"SCRIPTS": ".", "FIXTURES": "testdata/fixtures", "VECTORS": "../testdata/vectors"},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands()}}.Run(t)
}
