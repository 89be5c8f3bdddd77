package main

import (
	"context"
	"fmt"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/storefs"
)

// viaGraph takes the closure from a graph Nix wrote (--graph), the way a
// Nix build knows its inputs: the store paths' references come from the
// graph, never from their files, and an extra root is scanned for the
// hashes of the graph's paths only, as Nix scans a build's output for the
// hashes of its inputs.
func (c *command) viaGraph(ctx context.Context, o *cli.IO, st *store, names, extras []string) (graphplan.Graph, error) {
	f, err := o.Open(c.Graph)
	if err != nil {
		return nil, fileErr("reading the graph", c.Graph, err)
	}
	g, err := graphplan.ReadGraphContext(ctx, f, c.Key)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("--graph %q: %w", c.Graph, err)
	}
	known := make([]string, len(g))
	for i, n := range g {
		name, err := storefs.PathName(st.dir, n.Path)
		if err != nil {
			return nil, fmt.Errorf("--graph %q: %q is not a store path of %q: %w", c.Graph, n.Path, st.dir, errdefs.ErrInvalidInput)
		}
		known[i] = name
	}
	var roots []string
	for _, name := range names {
		if _, ok := g.Index(st.path(name)); !ok {
			return nil, fmt.Errorf("store path %q: not in the graph %q: %w", st.path(name), c.Graph, errdefs.ErrNotFound)
		}
		roots = append(roots, st.path(name))
	}
	var extraNodes graphplan.Graph
	if len(extras) > 0 {
		sc := newScanner(st, newCandidates(known), false, c.scanJobs(o))
		for _, e := range extras {
			if err := sc.addExtra(e); err != nil {
				return nil, err
			}
		}
		if err := sc.run(ctx); err != nil {
			return nil, err
		}
		extraNodes = sc.graph()
		for _, n := range extraNodes {
			roots = append(roots, n.References...)
		}
	}
	o.Debugf("using the graph %q: %d store paths, %d roots", c.Graph, len(g), len(roots))
	return append(closureOf(g, roots), extraNodes...), nil
}

// closureOf returns the nodes of g that roots reach, roots included (every
// root is a node of g, and g is closed).
func closureOf(g graphplan.Graph, roots []string) graphplan.Graph {
	seen := make([]bool, len(g))
	var out graphplan.Graph
	for len(roots) > 0 {
		p := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		i, _ := g.Index(p)
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, g[i])
		roots = append(roots, g[i].References...)
	}
	return out
}
