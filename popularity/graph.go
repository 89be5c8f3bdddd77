package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/percore"

	"dockertools.dev/imgkit/poll"
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

// newGraph indexes a canonical, closed graph (as graphplan.ReadGraph
// returns). Cancelled (imgkit/poll), it returns ctx's error.
func newGraph(ctx context.Context, fg graphplan.Graph) (*graph, error) {
	done := ctx.Done()
	n := len(fg)
	edges := 0
	for _, p := range fg {
		edges += len(p.References)
	}
	if n >= math.MaxInt32 || edges >= math.MaxInt32 {
		return nil, fmt.Errorf("graph: %d paths and %d references are more than this tool handles: %w", n, edges, errdefs.ErrInvalidInput)
	}
	index := newPathIndex(fg, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := &graph{paths: make([]string, n), sizes: make([]uint64, n)}
	for i, p := range fg {
		g.paths[i], g.sizes[i] = p.Path, p.NarSize
	}
	// The references are looked up on all cores, each into its place in
	// a list with room for all of them (-1 for a self-reference), then
	// packed: the lookups were 0.8 of 1.2 s for 1,000,000 paths.
	at := make([]int32, n+1)
	for i, p := range fg {
		at[i+1] = at[i] + int32(len(p.References))
	}
	list := make([]int32, edges)
	// The first node with a reference to no node, or n.
	if i := percore.First(n, 1<<14, func(i int) bool {
		if i%poll.Every == 0 && poll.Stopped(done, "references") {
			return true // not looked up: the error below is ctx's
		}
		for k, r := range fg[i].References {
			j, ok := index.find(r)
			if !ok {
				return true
			}
			if j == int32(i) {
				j = -1
			}
			list[int(at[i])+k] = j
		}
		return false
	}); i < n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, r := range fg[i].References {
			if _, ok := index.find(r); !ok {
				return nil, fmt.Errorf("graph: %q references %q, which is not in the graph: %w", fg[i].Path, r, errdefs.ErrInvalidInput)
			}
		}
	}
	g.refs = csr{start: make([]int32, n+1), list: list[:0]}
	for i := range n {
		if i%poll.Every == 0 && poll.Stopped(done, "references") {
			return nil, ctx.Err()
		}
		for _, j := range list[at[i]:at[i+1]] {
			if j >= 0 {
				g.refs.list = append(g.refs.list, j) // never past what is read
			}
		}
		g.refs.start[i+1] = int32(len(g.refs.list))
	}
	g.users = transpose(g.refs, done)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

// pathIndex finds the node of a reference. graphplan.ReadGraph's fast decoder
// gives every reference the very string of the path it names (interned),
// so most lookups are by the string's address, which hashes and compares
// in a fraction of the time of its text: on 1,000,000 paths with 8,000,000
// references the map by text took 2.0 of popularity's 17 CPU seconds.
// The addresses are in a table of their own, open addressing with linear
// probing on a multiplicative hash: a map[uintptr]int32 took 1.4% of the
// tool's instructions on 100,000 uniform paths, this 0.6%.
// Strings from the other decoders fall back to a map by text, made once
// first needed. (A binary search in the sorted paths, as
// graphplan.Graph.Index does, costs several times more than either.)
type pathIndex struct {
	fg     graphplan.Graph
	byAddr []addrSlot // a power of two, at most half full; no pointers for the collector to scan
	shift  uint       // 64 − log2(len(byAddr))
	byText func() map[string]int32
}

// addrSlot is an entry of pathIndex.byAddr; addr 0 is an empty slot.
type addrSlot struct {
	addr uintptr
	node int32
}

func newPathIndex(fg graphplan.Graph, done <-chan struct{}) *pathIndex {
	x := &pathIndex{fg: fg, shift: 64 - 1}
	for 1<<(64-x.shift) < 2*len(fg) {
		x.shift--
	}
	x.byAddr = make([]addrSlot, 1<<(64-x.shift))
	for i, p := range fg {
		if i%poll.Every == 0 && poll.Stopped(done, "index") {
			return x
		}
		if a := addr(p.Path); a != 0 {
			*x.slot(a) = addrSlot{a, int32(i)} // a later path at the same address replaces the earlier
		}
	}
	x.byText = sync.OnceValue(func() map[string]int32 {
		m := make(map[string]int32, len(fg))
		for i, p := range fg {
			m[p.Path] = int32(i)
		}
		return m
	})
	return x
}

// addr is the address of a string's bytes; fg keeps them alive.
func addr(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }

// slot returns the slot of a: the one holding it, or the empty one where
// it goes.
func (x *pathIndex) slot(a uintptr) *addrSlot {
	mask := uint64(len(x.byAddr) - 1)
	for i := uint64(a) * 0x9e3779b97f4a7c15 >> x.shift; ; i = (i + 1) & mask {
		if s := &x.byAddr[i]; s.addr == a || s.addr == 0 {
			return s
		}
	}
}

// find returns the node of r; it is safe for concurrent use.
func (x *pathIndex) find(r string) (int32, bool) {
	// The same address and length is the same text.
	if a := addr(r); a != 0 {
		if s := x.slot(a); s.addr == a && len(x.fg[s.node].Path) == len(r) {
			return s.node, true
		}
	}
	j, ok := x.byText()[r]
	return j, ok
}

// transpose reverses the edges of c. Lists come out sorted because
// sources are visited in ascending order.
func transpose(c csr, done <-chan struct{}) csr {
	n := len(c.start) - 1
	t := csr{start: make([]int32, n+1), list: make([]int32, len(c.list))}
	for _, j := range c.list {
		t.start[j+1]++
	}
	for i := 1; i <= n; i++ {
		t.start[i] += t.start[i-1]
	}
	next := append([]int32(nil), t.start[:n]...)
	for i := int32(0); int(i) < n; i++ {
		if i%poll.Every == 0 && poll.Stopped(done, "transpose") {
			return t
		}
		for _, j := range c.of(i) {
			t.list[next[j]] = i
			next[j]++
		}
	}
	return t
}

func (g *graph) len() int { return len(g.paths) }
