package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
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
	a, err := newGraph(context.Background(), shared)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newGraph(context.Background(), copied)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.refs.list, b.refs.list) || !slices.Equal(a.refs.start, b.refs.start) || !slices.Equal(a.refs.list, g.refs.list) {
		t.Fatalf("references by text %v, by address %v, want %v", b.refs.list, a.refs.list, g.refs.list)
	}
	// A prefix of a path shares its address, not its length.
	bad := slices.Clone(shared)
	bad[0].References = []string{bad[1].Path[:len(bad[1].Path)-1]}
	if _, err := newGraph(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "not in the graph") {
		t.Fatalf("a reference to a prefix of a path: %v, want not in the graph", err)
	}
}

// TestNewGraphOnAllCores: a graph large enough to be indexed by several
// goroutines, read by graphplan (interned references) and with copied
// references, gives the adjacency a direct construction gives (self-
// references dropped, lists sorted); a reference to no node is reported
// for the first node in order that has one, whichever goroutine finds it.
func TestNewGraphOnAllCores(t *testing.T) {
	fg, err := storegen.RandomGraph(storegen.GraphSpec{Seed: 3, Paths: 50000, Refs: 8, SelfRefs: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	if err := graphplan.WriteGraph(&doc, fg); err != nil {
		t.Fatal(err)
	}
	read, err := graphplan.ReadGraph(&doc, "")
	if err != nil {
		t.Fatal(err)
	}
	node := map[string]int32{}
	for i, p := range read {
		node[p.Path] = int32(i)
	}
	var want csr
	want.start = []int32{0}
	for i, p := range read {
		for _, r := range p.References {
			if node[r] != int32(i) {
				want.list = append(want.list, node[r])
			}
		}
		want.start = append(want.start, int32(len(want.list)))
	}
	copied := slices.Clone(read)
	for i := range copied {
		copied[i].References = slices.Clone(copied[i].References)
		for k, r := range copied[i].References {
			copied[i].References[k] = strings.Clone(r)
		}
	}
	for name, fg := range map[string]graphplan.Graph{"Interned": read, "Copied": copied} {
		g, err := newGraph(context.Background(), fg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(g.refs.start, want.start) || !slices.Equal(g.refs.list, want.list) {
			t.Fatalf("%s: the references are not the graph's", name)
		}
	}
	bad := slices.Clone(read)
	for _, i := range []int{len(bad) - 1, len(bad) / 2, 7} {
		bad[i].References = append(slices.Clone(bad[i].References), "/nix/store/nowhere")
	}
	_, err = newGraph(context.Background(), bad)
	if want := fmt.Sprintf("graph: %q references %q", bad[7].Path, "/nix/store/nowhere"); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v, want %s…", err, want)
	}
}

// TestPathIndex: a reference is found by its string's address when that
// is a path's (and of the same length), else by its text; a string at a
// path's address but shorter is that shorter text, not the path.
func TestPathIndex(t *testing.T) {
	var fg graphplan.Graph
	for i := range 3000 { // enough for the table's probes to run on
		fg = append(fg, graphplan.PathInfo{Path: fmt.Sprintf("/s/%06d-p", i)})
	}
	fg = append(fg, graphplan.PathInfo{Path: "/s/000007"}) // a prefix of path 7, at its address below
	fg[3000].Path = fg[7].Path[:len("/s/000007")]
	slices.SortFunc(fg, func(a, b graphplan.PathInfo) int { return strings.Compare(a.Path, b.Path) })
	x := newPathIndex(fg, nil)
	for i, p := range fg {
		for _, r := range []string{p.Path, strings.Clone(p.Path)} {
			if j, ok := x.find(r); !ok || int(j) != i {
				t.Fatalf("find(%q) = %d, %v; want %d", r, j, ok, i)
			}
		}
	}
	for _, r := range []string{"/s/000007-", fg[0].Path[:2], "/s/x"} {
		if j, ok := x.find(r); ok {
			t.Errorf("find(%q) = %d, want none", r, j)
		}
	}
}
