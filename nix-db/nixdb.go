package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/storefs"
)

// defaultRegistrationTime is $SOURCE_DATE_EPOCH in every Nix build,
// 1980-01-01, which nixpkgs' includeNixDB writes.
const defaultRegistrationTime = 315532800

type command struct {
	cli.Common
	Output           string   `short:"o" placeholder:"ROOT" help:"The image root to write nix/var/nix/db and nix/var/nix/gcroots/docker under; it must exist."`
	Check            bool     `help:"Check the graph and the flags as for writing (--holds, --exclude, --gc-root) and write nothing: no -o."`
	Layer            string   `placeholder:"TAR" help:"With --check, instead of a graph: the Nix database a layer tar holds (nix/var/nix/db/db.sqlite, a --customisation-layer's), every path it registers in a --holds plan."`
	GCRoot           []string `name:"gc-root" placeholder:"PATH" sep:"none" help:"A store path to keep from Nix's garbage collector: nix/var/nix/gcroots/docker/NAME links to it (repeatable; a ./result link stands for the path it names)."`
	Exclude          []string `placeholder:"PATH" sep:"none" help:"Leave this node of the graph out, with the references to it (repeatable): the non-store roots closure-scan adds with --extra-root. A node a registered one references is refused."`
	RegistrationTime int64    `name:"registration-time" default:"315532800" placeholder:"N" help:"The registrationTime of every path, in seconds since 1970 (default 315532800, 1980-01-01, as nixpkgs)."`
	StoreDir         string   `name:"store-dir" placeholder:"DIR" help:"The logical store directory (default: $NIX_STORE_DIR, else /nix/store)."`
	Key              string   `placeholder:"KEY" help:"The member of a structured-attrs object that holds the graph; by default its only array member."`
	Holds            []string `placeholder:"PLAN" sep:"none" help:"A layer plan of store paths the image holds (repeatable): every registered path must be in one, or nothing is written (Nix takes a registered path as there)."`
	HoldsLabel       []string `name:"holds-label" placeholder:"TEXT" sep:"none" help:"What an error calls the --holds PLAN of the same position (repeatable, one for each --holds or none): what the user gave, when PLAN is a file made from it."`
	Graph            string   `arg:"" optional:"" default:"-" placeholder:"GRAPH" help:"The closure graph file; - (the default) is stdin."`
}

// row is one ValidPaths row to be, with the references it will have.
type row struct {
	path    string
	hash    string // base16, as Nix stores it
	narSize uint64
	refs    []string
}

// Validate checks the flags on their own, before any input is read.
func (c *command) Validate() error {
	if c.RegistrationTime < 0 {
		return cli.Usagef("--registration-time %d: must not be negative", c.RegistrationTime)
	}
	switch {
	case c.Check && c.Output != "":
		return cli.Usagef("--check writes nothing: drop -o")
	case !c.Check && c.Output == "":
		return cli.Usagef("-o ROOT: give the image root to write the database under (or --check, which writes nothing)")
	}
	if c.Layer != "" {
		switch {
		case !c.Check:
			return cli.Usagef("--layer checks the database a layer holds: give --check")
		case c.Graph != "-" || len(c.GCRoot)+len(c.Exclude) > 0 || c.Key != "":
			return cli.Usagef("--layer reads the layer's database, not a graph: drop GRAPH, --gc-root, --exclude and --key")
		}
	}
	if len(c.HoldsLabel) > 0 && len(c.HoldsLabel) != len(c.Holds) {
		return cli.Usagef("--holds-label: %d given for %d --holds: give one for each, in the same order", len(c.HoldsLabel), len(c.Holds))
	}
	return cli.CheckStoreDir(c.StoreDir)
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	storeDir, err := o.StoreDir(c.StoreDir)
	if err != nil {
		return err
	}
	roots, err := c.gcRoots(storeDir)
	if err != nil {
		return err
	}
	// The image root is opened before the graph is read: a missing one
	// was found only after the reading and the database's build (about
	// 10 s at 100,000 paths).
	var t *tree
	if !c.Check {
		if t, err = openTree(c.Output); err != nil {
			return err
		}
		defer t.close()
	}
	held, err := c.held(o)
	if err != nil {
		return err
	}
	if c.Layer != "" {
		return c.checkLayer(ctx, o, held)
	}
	rows, err := c.read(ctx, o, storeDir)
	if err != nil {
		return err
	}
	if held != nil {
		for _, r := range rows {
			if !held[r.path] {
				return fmt.Errorf("graph: %q is not in the image (%s), and Nix in it would take it as valid: %w", r.path, c.holdsSaid(), errdefs.ErrInvalidInput)
			}
		}
	}
	for _, r := range roots {
		if _, ok := slices.BinarySearchFunc(rows, r, func(x row, p string) int { return strings.Compare(x.path, p) }); !ok {
			return fmt.Errorf("--gc-root %q: not a node of the graph, so Nix would not know it: %w", r, errdefs.ErrInvalidInput)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.Check {
		o.Debugf("checked %d store paths: nothing written (--check)", len(rows))
		return nil
	}
	return writeState(ctx, o, t, rows, roots, c.RegistrationTime)
}

// holdsSaid names the --holds plans as the user gave them: their
// --holds-label, else "--holds PLAN...".
func (c *command) holdsSaid() string {
	if len(c.HoldsLabel) > 0 {
		return strings.Join(c.HoldsLabel, ", ")
	}
	return "--holds " + strings.Join(c.Holds, " ")
}

// holdsName names the i-th --holds plan in an error reading it.
func (c *command) holdsName(i int) string {
	if len(c.HoldsLabel) > 0 {
		return c.HoldsLabel[i]
	}
	return fmt.Sprintf("--holds %q", c.Holds[i])
}

// held returns the store paths of the --holds plans, or nil without
// one (every registered path is taken to be in the image).
func (c *command) held(o *cli.IO) (map[string]bool, error) {
	if len(c.Holds) == 0 {
		return nil, nil
	}
	held := map[string]bool{}
	for i, name := range c.Holds {
		f, err := o.OpenNamed(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.holdsName(i), err)
		}
		p, err := graphplan.ReadPlan(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.holdsName(i), err)
		}
		for _, layer := range p {
			for _, sp := range layer {
				held[sp] = true
			}
		}
	}
	return held, nil
}

