package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGraphReadStopsWhenCancelled: a signal that came before or during
// the reading of the graph stops it (graphplan.ReadGraphContext): the
// tool says "interrupted", not what it would have found decoding the rest
// of a graph of millions of paths, and writes nothing.
func TestGraphReadStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	graph, root := filepath.Join(dir, "graph.json"), filepath.Join(dir, "root")
	// A graph whose trouble the reading finds: a node without narHash.
	doc := `[{"narSize":1,"path":"/nix/store/dcgx6kxhlxjpjbn2jdc8d8c8v3ibj7vd-a","references":[]}]`
	if err := os.WriteFile(graph, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tool.InterruptedBeforeInput(t, "-o", root, graph)
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Fatalf("cancelled: %d entries left in the output directory", len(left))
	}
}
