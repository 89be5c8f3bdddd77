package graphplan

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
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

// spaces is an endless run of JSON whitespace: a document that began
// right ("[") and never ends.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestEndlessDocumentBoundFits: a piped graph that begins as JSON and
// never ends is refused at the real bound, which this machine's memory
// holds. A 32-bit program panicked (makeslice: len out of range) growing
// its buffer past 1 GiB, short of the 2 GiB bound a 64-bit one has. On
// 64 bits the bound takes 4.5 GB to reach, too much for a test: the
// 32-bit run (scripts/test-32bit, in make test) reads it.
func TestEndlessDocumentBoundFits(t *testing.T) {
	if strconv.IntSize != 32 {
		t.Skip("reading the 64-bit bound takes 4.5 GB; scripts/test-32bit runs this as a 386 program")
	}
	_, err := ReadGraph(io.MultiReader(strings.NewReader("["), spaces{}), "")
	if !errors.Is(err, errdefs.ErrTooLarge) {
		t.Fatalf("an endless graph: %v, want too large", err)
	}
}
