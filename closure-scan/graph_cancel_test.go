package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGraphReadStopsWhenCancelled: a signal that came before or during
// the reading of --graph stops it (graphplan.ReadGraphContext): the tool
// says "interrupted", not what it would have found decoding the rest of
// a graph of millions of paths.
func TestGraphReadStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	// A graph whose trouble the reading finds: its path is of another store.
	doc := `[{"narSize":1,"path":"/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a","references":[]}]`
	root := "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a"
	if err := os.MkdirAll(filepath.Join(dir, "nix/store"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"graph.json": doc, root: "a\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tool.InterruptedBeforeInput(t, "--graph", filepath.Join(dir, "graph.json"), "--root", dir, root)
}
