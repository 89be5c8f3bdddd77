package main

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"

	"dockertools.dev/imgkit/poll"
)

// autoLayer is nixpkgs' size-based layering (auto-layer.py, reference
// §6.4): it returns at most limit layers of nodes, each sorted by
// comparePathKey, ordered by closure size ascending.
//
// The largest remaining path (by narSize) becomes the next primary path P.
// Every path is labelled with a layer id, a set of primary paths; P gets
// {P}, and each dependency D of P (transitive, P excluded) gets
// id(D) − users(P), plus P when that no longer meets deps(P). Paths with
// equal ids share a layer. The first P that would make more than limit
// distinct ids is undone and ends the loop.
//
// Python re-labels every dependency with set arithmetic; here ids are
// interned, and since the new id of D depends only on its old id, each
// distinct old id is transformed once per round. In a DAG each primary
// path keeps its own id {P}, so there are at most limit+1 rounds; each
// costs two searches, O(N+M), and the closure sizes cost one search per
// layer: O(limit·(N+M)) overall. With reference cycles a round may add no
// layer and the bound is N rounds.
func autoLayer(g *graph, limit int, done <-chan struct{}) [][]int32 {
	n := g.len()
	if n == 0 {
		return nil
	}
	a := &labels{id: make([]int32, n), index: map[string]int32{}}
	a.intern(nil) // id 0, the empty set: every path starts in it
	a.count = []int32{int32(n)}
	a.distinct = 1

	bySize := make([]int32, n)
	for i := range bySize {
		bySize[i] = int32(i)
	}
	// Stable over path order, as Python's sorted() is over its input,
	// which Nix writes sorted by path (node order): among equal sizes the
	// path that sorts last is taken first. 1,000,000 paths take most of
	// a second to sort: the sort looks (imgkit/poll).
	if !sortBySize(g, bySize, done, "size order") {
		return nil
	}

	deps, users := newMarks(n), newMarks(n)
	memo := make([]int32, 0)
	for k := n - 1; k >= 0; k-- {
		// A round can visit the whole graph: each looks (imgkit/poll).
		if poll.Stopped(done, "size rounds") {
			return nil
		}
		p := bySize[k]
		ord := int32(len(a.primaries))
		a.primaries = append(a.primaries, p)
		depList := deps.reach(g.refs, p)
		users.reach(g.users, p)

		a.changes = a.changes[:0]
		a.set(p, a.intern([]int32{ord}))
		// Old ids all predate this round, so memo only needs their range.
		memo = slices.Grow(memo[:0], len(a.ids))[:len(a.ids)]
		for i := range memo {
			memo[i] = -1
		}
		for _, d := range depList {
			old := a.id[d]
			if memo[old] < 0 {
				memo[old] = a.transform(old, ord, deps, users)
			}
			a.set(d, memo[old])
		}
		if a.distinct > limit {
			a.undo()
			break
		}
	}
	return a.layers(g, done)
}

// labels is the current split: a layer id per node.
type labels struct {
	id        []int32
	ids       [][]int32 // id → its primary paths, as ordinals, ascending
	index     map[string]int32
	count     []int32 // id → number of nodes holding it
	distinct  int     // ids with a non-zero count
	primaries []int32 // ordinal → node
	changes   []change
	key       []byte // scratch for intern
}

type change struct{ node, old int32 }

// intern returns the id of a set of primary ordinals (ascending).
func (a *labels) intern(set []int32) int32 {
	a.key = a.key[:0]
	for _, o := range set {
		a.key = binary.LittleEndian.AppendUint32(a.key, uint32(o))
	}
	if id, ok := a.index[string(a.key)]; ok {
		return id
	}
	id := int32(len(a.ids))
	a.ids = append(a.ids, set)
	a.count = append(a.count, 0)
	a.index[string(a.key)] = id
	return id
}

// set relabels node x, keeping the counts.
func (a *labels) set(x, id int32) {
	old := a.id[x]
	if old == id {
		return
	}
	a.changes = append(a.changes, change{x, old})
	a.move(x, old, id)
}

func (a *labels) move(x, from, to int32) {
	a.id[x] = to
	if a.count[from]--; a.count[from] == 0 {
		a.distinct--
	}
	if a.count[to]++; a.count[to] == 1 {
		a.distinct++
	}
}

// undo reverts the changes of the current round.
func (a *labels) undo() {
	for i := len(a.changes) - 1; i >= 0; i-- {
		c := a.changes[i]
		a.move(c.node, a.id[c.node], c.old)
	}
	a.primaries = a.primaries[:len(a.primaries)-1]
}

