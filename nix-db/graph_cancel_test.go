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
// the reading of the graph stops it (graphplan.ReadGraphContext): the
// tool says "interrupted", not what it would have found decoding the rest
// of a graph of millions of paths, and writes nothing.
func TestGraphReadStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	graph := filepath.Join(dir, "graph.json")
	// A graph whose trouble the reading finds: a node without narHash.
	doc := `[{"narSize":1,"path":"/nix/store/dcgx6kxhlxjpjbn2jdc8d8c8v3ibj7vd-a","references":[]}]`
	if err := os.WriteFile(graph, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code := cli.Run(ctx, "nix-db", manual, &command{}, []string{"-o", root, graph},
		&cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if code != cli.ExitFailure || stderr.String() != "nix-db: interrupted\n" || stdout.Len() > 0 {
		t.Fatalf("cancelled: exit %d, stderr %q, stdout %q; want exit 1, \"nix-db: interrupted\", no output", code, stderr.String(), stdout.String())
	}
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Fatalf("cancelled: %d entries left in the output directory", len(left))
	}
}
