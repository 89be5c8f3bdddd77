package scripts

import (
	"os"
	"strings"
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
// which the scripts' own HOME would leave cold. DOCKERTOOLS_TEST_SHELL
// (a command line: "mksh", "bash --posix", "busybox sh") runs the
// workflows, and the scripts' own sh, with that shell instead of /bin/sh
// (withShell); TestWorkflowShells runs a chosen few under each shell.
func TestWorkflows(t *testing.T) {
	bin := testkit.BuildTools(t, tools...)
	s := workflowScripts(t, bin)
	if sh := strings.Fields(os.Getenv("DOCKERTOOLS_TEST_SHELL")); len(sh) > 0 {
		s.Path = append([]string{withShell(t, sh)}, s.Path...)
	}
	s.Run(t)
}

// workflowScripts are the scripts' parameters: the tools in bin, then the
// workflows, on PATH.
func workflowScripts(t *testing.T, bin string) testkit.Scripts {
	return testkit.Scripts{Path: []string{bin, "."},
		Dirs: map[string]string{"SCRIPTS": ".", "FIXTURES": "testdata/fixtures", "VECTORS": "../testdata/vectors",
			"REPO": "..", "PREFIX": installPrefix(t, bin), "GOCACHE": goEnv(t, "GOCACHE"), "GOMODCACHE": goEnv(t, "GOMODCACHE")},
		Cmds: []testkit.Cmds{testkit.ArchiveCommands(), testkit.FrontCommands(), testkit.SocketCommands(), testkit.ArgvCommands(), sbomCommands}}
}
