package main

import (
	"bytes"
	"context"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

// TestGeneratedStore scans a synthetic store whose manifest knows the
// answer: references written in text files, in binary files and as
// symlink targets, self-references, hardlinks, paths that are a single
// file or a symlink, and Nix's narSize for each path.
func TestGeneratedStore(t *testing.T) {
	for _, spec := range []storegen.Spec{
		{Seed: 1, Paths: 60, Files: 900, Bytes: 4 << 20},
		{Seed: 2, Paths: 200, Files: 600, Bytes: 1 << 20, Refs: 8},
	} {
		m, err := storegen.Generate(t.TempDir(), spec)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := graphplan.WriteGraph(&want, m.Graph()); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		args := []string{"--source", "scan", "--root", m.Root, m.Top}
		code := cli.Run(context.Background(), "closure-scan", manual, &command{}, args, &cli.IO{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr})
		if code != 0 {
			t.Fatalf("seed %d: exit %d: %s", spec.Seed, code, stderr.String())
		}
		if stdout.String() != want.String() {
			t.Errorf("seed %d: the scanned graph differs from the manifest's:\n%s\nwant:\n%s", spec.Seed, stdout.String(), want.String())
		}
	}
}
