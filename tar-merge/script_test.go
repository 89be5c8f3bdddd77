package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.Main(m, map[string]func() int{"tar-merge": func() int {
		return cli.Run(context.Background(), "tar-merge", manual, &command{}, os.Args[1:], &cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}})
}

// TestScripts runs testdata/script; the repository's scripts/ is on PATH
// so the export-image and merge-images workflows run against this binary
// as tar-merge.
func TestScripts(t *testing.T) {
	scripts, err := filepath.Abs("../scripts")
	if err != nil {
		t.Fatal(err)
	}
	p := testkit.Params("testdata/script", func(env *testscript.Env) error {
		env.Setenv("PATH", scripts+string(os.PathListSeparator)+env.Getenv("PATH"))
		return nil
	})
	maps.Copy(p.Cmds, testkit.ArchiveCommands())
	testscript.Run(t, p)
}
