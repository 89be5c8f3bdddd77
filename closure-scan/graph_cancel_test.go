package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
)

// TestGraphReadStopsWhenCancelled: a signal that came before or during
// the reading of --graph stops it (graphplan.ReadGraphContext): the tool
// says "interrupted", not what it would have found decoding the rest of
// a graph of millions of paths.
func TestGraphReadStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	graph := filepath.Join(dir, "graph.json")
	// A graph whose trouble the reading finds: its path is of another store.
	doc := `[{"narSize":1,"path":"/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a","references":[]}]`
	if err := os.WriteFile(graph, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "nix/store"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code := cli.Run(ctx, "closure-scan", manual, &command{}, []string{"--graph", graph, "--root", dir, "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a"},
		&cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if code != cli.ExitFailure || stderr.String() != "closure-scan: interrupted\n" || stdout.Len() > 0 {
		t.Fatalf("cancelled: exit %d, stderr %q, stdout %q; want exit 1, \"closure-scan: interrupted\", no output", code, stderr.String(), stdout.String())
	}
}
