package graphplan

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
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

// endless is a pipe of a JSON array that never ends ("[" and spaces),
// read without allocating.
type endless struct{ started bool }

func (e *endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = ' '
	}
	if !e.started && len(b) > 0 {
		b[0], e.started = '[', true
	}
	return len(b), nil
}

// TestEndlessPipeRefusalMemory: refusing an endless piped graph at the
// bound allocates the bound and little more. io.ReadAll of a LimitReader
// allocated twice it, its chunks and then their copy (268 MiB at 128 MiB;
// at 2 GiB, a peak of 4.5 GB of memory). The runtime's count of bytes
// allocated is exact, not timed.
func TestEndlessPipeRefusalMemory(t *testing.T) {
	defer func(m int64) { maxDocument = m }(maxDocument)
	maxDocument = 128 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ReadGraph(&endless{}, "")
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errdefs.ErrTooLarge) {
		t.Fatalf("%v, want too large", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(maxDocument)+2<<20 {
		t.Errorf("refusing at %d MiB allocated %d MiB, want at most 2 MiB more", maxDocument>>20, got>>20)
	}
}
