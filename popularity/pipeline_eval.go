package main

import (
	"context"
	"slices"

	"dockertools.dev/imgkit/graphplan"
)

// value is what flows between the steps of a pipeline: a graph (its
// vertices in order), a list, or a dict of main, common and rest.
type value struct {
	nodes []int32
	list  []*value
	parts [nParts]*value
	shape shape
	// pyList: a list Python holds as a list (split_every's), which +
	// concatenates; the other functions make iterators, which + refuses.
	pyList bool
}

type shape int8

const (
	aGraph shape = iota
	aList
	aDict
)

func graphValue(nodes []int32) *value { return &value{nodes: nodes} }

// evaluator runs a pipeline on a graph as nixpkgs' igraph code does
// (reference §6.3). A graph value is a list of nodes of g; its edges are
// those of g between its nodes, less the edges igraph would have lost:
//
//   - merging graphs (limit_layers) is a disjoint union: no edge joins two
//     of the merged graphs. Each node carries a component number, and an
//     edge only joins nodes of one component;
//   - split_paths deletes the edges into the paths it splits off, and
//     keeps that graph for its main part: those nodes are marked cut, and
//     no edge leads into a cut node.
//
// No node is ever in two live values (no function copies one), so these
// marks are kept per node, not per value.
type evaluator struct {
	g         *graph
	ctx       context.Context
	component []int64
	cut       []bool
	mark      []uint8 // per-operation marks, cleared before it returns
	local     []int32 // induce: a node's number in the graph it builds
	next      int64   // the next unused component number
	queue     []int32
}

// Marks of one operation.
const (
	inGraph uint8 = 1 << iota
	inSplit       // split_paths: a path split off
	inDeps        // split_paths: reached from the split paths; subcomponent: reached
	inRest        // split_paths: reached from the roots without passing a split path
	gone          // remove_paths
)

// runPipeline applies steps to the graph g less the excluded nodes, and
// returns the layers: the result flattened (dict values in the order
// main, common, rest), one layer per graph, empty graphs left out.
func runPipeline(ctx context.Context, g *graph, excluded []bool, steps []*step) (graphplan.Plan, error) {
	n := g.len()
	e := &evaluator{g: g, ctx: ctx, component: make([]int64, n), cut: make([]bool, n), mark: make([]uint8, n), next: 1}
	// nixpkgs' graph preparation: the excluded paths and the references
	// to them removed, the rest ordered by narSize, stably over Nix's
	// order (by path, which is node order).
	nodes := make([]int32, 0, n)
	for x := range int32(n) {
		if !excluded[x] {
			nodes = append(nodes, x)
		}
	}
	if !sortBySize(g, nodes, ctx.Done(), "pipeline order") {
		return nil, ctx.Err()
	}
	v, err := e.pipe(steps, graphValue(nodes))
	if err != nil {
		return nil, err
	}
	var plan graphplan.Plan
	for _, layer := range flatten(v, nil) {
		if len(layer.nodes) > 0 {
			paths := make([]string, len(layer.nodes))
			for i, x := range layer.nodes {
				paths[i] = g.paths[x]
			}
			plan = append(plan, paths)
		}
	}
	return plan, nil
}

