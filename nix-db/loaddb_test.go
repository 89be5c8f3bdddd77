package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

// TestSameAsLoadDB: the database nix-db writes for a closure Nix built is
// the one `nix-store --load-db` writes for it, as nixpkgs' includeNixDB
// runs it (a closureInfo registration: path, narHash, narSize, no
// deriver, references; NIX_REMOTE=local?root=DIR), once nixpkgs has set
// every registrationTime: the same schema in the same order, the same
// rows with the same ids, the same references. Only the journal mode
// differs (Nix's is WAL), which Nix sets when it opens the file.
func TestSameAsLoadDB(t *testing.T) {
	testkit.Need(t, "nix")
	dir := t.TempDir()
	nix := func(stdin string, env []string, args ...string) []byte {
		t.Helper()
		return testkit.RunNix(t, dir, stdin, env, args...)
	}
	nix("", nil, "nix-build", "--quiet", testkit.Abs(t, "testdata/closure/default.nix"), "-A", "top", "-o", filepath.Join(dir, "result"))
	graph := nix("", nil, "nix", "path-info", "--json", "--recursive", filepath.Join(dir, "result"))

	ours := filepath.Join(dir, "ours")
	if err := os.Mkdir(ours, 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := cli.Run(context.Background(), "nix-db", manual, &command{}, []string{"-o", ours}, &cli.IO{
		Stdin: bytes.NewReader(graph), Stdout: &bytes.Buffer{}, Stderr: &stderr,
	}); code != 0 {
		t.Fatalf("nix-db: status %d: %s", code, stderr.String())
	}

	// closureInfo's registration, from the same graph.
	var nodes []struct {
		Path       string   `json:"path"`
		NarHash    string   `json:"narHash"`
		NarSize    uint64   `json:"narSize"`
		References []string `json:"references"`
	}
	if err := json.Unmarshal(graph, &nodes); err != nil {
		t.Fatal(err)
	}
	var reg strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&reg, "%s\n%s\n%d\n\n%d\n", n.Path, n.NarHash, n.NarSize, len(n.References))
		for _, r := range n.References {
			fmt.Fprintf(&reg, "%s\n", r)
		}
	}
	theirs := filepath.Join(dir, "theirs")
	nix(reg.String(), []string{"NIX_REMOTE=local?root=" + theirs, "USER=nobody"}, "nix-store", "--load-db")
	theirDB := filepath.Join(theirs, dbDir, "db.sqlite")
	db, err := sql.Open("sqlite", theirDB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("UPDATE ValidPaths SET registrationTime = %d", defaultRegistrationTime)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	dump := func(file string) string {
		var out strings.Builder
		if err := dumpDB(file, &out); err != nil {
			t.Fatal(err)
		}
		// The journal mode's line, the one difference.
		lines := strings.Split(out.String(), "\n")
		i := slices.Index(lines, "-- PRAGMA journal_mode")
		return strings.Join(slices.Delete(lines, i+1, i+2), "\n")
	}
	got, want := dump(filepath.Join(ours, dbDir, "db.sqlite")), dump(theirDB)
	if got != want {
		t.Errorf("nix-db's database:\n%s\nnix-store --load-db's:\n%s", got, want)
	}
	if len(nodes) < 4 || !strings.Contains(got, "nixdb-lib|") {
		t.Fatalf("the closure is not the fixture's: %s", got)
	}
	schema, err := os.ReadFile(filepath.Join(theirs, dbDir, "schema"))
	if err != nil || string(schema) != schemaVersion {
		t.Errorf("Nix's schema file holds %q (%v), nix-db writes %q", schema, err, schemaVersion)
	}
}
