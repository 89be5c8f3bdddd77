package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
)

type command struct {
	cli.Common
	Source    string   `enum:"auto,nix,scan" default:"auto" help:"Where references come from: nix asks Nix's database, scan reads the files, auto asks Nix when it knows every root and scans otherwise."`
	StoreDir  string   `name:"store-dir" placeholder:"DIR" help:"The logical store directory (default: $NIX_STORE_DIR, else /nix/store)."`
	Root      string   `default:"/" placeholder:"DIR" help:"Read the logical path P at DIR/P, as Nix's chroot store local?root=DIR does: no symlink leads out of DIR."`
	ExtraRoot []string `name:"extra-root" placeholder:"PATH" sep:"none" help:"A file or directory outside the store to include as a node of its own, with the store paths it mentions. Repeatable."`
	Graph     string   `placeholder:"FILE" help:"Take the store paths' references from FILE, a closure graph as Nix writes it (exportReferencesGraph, nix path-info --json --recursive), instead of reading the store; extra roots are scanned for the hashes of its paths only."`
	Key       string   `placeholder:"KEY" help:"With --graph: the member of an object that holds the graph (exportReferencesGraph's key in a structured-attrs file). Default: its only array member."`
	NarHash   bool     `name:"nar-hash" help:"Give each path its narHash (the sha256 of its NAR, as Nix records it): Nix's when Nix answers or the --graph has it, else computed by reading every file once more."`
	Verify    bool     `help:"With --graph: read every store path of the closure and check the graph's narSize and narHash against its files (a graph is otherwise trusted as given)."`
	Verified  string   `placeholder:"FILE" help:"With --verify: a graph closure-scan --verify --nar-hash wrote before from the same --graph and --root; a store path it has with the same narSize is not read again, its narHash taken from FILE."`
	Jobs      int      `short:"j" placeholder:"N" help:"Workers reading files in parallel, at most ${max_jobs} (default: two per CPU, at least 4; one per CPU for --nar-hash); --nar-hash takes fewer under a low limit on open files (-v says)."`
	Paths     []string `arg:"" optional:"" name:"path" help:"Store paths, files inside them, or symlinks to them such as ./result. Without any, paths are read from stdin, one per line."`
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	st, err := c.store(o)
	if err != nil {
		return err
	}
	defer st.close()
	args := c.Paths
	if len(args) == 0 {
		if args, err = readLines(o.Stdin); err != nil {
			return err
		}
	}
	var names []string
	for _, a := range args {
		name, err := st.resolve(a)
		if err != nil {
			return err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	extras, err := c.extras(st)
	if err != nil {
		return err
	}
	g, err := c.closure(ctx, o, st, names, extras)
	if err != nil {
		return err
	}
	if c.Verify {
		if err := c.verify(ctx, o, st, g); err != nil {
			return err
		}
	}
	if c.NarHash {
		if err := c.narHashes(ctx, o, st, g); err != nil {
			return err
		}
	} else {
		for i := range g {
			g[i].NarHash = "" // Nix's, unasked for
		}
	}
	if err := graphplan.WriteGraph(o.Stdout, g); err != nil {
		return fmt.Errorf("writing the graph: %w", err)
	}
	return nil
}

// Validate checks the flags on their own, before any input is read.
func (c *command) Validate() error {
	if err := cli.CheckJobs(c.Jobs, 0); err != nil {
		return err
	}
	if c.Graph != "" && c.Source != "auto" {
		return cli.Usagef("--graph takes the closure from its file: it cannot be read with --source %s", c.Source)
	}
	if c.Key != "" && c.Graph == "" {
		return cli.Usagef("--key needs --graph")
	}
	if c.Verify && c.Graph == "" {
		return cli.Usagef("--verify checks a --graph against the files: give one (without it, the files are read anyway)")
	}
	if c.Verified != "" && !c.Verify {
		return cli.Usagef("--verified names what --verify checked already: give --verify")
	}
	return cli.CheckStoreDir(c.StoreDir)
}

// store places the store: --store-dir, else $NIX_STORE_DIR (checked here,
// still before any input is read), else /nix/store.
func (c *command) store(o *cli.IO) (*store, error) {
	dir, root, err := o.Store(c.StoreDir, c.Root)
	if err != nil {
		return nil, err
	}
	return &store{dir: dir, root: root}, nil
}

// extras checks the --extra-root paths and returns them absolute.
func (c *command) extras(st *store) ([]string, error) {
	var out []string
	for _, e := range c.ExtraRoot {
		abs, err := filepath.Abs(e)
		if err != nil {
			return nil, fmt.Errorf("extra root %q: %w", e, err)
		}
		if _, ok := st.inStore(abs); ok {
			return nil, fmt.Errorf("extra root %q: it is in the store directory %q (give it as a PATH instead): %w", e, st.dir, errdefs.ErrInvalidInput)
		}
		// Its path is a node of the graph, which is JSON: a byte that is
		// not UTF-8 would be written as U+FFFD, another path, which
		// popularity --exclude (given the real one) does not find.
		if !utf8.ValidString(abs) {
			return nil, fmt.Errorf("extra root %q: its path is not UTF-8, which a closure graph (JSON) cannot hold: %w", abs, errdefs.ErrInvalidInput)
		}
		if _, err := os.Lstat(abs); err != nil {
			if os.IsNotExist(err) {
				return nil, fmt.Errorf("extra root %q: %w", e, errdefs.ErrNotFound)
			}
			return nil, fileErr("extra root", e, err)
		}
		if !slices.Contains(out, abs) {
			out = append(out, abs)
		}
	}
	return out, nil
}

// closure computes the graph from the source the flags ask for.
func (c *command) closure(ctx context.Context, o *cli.IO, st *store, names, extras []string) (graphplan.Graph, error) {
	nx := nixStore{st: st}
	if c.Graph != "" {
		return c.viaGraph(ctx, o, st, names, extras)
	}
	switch c.Source {
	case "scan":
		o.Debugf("using the scanner: --source scan")
		return c.scan(ctx, o, st, names, extras)
	case "nix":
		if why := nx.missing(false, o.Env); why != "" {
			return nil, fmt.Errorf("--source nix: %s: %w", why, errdefs.ErrNotFound)
		}
		o.Debugf("using Nix: --source nix")
		g, _, err := c.viaNix(ctx, o, nx, names, extras, false)
		return g, err
	}
	if why := nx.missing(true, o.Env); why != "" {
		o.Debugf("using the scanner: %s", why)
		return c.scan(ctx, o, st, names, extras)
	}
	g, ok, err := c.viaNix(ctx, o, nx, names, extras, true)
	if err != nil || ok {
		return g, err
	}
	return c.scan(ctx, o, st, names, extras)
}

// scan computes the closure by reading files.
func (c *command) scan(ctx context.Context, o *cli.IO, st *store, names, extras []string) (graphplan.Graph, error) {
	if len(names) == 0 && len(extras) == 0 {
		return nil, nil
	}
	cands, err := st.list()
	if err != nil {
		return nil, err
	}
	sc := newScanner(st, cands, true, c.scanJobs(o))
	for _, name := range names {
		i, err := cands.index(st, name)
		if err != nil {
			return nil, err
		}
		sc.addPath(i)
	}
	for _, e := range extras {
		if err := sc.addExtra(e); err != nil {
			return nil, err
		}
	}
	if err := sc.run(ctx); err != nil {
		return nil, err
	}
	o.Debugf("scanned %d store paths and %d extra roots: %d files, %d bytes", len(sc.paths), len(sc.extras), sc.files, sc.bytes)
	return sc.graph(), nil
}

// viaNix asks Nix for the closure of the roots and of the store paths the
// extra roots mention (found by scanning the extra roots only). When auto
// is set and Nix does not know every one of them, it returns ok=false.
func (c *command) viaNix(ctx context.Context, o *cli.IO, nx nixStore, names, extras []string, auto bool) (g graphplan.Graph, ok bool, err error) {
	st := nx.st
	var roots []string
	for _, name := range names {
		roots = append(roots, st.path(name))
	}
	var extraNodes graphplan.Graph
	if len(extras) > 0 {
		cands, err := st.list()
		if err != nil {
			return nil, false, err
		}
		sc := newScanner(st, cands, false, c.scanJobs(o))
		for _, e := range extras {
			if err := sc.addExtra(e); err != nil {
				return nil, false, err
			}
		}
		if err := sc.run(ctx); err != nil {
			return nil, false, err
		}
		extraNodes = sc.graph()
		for _, n := range extraNodes {
			roots = append(roots, n.References...)
		}
		slices.Sort(roots)
		roots = slices.Compact(roots)
	}
	if auto {
		why, err := nx.invalid(ctx, roots)
		if err != nil {
			return nil, false, err
		}
		if why != "" {
			o.Debugf("using the scanner: %s", why)
			return nil, false, nil
		}
		o.Debugf("using Nix: its database knows every root")
	}
	if g, err = nx.closure(ctx, roots); err != nil {
		return nil, false, err
	}
	return append(g, extraNodes...), true, nil
}
