package main

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/graphplan"
)

// TestNewGraphReferencesByText: references that are copies of the paths'
// text (as encoding/json decodes them) index the same nodes as references
// that are the paths' own strings (as the fast decoder interns them), and a
// reference whose address and length match no path still reads by text.
func TestNewGraphReferencesByText(t *testing.T) {
	g := randomDAG(t, rand.New(rand.NewPCG(11, 11)), 60, 0.1)
	shared := make(graphplan.Graph, g.len())
	copied := make(graphplan.Graph, g.len())
	for i := range shared {
		var refs, copies []string
		for _, j := range g.refs.of(int32(i)) {
			refs = append(refs, g.paths[j])
			copies = append(copies, strings.Clone(g.paths[j]))
		}
		shared[i] = graphplan.PathInfo{Path: g.paths[i], NarSize: g.sizes[i], References: refs}
		copied[i] = graphplan.PathInfo{Path: g.paths[i], NarSize: g.sizes[i], References: copies}
	}
	a, err := newGraph(shared)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newGraph(copied)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.refs.list, b.refs.list) || !slices.Equal(a.refs.start, b.refs.start) || !slices.Equal(a.refs.list, g.refs.list) {
		t.Fatalf("references by text %v, by address %v, want %v", b.refs.list, a.refs.list, g.refs.list)
	}
	// A prefix of a path shares its address, not its length.
	bad := slices.Clone(shared)
	bad[0].References = []string{bad[1].Path[:len(bad[1].Path)-1]}
	if _, err := newGraph(bad); err == nil || !strings.Contains(err.Error(), "not in the graph") {
		t.Fatalf("a reference to a prefix of a path: %v, want not in the graph", err)
	}
}
