package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"slices"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/oci"
)

type command struct {
	cli.Common
	Max        int      `default:"100" placeholder:"N" help:"Total number of layers of the image, base layers, store layers and the customisation layer (default 100)."`
	BaseLayers int      `name:"base-layers" default:"0" placeholder:"K" help:"Number of base-image layers that count against --max (default 0)."`
	Exclude    []string `placeholder:"PATH" sep:"none" help:"Rank with this node of the graph, then leave it out of the output (repeatable; with --pipeline it is removed first, as nixpkgs' exclude_paths): the non-store roots closure-scan adds with --extra-root."`
	Strategy   string   `enum:"popularity,size" default:"popularity" help:"How to split: popularity (nixpkgs' classic referencesByPopularity) or size (nixpkgs' newest default, auto-layer)."`
	List       bool     `help:"Print the paths one per line in the strategy's order instead of a layer plan."`
	Key        string   `placeholder:"KEY" help:"The member of a structured-attrs object that holds the graph; by default its only array member."`
	Pipeline   string   `placeholder:"FILE|JSON" help:"Split by nixpkgs' layering pipeline (layeringPipeline), given as JSON (a value starting with [) or in a file; --max is then ignored."`
	Graph      string   `arg:"" optional:"" default:"-" placeholder:"GRAPH" help:"The closure graph file; - (the default) is stdin."`
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	if c.Pipeline != "" {
		return c.runPipeline(ctx, o)
	}
	available := c.Max - 1 - c.BaseLayers
	g, excluded, err := c.input(ctx, o)
	if err != nil {
		return err
	}
	var plan graphplan.Plan
	switch c.Strategy {
	case "size":
		layers := autoLayer(g, available, ctx.Done())
		if err := ctx.Err(); err != nil {
			return err // the layers are incomplete
		}
		for _, layer := range layers {
			if paths := pathsOf(g, layer, excluded); len(paths) > 0 {
				plan = append(plan, paths)
			}
		}
	default:
		r, err := rank(ctx, g, 0)
		if err != nil {
			return err
		}
		o.Debugf("ranked %d of %d paths; popularity counts take %d bits", r.ranked, g.len(), 64*r.w)
		if r.big > 0 {
			o.Debugf("%d paths have at least 2^64/%d reference paths from the roots (the rest: popularities below 2^64, from one-word sums)", r.big, r.ranked)
		}
		if rest := g.len() - r.ranked; rest > 0 {
			o.Debugf("%d paths are on or below a reference cycle, or no root reaches them: appended unranked, in name order", rest)
		}
		order := pathsOf(g, r.order, excluded)
		if c.List {
			plan = graphplan.Plan{order}
		} else {
			plan = splitClassic(order, available)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.List {
		o.Debugf("%d store layers of %d available", len(plan), available)
	}
	if err := c.write(o.Stdout, plan); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// Validate checks the flags on their own, before any input is read: the
// store layers available, --max less the customisation layer and the base
// layers (reference §3.2 step 4), are at least one, and --max is within
// what runtimes accept. The base layers must leave a store layer and the
// customisation layer room under the runtime limit, with --pipeline too,
// which makes the layers itself (--max is ignored, as nixpkgs ignores
// maxLayers): no --strategy size with it.
func (c *command) Validate() error {
	if c.BaseLayers < 0 {
		return cli.Usagef("--base-layers %d: must not be negative", c.BaseLayers)
	}
	// Said before --max's advice below, which would name a --max past
	// the limit.
	if c.BaseLayers > oci.RuntimeLayerLimit-2 {
		return cli.Usagef("--base-layers %d leaves no layer for store paths under the %d layers runtimes accept (with the customisation layer)",
			c.BaseLayers, oci.RuntimeLayerLimit)
	}
	if c.Pipeline != "" {
		if c.Strategy == "size" {
			return cli.Usagef("--pipeline and --strategy size exclude each other: the pipeline makes the layers")
		}
		return nil
	}
	// More than runtimes accept is refused as manifest-gen refuses it:
	// such a plan is never loaded, and the size strategy's work grows
	// with the layers allowed (a round per layer).
	if c.Max > oci.RuntimeLayerLimit {
		return cli.Usagef("--max %d: runtimes refuse images of more than %d layers", c.Max, oci.RuntimeLayerLimit)
	}
	if c.Max < 2 || c.BaseLayers > c.Max-2 {
		return cli.Usagef("--max %d leaves no layer for store paths (%d total − 1 customisation layer − %d base layers); use --max %d or more",
			c.Max, c.Max, c.BaseLayers, c.BaseLayers+2)
	}
	return nil
}

// input reads the graph and marks the --exclude nodes in it.
func (c *command) input(ctx context.Context, o *cli.IO) (*graph, []bool, error) {
	g, err := c.read(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	excluded, err := c.excluded(g)
	if err != nil {
		return nil, nil, err
	}
	return g, excluded, nil
}

func (c *command) read(ctx context.Context, o *cli.IO) (*graph, error) {
	in, err := o.Open(c.Graph)
	if err != nil {
		return nil, fmt.Errorf("reading graph: %w", err)
	}
	defer in.Close()
	// A regular file is mapped, not read (graphplan.ReadGraph), and then
	// what the reading and indexing allocate stays live until the end of
	// this function, all but a few grown slices: a collection while it
	// grows would only scan it again (0.7 of 20 CPU seconds for 1,000,000
	// paths). FreeOSMemory below collects. (From a pipe, the document's
	// buffer grows, and what it outgrows must be collected.) A crafted
	// document could still make garbage, so a memory limit of twice the
	// file (at least 1 GiB) has the collector run past it.
	gc := debug.SetGCPercent(-1)
	if size, ok := regular(in); ok {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(max(1<<30, 2*size)))
	} else {
		debug.SetGCPercent(gc)
	}
	defer debug.SetGCPercent(gc)
	fg, err := graphplan.ReadGraphContext(ctx, in, c.Key)
	if err != nil {
		if c.Graph != "-" {
			return nil, fmt.Errorf("%s: %w", c.Graph, err)
		}
		return nil, err
	}
	g, err := newGraph(ctx, fg)
	if err != nil {
		return nil, err
	}
	o.Debugf("read %d paths with %d references", g.len(), len(g.refs.list))
	// The decoded graph (350 MB for 1,000,000 paths), and the document
	// when it was read rather than mapped (600 MB), are garbage now: hand
	// them back before the counting allocates, or the heap grows past
	// their sum before the collector runs (measured peak RSS 1.6 GB
	// without, for 1,000,000 paths read).
	fg = nil
	debug.SetGCPercent(gc)
	debug.FreeOSMemory()
	return g, nil
}

// regular reports whether r is a regular file, and its size.
func regular(r io.Reader) (int64, bool) {
	f, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return 0, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// excluded marks the --exclude nodes. Matching is exact (nixpkgs' grep -v
// matches substrings); a path that is not in the graph is an error, since
// it would most likely leave a real root in the plan.
func (c *command) excluded(g *graph) ([]bool, error) {
	ex := make([]bool, g.len())
	for _, p := range c.Exclude {
		i, ok := slices.BinarySearch(g.paths, p) // paths are sorted
		if !ok {
			return nil, fmt.Errorf("--exclude %q: no such path in the graph: %w", p, errdefs.ErrNotFound)
		}
		ex[i] = true
	}
	return ex, nil
}

func pathsOf(g *graph, nodes []int32, excluded []bool) []string {
	out := make([]string, 0, len(nodes))
	for _, x := range nodes {
		if !excluded[x] {
			out = append(out, g.paths[x])
		}
	}
	return out
}

// write prints the plan, or with --list its paths one per line.
func (c *command) write(w io.Writer, plan graphplan.Plan) error {
	if !c.List {
		return graphplan.WritePlan(w, plan)
	}
	bw := bufio.NewWriter(w)
	for _, layer := range plan {
		for _, p := range layer {
			bw.WriteString(p)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}