// storePathOf returns the top-level store path arg names: a path in the
// store directory, or a symlink outside it (./result) that leads there.
func storePathOf(storeDir, arg string) (string, error) {
	p, err := filepath.Abs(arg)
	if err != nil {
		return "", err
	}
	for hops := 0; ; hops++ {
		if rest, ok := strings.CutPrefix(p, storeDir+"/"); ok {
			name, _, _ := strings.Cut(rest, "/")
			return storeDir + "/" + name, nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return "", cli.PathCause(err)
		}
		if fi.Mode()&os.ModeSymlink == 0 || hops == 40 {
			return "", fmt.Errorf("%w %q", errdefs.ErrOutsideStore, storeDir)
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", cli.PathCause(err)
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = filepath.Clean(t)
	}
}

// gcRoots returns the store paths --gc-root names, sorted, each once. A
// link outside the store (./result) is followed to the store path it
// names, as Nix follows one; its target is not read.
func (c *command) gcRoots(storeDir string) ([]string, error) {
	var out []string
	for _, arg := range c.GCRoot {
		p, err := storePathOf(storeDir, arg)
		if err != nil {
			return nil, fmt.Errorf("--gc-root %q: %w", arg, err)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// read reads the graph and turns it into rows, sorted by path.
func (c *command) read(ctx context.Context, o *cli.IO, storeDir string) ([]row, error) {
	in, err := o.Open(c.Graph)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	g, err := graphplan.ReadGraphContext(ctx, in, c.Key)
	if err != nil {
		return nil, err
	}
	excluded := map[string]bool{}
	for _, e := range c.Exclude {
		abs, err := filepath.Abs(e)
		if err != nil {
			return nil, fmt.Errorf("--exclude %q: %w", e, err)
		}
		if _, ok := g.Index(abs); !ok {
			return nil, fmt.Errorf("--exclude %q: not a node of the graph: %w", e, errdefs.ErrInvalidInput)
		}
		excluded[abs] = true
	}
	if err := checkExcluded(g, excluded); err != nil {
		return nil, err
	}
	rows := make([]row, 0, len(g))
	for _, n := range g { // canonical: sorted by path, references sorted
		if excluded[n.Path] {
			continue
		}
		if _, err := storefs.PathName(storeDir, n.Path); err != nil {
			return nil, fmt.Errorf("graph: %w", err)
		}
		if n.NarHash == "" {
			return nil, fmt.Errorf("graph: %q has no narHash (closure-scan --nar-hash gives it): %w", n.Path, errdefs.ErrInvalidInput)
		}
		sum, err := nar.ParseHash(n.NarHash)
		if err != nil {
			return nil, fmt.Errorf("graph: %q: %w", n.Path, err)
		}
		// SQLite's integers are signed: past 2^63-1 the row would hold
		// a negative size.
		if n.NarSize > math.MaxInt64 {
			return nil, fmt.Errorf("graph: %q: narSize %d is past the largest a Nix database holds (%d): %w", n.Path, n.NarSize, int64(math.MaxInt64), errdefs.ErrInvalidInput)
		}
		// Nix's database keeps "sha256:" and base16.
		r := row{path: n.Path, hash: "sha256:" + hex.EncodeToString(sum[:]), narSize: n.NarSize}
		for _, ref := range n.References {
			if !excluded[ref] {
				r.refs = append(r.refs, ref)
			}
		}
		rows = append(rows, r)
	}
	o.Debugf("registering %d store paths", len(rows))
	return rows, nil
}

// checkExcluded refuses an excluded node that a registered node
// references: dropping the reference would register a closure that is
// not one, which Nix takes as complete (its garbage collector deletes an
// unregistered path a registered one needs). The non-store roots --exclude
// is for are referenced by no store path.
func checkExcluded(g graphplan.Graph, excluded map[string]bool) error {
	for _, n := range g {
		if excluded[n.Path] {
			continue
		}
		for _, ref := range n.References {
			if excluded[ref] {
				return fmt.Errorf("--exclude %q: %q, which is registered, references it: %w", ref, n.Path, errdefs.ErrInvalidInput)
			}
		}
	}
	return nil
}
