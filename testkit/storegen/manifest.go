package storegen

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"dockertools.dev/imgkit/graphplan"
)

// Manifest describes a generated store: what Generate wrote and the
// reference graph a correct scanner must find.
type Manifest struct {
	Version int  `json:"version"`
	Spec    Spec `json:"spec"` // normalized
	// Root is the physical root the store was written under (ROOT in
	// ROOT/nix/store); not part of the JSON, set by Generate and Ensure.
	Root     string `json:"-"`
	StoreDir string `json:"storeDir"`
	// Bottom is the libc-like path most paths refer to; Top refers to
	// every path nothing else refers to, so its closure is every path.
	Bottom string `json:"bottom"`
	Top    string `json:"top"`
	Paths  []Path `json:"paths"` // sorted by Path
	Totals Totals `json:"totals"`
}

// Path is one store path of a Manifest.
type Path struct {
	Path       string   `json:"path"`
	NarSize    uint64   `json:"narSize"`
	References []string `json:"references"` // sorted; itself included for a self-reference
	Kind       string   `json:"kind"`       // "directory", "file" or "symlink"
	Level      int      `json:"level"`      // 0 for the bottom path, highest for the top
	Files      int      `json:"files"`      // regular files, hardlinks not counted
	Bytes      int64    `json:"bytes"`      // their contents' size
	Sites      []Site   `json:"sites"`      // where each reference is written
}

// Site is one place a reference is written.
type Site struct {
	Ref string `json:"ref"` // the referenced store path
	// Entry is the file or symlink holding it, relative to the store path
	// ("" is the store path itself).
	Entry string `json:"entry"`
	// Offset is where Ref's bytes start in the file, or -1 when Ref starts
	// the symlink's target.
	Offset int64 `json:"offset"`
}

// Totals count a generated store's contents.
type Totals struct {
	Paths      int    `json:"paths"`
	Files      int    `json:"files"` // regular files, hardlinks not counted
	Bytes      int64  `json:"bytes"` // their contents' size
	Dirs       int    `json:"dirs"`
	Symlinks   int    `json:"symlinks"`
	Hardlinks  int    `json:"hardlinks"`
	References int    `json:"references"` // edges of the graph, self-references included
	NarSize    uint64 `json:"narSize"`
}

// Graph returns the manifest's reference graph as a canonical closure
// graph: what closure-scan must print for the top path.
func (m *Manifest) Graph() graphplan.Graph {
	g := make(graphplan.Graph, len(m.Paths))
	for i, p := range m.Paths {
		g[i] = graphplan.PathInfo{Path: p.Path, NarSize: p.NarSize, References: p.References}
	}
	return g.Canonical()
}

// Physical returns where the logical store path p is on disk.
func (m *Manifest) Physical(p string) string { return filepath.Join(m.Root, filepath.FromSlash(p)) }

// manifest describes the plan as written.
func (pl *plan) manifest(root string) *Manifest {
	m := &Manifest{
		Version:  Version,
		Spec:     pl.spec,
		Root:     root,
		StoreDir: pl.spec.StoreDir,
		Bottom:   pl.full(0),
		Top:      pl.full(len(pl.paths) - 1),
	}
	for i, p := range pl.paths {
		mp := Path{Path: pl.full(i), NarSize: p.narSize(), Kind: p.kind.String(), Level: p.level, References: []string{}, Sites: []Site{}}
		for _, r := range p.refs {
			mp.References = append(mp.References, pl.full(r))
		}
		slices.Sort(mp.References)
		for _, e := range p.entries {
			switch e.typ {
			case typeDir:
				m.Totals.Dirs++
			case typeFile:
				mp.Files++
				mp.Bytes += e.size
			case typeSymlink:
				m.Totals.Symlinks++
			case typeHardlink:
				m.Totals.Hardlinks++
			}
			for _, s := range e.sites {
				mp.Sites = append(mp.Sites, Site{Ref: pl.full(s.ref), Entry: e.name, Offset: s.off})
			}
		}
		m.Totals.Files += mp.Files
		m.Totals.Bytes += mp.Bytes
		m.Totals.References += len(mp.References)
		m.Totals.NarSize += mp.NarSize
		m.Paths = append(m.Paths, mp)
	}
	m.Totals.Paths = len(m.Paths)
	slices.SortFunc(m.Paths, func(a, b Path) int { return strings.Compare(a.Path, b.Path) })
	return m
}

// ReadManifest reads a manifest written by WriteFile. Root is set to the
// directory "root" next to it, where Ensure keeps the store.
func ReadManifest(name string) (*Manifest, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", name, err)
	}
	if m.Version != Version {
		return nil, fmt.Errorf("manifest %s is from generator version %d, not %d", name, m.Version, Version)
	}
	m.Root = filepath.Join(filepath.Dir(name), "root")
	return &m, nil
}

// WriteFile writes m as JSON.
func (m *Manifest) WriteFile(name string) error {
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(data, '\n'), 0o644)
}

// Lookup returns the manifest entry of a store path.
func (m *Manifest) Lookup(p string) (*Path, bool) {
	i, ok := slices.BinarySearchFunc(m.Paths, p, func(e Path, p string) int { return strings.Compare(e.Path, p) })
	if !ok {
		return nil, false
	}
	return &m.Paths[i], true
}

// storeDirOf returns the physical store directory under root.
func storeDirOf(root, storeDir string) string {
	return filepath.Join(root, filepath.FromSlash(path.Clean(storeDir)))
}
