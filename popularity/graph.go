package main

import (
	"fmt"
	"math"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
)

// graph is a closure graph as integer adjacency lists, the shape both
// strategies work on. Node i is the i-th node of the canonical
// graphplan.Graph, so node order is path order. Self-references are dropped:
// they never make a cycle and neither strategy gives them a meaning.
type graph struct {
	paths []string
	sizes []uint64
	refs  csr // what each node references
	users csr // what references each node
}

// csr is a compressed adjacency list: the neighbours of node i are
// list[start[i]:start[i+1]], sorted ascending.
type csr struct {
	start []int32
	list  []int32
}

func (c csr) of(i int32) []int32 { return c.list[c.start[i]:c.start[i+1]] }

// newGraph indexes a canonical, closed graph (as graphplan.ReadGraph returns).
func newGraph(fg graphplan.Graph) (*graph, error) {
	n := len(fg)
	edges := 0
	for _, p := range fg {
		edges += len(p.References)
	}
	if n >= math.MaxInt32 || edges >= math.MaxInt32 {
		return nil, fmt.Errorf("graph: %d paths and %d references are more than this tool handles: %w", n, edges, errdefs.ErrInvalidInput)
	}
	// A map, not graphplan.Graph.Index: a binary search per reference costs
	// several times more on large graphs.
	index := make(map[string]int32, n)
	for i, p := range fg {
		index[p.Path] = int32(i)
	}
	g := &graph{paths: make([]string, n), sizes: make([]uint64, n)}
	g.refs = csr{start: make([]int32, n+1), list: make([]int32, 0, edges)}
	indegree := make([]int32, n+1)
	for i, p := range fg {
		g.paths[i], g.sizes[i] = p.Path, p.NarSize
		for _, r := range p.References {
			j, ok := index[r]
			if !ok {
				return nil, fmt.Errorf("graph: %q references %q, which is not in the graph: %w", p.Path, r, errdefs.ErrInvalidInput)
			}
			if j != int32(i) {
				g.refs.list = append(g.refs.list, j)
				indegree[j+1]++
			}
		}
		g.refs.start[i+1] = int32(len(g.refs.list))
	}
	g.users = transpose(g.refs, indegree)
	return g, nil
}

// transpose reverses the edges of c; counts[j+1] is the in-degree of j.
// Lists come out sorted because sources are visited in ascending order.
func transpose(c csr, counts []int32) csr {
	n := len(c.start) - 1
	t := csr{start: counts, list: make([]int32, len(c.list))}
	for i := 1; i <= n; i++ {
		t.start[i] += t.start[i-1]
	}
	next := append([]int32(nil), t.start[:n]...)
	for i := int32(0); int(i) < n; i++ {
		for _, j := range c.of(i) {
			t.list[next[j]] = i
			next[j]++
		}
	}
	return t
}

func (g *graph) len() int { return len(g.paths) }
