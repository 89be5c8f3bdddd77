package graphplan

import (
	"bytes"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// addJSONSeeds adds every JSON file of the testscript fixtures (graphs,
// plans, configurations) and this package's own cases.
func addJSONSeeds(f *testing.F, add func(doc []byte)) {
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		add(fx.Data)
	}
	for _, s := range shapes {
		add([]byte(s.doc))
	}
	add([]byte(canonical))
}

// FuzzReadGraph: a graph ReadGraph accepts is canonical and closed: clean
// absolute paths, each once, sorted, every reference a node; writing it
// and reading it back gives the same graph, and writing that gives the
// same bytes. Whatever the fast decoder accepts, encoding/json reads the
// same, and the fast decoder in 2 to 4 parts gives what it gives in one.
// Anything refused is one line wrapping ErrInvalidInput.
func FuzzReadGraph(f *testing.F) {
	addJSONSeeds(f, func(doc []byte) {
		for _, key := range []string{"", "graph", "closure"} {
			f.Add(doc, key)
		}
	})
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		agree(t, string(data))
		for k := 2; k <= 4; k++ {
			samePieces(t, data, k)
		}
		g, err := ReadGraph(bytes.NewReader(data), key)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		checkCanonical(t, g)
		var out bytes.Buffer
		if err := WriteGraph(&out, g); err != nil {
			t.Fatal(err)
		}
		back, err := ReadGraph(bytes.NewReader(out.Bytes()), "")
		if err != nil {
			t.Fatalf("%q was read as\n%s\nwhich does not read back: %v", data, out.Bytes(), err)
		}
		if !reflect.DeepEqual(back, g) {
			t.Fatalf("%q: read back as %v, not %v", data, back, g)
		}
		var again bytes.Buffer
		WriteGraph(&again, back)
		if !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("%q: written as\n%s\nthen as\n%s", data, out.Bytes(), again.Bytes())
		}
	})
}

func checkCanonical(t *testing.T, g Graph) {
	t.Helper()
	for i, n := range g {
		if !path.IsAbs(n.Path) || path.Clean(n.Path) != n.Path {
			t.Fatalf("node %q is not a clean absolute path", n.Path)
		}
		if i > 0 && g[i-1].Path >= n.Path {
			t.Fatalf("nodes %q and %q are out of order or repeated", g[i-1].Path, n.Path)
		}
		if n.References == nil || !increasing(n.References, strings.Compare) {
			t.Fatalf("%q: references %q are not sorted and distinct", n.Path, n.References)
		}
		for _, r := range n.References {
			if _, ok := g.Index(r); !ok {
				t.Fatalf("%q references %q, which is not a node", n.Path, r)
			}
		}
	}
}

// FuzzReadPlan: a plan ReadPlan accepts has clean absolute paths, each in
// one layer only; writing it and reading it back gives the same layers,
// and writing that gives the same bytes. Anything refused is one line
// wrapping ErrInvalidInput.
func FuzzReadPlan(f *testing.F) {
	addJSONSeeds(f, func(doc []byte) { f.Add(doc) })
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPlan(bytes.NewReader(data))
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		seen := map[string]bool{}
		for _, layer := range p {
			for _, sp := range layer {
				if !path.IsAbs(sp) || path.Clean(sp) != sp || seen[sp] {
					t.Fatalf("%q: accepted %q, not clean and absolute, or twice", data, sp)
				}
				seen[sp] = true
			}
		}
		var out bytes.Buffer
		if err := WritePlan(&out, p); err != nil {
			t.Fatal(err)
		}
		back, err := ReadPlan(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("%q was written as\n%s\nwhich does not read back: %v", data, out.Bytes(), err)
		}
		if len(back) != len(p) {
			t.Fatalf("%q: %d layers read back as %d", data, len(p), len(back))
		}
		for i := range p {
			if !slices.Equal(back[i], p[i]) {
				t.Fatalf("%q: layer %d %q read back as %q", data, i, p[i], back[i])
			}
		}
		var again bytes.Buffer
		WritePlan(&again, back)
		if !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("%q: written as\n%s\nthen as\n%s", data, out.Bytes(), again.Bytes())
		}
	})
}