// transform is the new id of a dependency of primary ord whose id was old:
// old − users(P), plus P if that has no primary among deps(P).
func (a *labels) transform(old, ord int32, deps, users *marks) int32 {
	var set []int32
	meets := false
	for _, o := range a.ids[old] {
		node := a.primaries[o]
		if users.has(node) {
			continue
		}
		set = append(set, o)
		meets = meets || deps.has(node)
	}
	if !meets {
		set = append(set, ord) // ord is the largest ordinal: still ascending
	}
	return a.intern(set)
}

// layers groups the nodes by id and orders the groups by closure size
// (the narSize sum of everything the layer's paths reach, themselves
// included), then, for equal sizes (where Python's order depends on its
// hash seed), by their first path in comparePathKey order. Layers are
// disjoint, so that order is total.
func (a *labels) layers(g *graph, done <-chan struct{}) [][]int32 {
	groups := make([][]int32, len(a.ids))
	for x, id := range a.id {
		groups[id] = append(groups[id], int32(x))
	}
	type layer struct {
		nodes   []int32
		closure [2]uint64 // 128 bits: a sum of at most 2^31 narSizes
	}
	var out []layer
	seen := newMarks(g.len())
	for _, nodes := range groups {
		if len(nodes) == 0 {
			continue
		}
		// A layer's closure can be the whole graph: each looks.
		if poll.Stopped(done, "size layers") {
			return nil
		}
		slices.SortFunc(nodes, func(x, y int32) int { return comparePathKey(g.paths[x], g.paths[y]) })
		var size [2]uint64
		for _, x := range seen.closure(g.refs, nodes) {
			var c uint64
			size[0], c = bits.Add64(size[0], g.sizes[x], 0)
			size[1] += c
		}
		out = append(out, layer{nodes, size})
	}
	slices.SortFunc(out, func(l, m layer) int {
		if c := cmp.Compare(l.closure[1], m.closure[1]); c != 0 {
			return c
		}
		if c := cmp.Compare(l.closure[0], m.closure[0]); c != 0 {
			return c
		}
		return comparePathKey(g.paths[l.nodes[0]], g.paths[m.nodes[0]])
	})
	res := make([][]int32, len(out))
	for i, l := range out {
		res[i] = l.nodes
	}
	return res
}

// marks is a reusable visited set: a node is marked when its stamp equals
// the current round's.
type marks struct {
	stamp []uint32
	round uint32
	list  []int32
}

func newMarks(n int) *marks { return &marks{stamp: make([]uint32, n)} }

func (m *marks) has(x int32) bool { return m.stamp[x] == m.round }

// reach marks and returns everything reachable from x along c, x excluded
// (even when a cycle leads back to it).
func (m *marks) reach(c csr, x int32) []int32 {
	m.closure(c, []int32{x})
	m.stamp[x] = m.round - 1
	return m.list[1:]
}

// closure marks and returns the given nodes and everything reachable from
// them along c.
func (m *marks) closure(c csr, from []int32) []int32 {
	m.round++
	m.list = m.list[:0]
	for _, x := range from {
		if m.stamp[x] != m.round {
			m.stamp[x] = m.round
			m.list = append(m.list, x)
		}
	}
	for k := 0; k < len(m.list); k++ {
		for _, y := range c.of(m.list[k]) {
			if m.stamp[y] != m.round {
				m.stamp[y] = m.round
				m.list = append(m.list, y)
			}
		}
	}
	return m.list
}

// sortBySize sorts nodes, given in node order, by narSize, stably (that
// is by size, then node number: a total order), looking as it goes
// (poll.SortFunc); false when done closed. The sizes are copied beside
// the nodes first, so that comparing does not read all over g.sizes:
// for 1,000,000 nodes of 50 distinct sizes this copy and sort took
// 0.41-0.66 s where slices.SortStableFunc looking sizes up took 0.67-0.84
// s, in the same three runs on a loaded machine.
func sortBySize(g *graph, nodes []int32, done <-chan struct{}, phase string) bool {
	type sized struct {
		size uint64
		x    int32
	}
	s := make([]sized, len(nodes))
	for i, x := range nodes {
		s[i] = sized{g.sizes[x], x}
	}
	if !poll.SortFunc(s, func(a, b sized) int { return cmp.Or(cmp.Compare(a.size, b.size), cmp.Compare(a.x, b.x)) }, done, phase) {
		return false
	}
	for i := range s {
		nodes[i] = s[i].x
	}
	return true
}
