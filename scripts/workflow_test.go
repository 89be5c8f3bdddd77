package scripts

import (
	"testing"

	"dockertools.dev/testkit"
)

var tools = []string{"close-fds", "closure-scan", "popularity", "layer-pack", "manifest-gen", "tar-merge", "pull-blob", "push-blob", "nix-db", "drv-env"}

func TestMain(m *testing.M) {
	testkit.Main(m, testkit.Program{Name: "unix-dial", Main: testkit.UnixDial})
}

// TestWorkflows runs the workflow scripts with the tools built once, and
// for the Nix tests (nix_*) the repository ($REPO), the tools installed
// as make install lays them out ($PREFIX) and the go command's caches,
// which the scripts' own HOME would leave cold.
func TestWorkflows(t *testing.T) {
	bin := testkit.BuildTools(t, tools...)
	testkit.Scripts{Path: []string{bin, "."},
		Dirs: map[string]string{"SCRIPTS": ".", "FIXTURES": "testdata/fixtures", "VECTORS": "../testdata/vectors",
			"REPO": "..", "PREFIX": installPrefix(t, bin), "GOCACHE": goEnv(t, "GOCACHE"), "GOMODCACHE": goEnv(t, "GOMODCACHE")},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands(), testkit.SocketCommands(), sbomCommands}}.Run(t)
}
