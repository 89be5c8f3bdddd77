package testdata

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/testkit"
)

var tools = []string{"closure-scan", "popularity", "layer-pack", "manifest-gen", "tar-merge", "pull-blob", "push-blob", "nix-db", "drv-env"}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer testkit.Cleanup()
		return m.Run()
	}())
}

func TestWorkflows(t *testing.T) {
	scripts := testkit.Abs(t, "../scripts")
	vectors := testkit.Abs(t, "vectors")
	binDir := testkit.BuildTools(t, tools...)
	prefix := installPrefix(t, binDir)
	goCache, modCache := goEnv(t, "GOCACHE"), goEnv(t, "GOMODCACHE")
	p := testkit.Params("workflows", func(env *testscript.Env) error {
		testkit.PrependPath(env, binDir, scripts)
		env.Setenv("SCRIPTS", scripts)
		env.Setenv("VECTORS", vectors)
		// The Nix tests (nix_*): the repository, its tools installed, and
		// the go command's caches.
		env.Setenv("REPO", filepath.Dir(scripts))
		env.Setenv("PREFIX", prefix)
		env.Setenv("GOCACHE", goCache)
		env.Setenv("GOMODCACHE", modCache)
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	maps.Copy(p.Cmds, testkit.FrontCommands())
	maps.Copy(p.Cmds, sbomCommands)
	testscript.Run(t, p)
}
