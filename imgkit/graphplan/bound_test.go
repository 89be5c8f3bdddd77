package graphplan

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// TestDocumentPastBound: a graph or plan past maxDocument, from a pipe
// or a regular file, is ErrTooLarge; one at the bound is read.
func TestDocumentPastBound(t *testing.T) {
	defer func(m int64) { maxDocument = m }(maxDocument)
	maxDocument = 8 << 20
	doc := "[" + strings.Repeat(" ", int(maxDocument)-2) + "]"
	file := filepath.Join(t.TempDir(), "doc.json")
	for _, tc := range []struct {
		name string
		doc  string
		ok   bool
	}{{"at the bound", doc, true}, {"past it", doc + " ", false}} {
		if err := os.WriteFile(file, []byte(tc.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		_, errPlan := ReadPlan(f)
		f.Close()
		// A pipe: no Stat.
		_, errGraph := ReadGraph(io.MultiReader(strings.NewReader(tc.doc)), "")
		for what, err := range map[string]error{"plan from a file": errPlan, "graph from a pipe": errGraph} {
			if tc.ok && err != nil {
				t.Errorf("%s %s: %v", what, tc.name, err)
			}
			if !tc.ok && !errors.Is(err, errdefs.ErrTooLarge) {
				t.Errorf("%s %s: %v, want too large", what, tc.name, err)
			}
		}
	}
}
