package graphplan

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// writeTemp writes data to a new file and returns its name.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "graph.json")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// mapTemp writes data to a new file and maps it, until the test ends.
func mapTemp(t *testing.T, data []byte) (*mapping, string) {
	t.Helper()
	name := writeTemp(t, data)
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, ok := mapFile(f, mapMin)
	if !ok {
		t.Fatal("the file is not mapped")
	}
	t.Cleanup(m.close)
	return m, name
}

// TestReadGraphMapped: a graph file large enough to be mapped reads as
// the same bytes read from memory do, from the file's offset (a prefix
// already consumed), and leaves the offset at the end; a file too small,
// or a reader that is no file, is read.
func TestReadGraphMapped(t *testing.T) {
	doc := largeGraph(5000, 8)
	if len(doc) < mapMin {
		t.Fatalf("the test graph has %d bytes, less than the %d worth mapping", len(doc), mapMin)
	}
	want, err := ReadGraph(bytes.NewReader(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("consumed by someone else\n")
	f, err := os.Open(writeTemp(t, append(prefix, doc...)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(int64(len(prefix)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if m, ok := mapFile(f, mapMin); !ok || !bytes.Equal(m.data, doc) {
		t.Fatal("the file is not mapped from its offset")
	} else {
		m.close()
		f.Seek(int64(len(prefix)), io.SeekStart)
	}
	got, err := ReadGraph(f, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the mapped file reads as another graph")
	}
	if off, _ := f.Seek(0, io.SeekCurrent); off != int64(len(prefix)+len(doc)) {
		t.Errorf("offset %d after reading, want the end, %d", off, len(prefix)+len(doc))
	}
	small, _ := os.Open(writeTemp(t, []byte(canonical)))
	defer small.Close()
	if _, ok := mapFile(small, mapMin); ok {
		t.Error("a small file is mapped")
	}
	if _, ok := mapFile(bytes.NewReader(doc), 0); ok {
		t.Error("a bytes.Reader is mapped")
	}
}

// TestReadGraphMappedFileCutShort: a mapped graph file cut short while it
// is decoded (here between the mapping and the decoding) faults on the
// pages past its new end, in the goroutine decoding the first part or in
// those decoding the others; that is an error wrapping ErrChanged, never a
// crash. A file that grew meanwhile is refused the same way.
func TestReadGraphMappedFileCutShort(t *testing.T) {
	doc := largeGraph(20000, 8)
	for _, tc := range []struct {
		name string
		size int64
	}{
		{"ToNothing", 0},
		{"ToOnePage", 4096},
		{"ToHalf", int64(len(doc) / 2)},
		{"ToThreeQuarters", int64(len(doc) * 3 / 4)}, // in the goroutine of the last part
		{"ToAllButTheEnd", int64(len(doc) - 1)},
		{"Grown", int64(len(doc) + 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, name := mapTemp(t, doc)
			if err := os.Truncate(name, tc.size); err != nil {
				t.Fatal(err)
			}
			for _, k := range []int{1, 2, 3} {
				err := m.guard(func() error {
					decodeParts(m.data, k, m.drop, nil)
					return nil
				})
				if !errors.Is(err, errdefs.ErrChanged) {
					t.Fatalf("%d parts: error %v, want one wrapping %v", k, err, errdefs.ErrChanged)
				}
			}
		})
	}
}

// TestReadGraphMappedDrops: a mapped document decoded in parts, each
// giving back the pages it passed (a graph of several times dropEvery),
// decodes as the same document in memory; its parts are large enough to
// be joined on several goroutines.
func TestReadGraphMappedDrops(t *testing.T) {
	doc := largeGraph(120000, 8)
	if len(doc) < 3*dropEvery {
		t.Fatalf("the test graph has %d bytes, not several times the %d dropped at once", len(doc), dropEvery)
	}
	want, ok := decodeParts(doc, 1, nil, nil)
	if !ok {
		t.Fatal("the fast decoder refuses the test graph")
	}
	m, _ := mapTemp(t, doc)
	for _, k := range []int{1, 2, 3} {
		var dropped atomic.Int64 // drop is called by every part's goroutine
		drop := func(b []byte) {
			dropped.Add(int64(len(b)))
			m.drop(b)
		}
		var got Graph
		if err := m.guard(func() error {
			got, ok = decodeParts(m.data, k, drop, nil)
			return nil
		}); err != nil || !ok {
			t.Fatalf("%d parts: %v, accepted %v", k, err, ok)
		}
		if dropped.Load() < int64(len(doc)/2) {
			t.Errorf("%d parts: %d of %d bytes dropped", k, dropped.Load(), len(doc))
		}
		if !sameNodes(got, want) {
			t.Fatalf("%d parts: the mapped document decodes as another graph", k)
		}
		checkInterned(t, got)
	}
}