func (e *evaluator) pipe(steps []*step, v *value) (*value, error) {
	for _, s := range steps {
		var err error
		if v, err = e.apply(s, v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// apply runs one step. The kinds were checked with the pipeline, so each
// function gets the kind of value it takes.
func (e *evaluator) apply(s *step, v *value) (*value, error) {
	if err := e.ctx.Err(); err != nil {
		return nil, err
	}
	switch s.fn {
	case fnPopularity:
		ranked, err := e.popularityContest(v.nodes)
		if err != nil {
			return nil, err
		}
		if err := e.ctx.Err(); err != nil {
			return nil, err // a cancelled ranking is incomplete
		}
		return ranked, nil
	case fnLimitLayers:
		return e.limitLayers(s, v.list)
	case fnSplitEvery:
		return splitEvery(s.n, v.nodes), nil
	case fnSubcomponentOut:
		return e.subcomponent(s.paths, v.nodes, false), nil
	case fnSubcomponentIn:
		return e.subcomponent(s.paths, v.nodes, true), nil
	case fnSplitPaths:
		return e.splitPaths(s.split, v.nodes), nil
	case fnRemovePaths:
		return e.removePaths(s.paths, v.nodes), nil
	case fnReverse:
		out := slices.Clone(v.list)
		slices.Reverse(out)
		return &value{list: out, shape: aList}, nil
	case fnFlatten:
		return &value{list: flatten(v, []*value{}), shape: aList}, nil
	case fnMap:
		out := &value{list: make([]*value, len(v.list)), shape: aList}
		for i, item := range v.list {
			var err error
			if out.list[i], err = e.apply(s.steps[0], item); err != nil {
				return nil, err
			}
		}
		return out, nil
	case fnOver:
		// Python's over fails on a missing key; split_paths leaves out
		// the parts that come out empty, so over "common" after it would
		// fail on some graphs only. Here there is nothing to apply the
		// step to, and the dict is kept as it is.
		if v.parts[s.key] == nil {
			return v, nil
		}
		inner, err := e.apply(s.steps[0], v.parts[s.key])
		if err != nil {
			return nil, err
		}
		out := *v
		out.parts[s.key] = inner
		return &out, nil
	case fnPipe:
		return e.pipe(s.steps, v)
	}
	panic("unreachable")
}

// flatten appends the graphs of v to out, depth first, dict values in the
// order main, common, rest. A graph alone is a list of one graph.
func flatten(v *value, out []*value) []*value {
	switch v.shape {
	case aList:
		for _, item := range v.list {
			out = flatten(item, out)
		}
	case aDict:
		for _, p := range v.parts {
			if p != nil {
				out = flatten(p, out)
			}
		}
	default:
		out = append(out, v)
	}
	return out
}

// only returns a dict holding one part.
func only(p part, nodes []int32) *value {
	d := &value{shape: aDict}
	d.parts[p] = graphValue(nodes)
	return d
}

// setMarks sets bit on nodes; clearMarks clears every mark of nodes.
func (e *evaluator) setMarks(nodes []int32, bit uint8) {
	for _, x := range nodes {
		e.mark[x] |= bit
	}
}

func (e *evaluator) clearMarks(nodes []int32) {
	for _, x := range nodes {
		e.mark[x] = 0
	}
}

// edge reports whether the graph being worked on (the nodes marked
// inGraph) has the edge from u to its reference v.
func (e *evaluator) edge(u, v int32) bool {
	return e.mark[u]&e.mark[v]&inGraph != 0 && e.component[u] == e.component[v] && !e.cut[v]
}

// lookup returns the node of path p when it is in the graph being worked on.
func (e *evaluator) lookup(p string) (int32, bool) {
	i, ok := slices.BinarySearch(e.g.paths, p)
	if !ok || e.mark[i]&inGraph == 0 {
		return 0, false
	}
	return int32(i), true
}

// reach marks with bit every node reachable from the nodes of from (them
// included) along references (or, with up, along referrers), not
// entering nodes marked avoid.
func (e *evaluator) reach(from []int32, up bool, bit, avoid uint8) {
	q := e.queue[:0]
	for _, x := range from {
		if e.mark[x]&(bit|avoid) == 0 {
			e.mark[x] |= bit
			q = append(q, x)
		}
	}
	for k := 0; k < len(q); k++ {
		x := q[k]
		if up {
			for _, u := range e.g.users.of(x) {
				if e.mark[u]&(bit|avoid) == 0 && e.edge(u, x) {
					e.mark[u] |= bit
					q = append(q, u)
				}
			}
			continue
		}
		for _, c := range e.g.refs.of(x) {
			if e.mark[c]&(bit|avoid) == 0 && e.edge(x, c) {
				e.mark[c] |= bit
				q = append(q, c)
			}
		}
	}
	e.queue = q
}

// pick returns the nodes, in order, whose marks satisfy ok.
func (e *evaluator) pick(nodes []int32, ok func(m uint8) bool) []int32 {
	var out []int32
	for _, x := range nodes {
		if ok(e.mark[x]) {
			out = append(out, x)
		}
	}
	return out
}

// popularityContest is nixpkgs' popularity_contest: a list of one-node
// graphs in the order of referencesByPopularity (§6.1) over the graph's
// own edges, computed by the popularity strategy's ranking.
func (e *evaluator) popularityContest(nodes []int32) (*value, error) {
	if len(nodes) <= 1 { // a path alone is its own order
		one := splitEvery(1, nodes)
		one.pyList = false // Python's is a map object
		return one, nil
	}
	sub, back := e.induce(nodes)
	r, err := rank(e.ctx, sub, 0)
	if err != nil {
		return nil, err
	}
	out := &value{list: make([]*value, len(r.order)), shape: aList}
	for i, x := range r.order {
		out.list[i] = graphValue([]int32{back[x]})
	}
	return out, nil
}

// induce returns the graph value nodes as a graph of its own, and the
// node of g for each of its nodes. The whole of g, unchanged, is g itself.
func (e *evaluator) induce(nodes []int32) (*graph, []int32) {
	sorted := slices.Clone(nodes)
	slices.Sort(sorted) // so that node order stays path order
	whole := len(sorted) == e.g.len()
	for _, x := range sorted {
		whole = whole && !e.cut[x] && e.component[x] == e.component[sorted[0]]
	}
	if whole {
		return e.g, sorted
	}
	e.setMarks(sorted, inGraph)
	defer e.clearMarks(sorted)
	if e.local == nil {
		e.local = make([]int32, e.g.len())
	}
	local := e.local // read only at nodes of sorted, which are set here
	for i, x := range sorted {
		local[x] = int32(i)
	}
	sub := &graph{paths: make([]string, len(sorted)), sizes: make([]uint64, len(sorted))}
	sub.refs.start = make([]int32, len(sorted)+1)
	for i, x := range sorted {
		sub.paths[i], sub.sizes[i] = e.g.paths[x], e.g.sizes[x]
		for _, c := range e.g.refs.of(x) {
			if e.edge(x, c) {
				sub.refs.list = append(sub.refs.list, local[c])
			}
		}
		sub.refs.start[i+1] = int32(len(sub.refs.list))
	}
	sub.users = transpose(sub.refs, e.ctx.Done()) // rank, next, sees ctx's error
	return sub, sorted
}

// limitLayers is nixpkgs' limit_layers: the first n−1 items as they are,
// then one graph of all the rest, empty when there is none: nixpkgs'
// merge_graphs (lib.py in pkgs/by-name/fl/flatten-references-graph,
// commit 72a5559) adds them with + to an empty graph. The output leaves
// an empty graph out, but a later reverse or limit_layers counts it.
// igraph's + of a graph and a list of graphs is their disjoint union, so
// the lists split_every makes are merged into the graph too; the lists
// the other functions make are iterators in Python, which + cannot add:
// nixpkgs fails there, and so does this.
func (e *evaluator) limitLayers(s *step, items []*value) (*value, error) {
	head := items[:min(s.n-1, len(items))]
	out := &value{list: slices.Clone(head), shape: aList}
	var merged []int32
	for _, item := range items[len(head):] {
		graphs := []*value{item}
		if item.shape == aList {
			if !item.pyList {
				return nil, s.errorf("merges a list that nixpkgs' Python holds as an iterator, which it cannot add (+) to a graph: only split_every's lists are")
			}
			graphs = item.list
		}
		for _, g := range graphs {
			e.renumber(g.nodes)
			merged = append(merged, g.nodes...)
		}
	}
	out.list = append(out.list, graphValue(merged))
	return out, nil
}

// renumber gives the components of nodes new numbers, unused so far: a
// graph merged with others keeps its own edges and gains none.
func (e *evaluator) renumber(nodes []int32) {
	if len(nodes) == 0 {
		return
	}
	first := e.component[nodes[0]]
	if !slices.ContainsFunc(nodes, func(x int32) bool { return e.component[x] != first }) {
		for _, x := range nodes { // the common case: one component
			e.component[x] = e.next
		}
		e.next++
		return
	}
	renamed := map[int64]int64{}
	for _, x := range nodes {
		c, ok := renamed[e.component[x]]
		if !ok {
			c = e.next
			e.next++
			renamed[e.component[x]] = c
		}
		e.component[x] = c
	}
}

// splitEvery is nixpkgs' split_every: the nodes in chunks of n, in order.
func splitEvery(n int, nodes []int32) *value {
	out := &value{shape: aList, list: []*value{}, pyList: true}
	for len(nodes) > 0 {
		k := min(n, len(nodes))
		out.list = append(out.list, graphValue(nodes[:k:k]))
		nodes = nodes[k:]
	}
	return out
}

// subcomponent is nixpkgs' subcomponent_out (up false) and
// subcomponent_in (up true): main holds the paths and everything they
// reference (or that references them), directly or not; rest the others.
// Both are there even when empty; paths not in the graph are ignored.
func (e *evaluator) subcomponent(paths []string, nodes []int32, up bool) *value {
	e.setMarks(nodes, inGraph)
	defer e.clearMarks(nodes)
	var from []int32
	for _, p := range paths {
		if x, ok := e.lookup(p); ok {
			from = append(from, x)
		}
	}
	e.reach(from, up, inDeps, 0)
	main := e.pick(nodes, func(m uint8) bool { return m&inDeps != 0 })
	rest := e.pick(nodes, func(m uint8) bool { return m&inDeps == 0 })
	d := only(partMain, main)
	d.parts[partRest] = graphValue(rest)
	return d
}

// removePaths is nixpkgs' remove_paths: the graph without those paths.
func (e *evaluator) removePaths(paths []string, nodes []int32) *value {
	e.setMarks(nodes, inGraph)
	defer e.clearMarks(nodes)
	for _, p := range paths {
		if x, ok := e.lookup(p); ok {
			e.mark[x] |= gone
		}
	}
	return graphValue(e.pick(nodes, func(m uint8) bool { return m&gone == 0 }))
}

// splitPaths is nixpkgs' split_paths. S is the split paths (a path, or
// with children_of the paths it references) that are in the graph:
//
//   - no such path: {rest: the graph};
//   - the graph's only root (a node nothing references) is one: {main:
//     the graph};
//   - else D is S and everything it reaches, R everything the roots reach
//     without passing through S; main is D − R, common D ∩ R, rest the
//     other nodes, each left out when empty. The edges into S are deleted,
//     as nixpkgs deletes them in the graph main is taken from.
//
// nixpkgs' rest is R − D: a node no root reaches (only a cycle of
// references leads to it, which Nix never makes) is in no part and
// missing from the image. Here it is in rest.
func (e *evaluator) splitPaths(args []splitArg, nodes []int32) *value {
	e.setMarks(nodes, inGraph)
	defer e.clearMarks(nodes)
	var split []int32
	add := func(x int32) {
		if e.mark[x]&inSplit == 0 {
			e.mark[x] |= inSplit
			split = append(split, x)
		}
	}
	for _, a := range args {
		x, ok := e.lookup(a.path)
		switch {
		case !ok:
		case a.children:
			for _, c := range e.g.refs.of(x) {
				if e.edge(x, c) {
					add(c)
				}
			}
		default:
			add(x)
		}
	}
	if len(split) == 0 {
		return only(partRest, nodes)
	}
	var roots []int32
	for _, x := range nodes {
		if !slices.ContainsFunc(e.g.users.of(x), func(u int32) bool { return e.edge(u, x) }) {
			roots = append(roots, x)
		}
	}
	if len(roots) == 1 && e.mark[roots[0]]&inSplit != 0 {
		return only(partMain, nodes)
	}
	e.reach(split, false, inDeps, 0)
	e.reach(roots, false, inRest, inSplit)
	for _, x := range split {
		e.cut[x] = true
	}
	const both = inDeps | inRest
	d := &value{shape: aDict}
	for p, part := range [nParts][]int32{
		partMain:   e.pick(nodes, func(m uint8) bool { return m&both == inDeps }),
		partCommon: e.pick(nodes, func(m uint8) bool { return m&both == both }),
		partRest:   e.pick(nodes, func(m uint8) bool { return m&inDeps == 0 }),
	} {
		if len(part) > 0 {
			d.parts[p] = graphValue(part)
		}
	}
	return d
}
