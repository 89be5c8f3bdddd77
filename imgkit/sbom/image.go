package sbom

import (
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/storefs"
)

// Image is what an SBOM describes.
type Image struct {
	// Name is the image name, without its tag (a default tag derives from
	// the config, which an SBOM inside the image changes).
	Name string
	// ID is the digest the SBOM's serial number and namespace derive
	// from, "sha256:<hex>": the image ID (its config's digest) of the
	// image without the SBOM in it.
	ID string
	// Created is the image's creation time, SPDX's required creation
	// date (CycloneDX's is left out).
	Created time.Time
	// Graph is the closure graph of the image's store paths. Its nodes
	// whose last element is not a store path name (the extra roots the
	// workflows add) are not components.
	Graph graphplan.Graph
	// Layers are the image's layers, bottom first, base layers included.
	Layers []Layer
}

// Layer is one layer of the image.
type Layer struct {
	DiffID string
	// Paths are the store paths the layer holds; nil when it holds none
	// or they are not known (a base image's layer). A path whose last
	// element is no store path name is ignored.
	Paths []string
}

// component is one store path of the image.
type component struct {
	path, hashPart     string
	name, version      string
	purl               string
	narHash            string // FormatHash notation, or ""
	narHashHex         string // the same in hex, or ""
	narSize            uint64
	layer              int // its position in Image.Layers, or -1
	diffID             string
	deps               []int // the components it references, self left out, in order
	referencedByOthers bool
}

// components checks img and returns its components, in graph order (by
// store path).
func (img *Image) components() ([]*component, error) {
	if !strings.HasPrefix(img.ID, "sha256:") || len(img.ID) != len("sha256:")+64 {
		return nil, fmt.Errorf("image ID %q: want sha256:<64 hex digits>: %w", img.ID, errdefs.ErrInvalidInput)
	}
	// Sorted by path, references sorted: the order decides the bytes.
	g := img.Graph.Canonical()
	var comps []*component
	index := map[string]int{}
	for _, n := range g {
		base := path.Base(n.Path)
		if !storefs.ValidName(base) {
			continue
		}
		c := &component{path: n.Path, hashPart: base[:storefs.HashLen], narSize: n.NarSize, layer: -1}
		c.name, c.version = ParseDrvName(base[storefs.HashLen+1:])
		if c.name == "" {
			// "-1.0" has no name for Nix; a purl without one does not
			// parse, and both formats need one: the whole name, no version.
			c.name, c.version = base[storefs.HashLen+1:], ""
		}
		c.purl = PURL(c.name, c.version, c.hashPart)
		if n.NarHash != "" {
			sum, err := nar.ParseHash(n.NarHash)
			if err != nil {
				return nil, fmt.Errorf("graph: %q: %w", n.Path, err)
			}
			c.narHash, c.narHashHex = nar.FormatHash(sum), hex.EncodeToString(sum[:])
		}
		index[n.Path] = len(comps)
		comps = append(comps, c)
	}
	for i, l := range img.Layers {
		for _, p := range l.Paths {
			if !storefs.ValidName(path.Base(p)) {
				continue // nixpkgs' customisation layer names its directory
			}
			j, ok := index[p]
			switch {
			case !ok:
				return nil, fmt.Errorf("layer %d holds %q, which the closure graph does not have: %w", i, p, errdefs.ErrInvalidInput)
			case comps[j].layer >= 0:
				return nil, fmt.Errorf("%q is in layer %d and layer %d: %w", p, comps[j].layer, i, errdefs.ErrInvalidInput)
			}
			comps[j].layer, comps[j].diffID = i, l.DiffID
		}
	}
	for _, n := range g {
		i, ok := index[n.Path]
		if !ok {
			continue
		}
		for _, r := range n.References {
			if j, ok := index[r]; ok && j != i {
				comps[i].deps = append(comps[i].deps, j)
				comps[j].referencedByOthers = true
			}
		}
		slices.Sort(comps[i].deps)
	}
	return comps, nil
}

// roots are what the image depends on directly: the components no other
// component refers to and, of the paths only a cycle of references leads
// to (Nix forbids such cycles, but a closure graph written otherwise may
// have them, and popularity packs their paths), the first of each cycle,
// so that the image reaches every component, in store path order.
func roots(comps []*component) []int {
	var r []int
	seen := make([]bool, len(comps))
	reach := func(i int) {
		r = append(r, i)
		seen[i] = true
		for stack := []int{i}; len(stack) > 0; {
			c := comps[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			for _, j := range c.deps {
				if !seen[j] {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
	for i, c := range comps {
		if !c.referencedByOthers {
			reach(i)
		}
	}
	for i := range comps {
		if !seen[i] {
			reach(i)
		}
	}
	slices.Sort(r)
	return r
}

// facts are the key-value pairs both formats carry for a component:
// CycloneDX as properties, SPDX as annotations.
func (c *component) facts() [][2]string {
	f := [][2]string{{propStorePath, c.path}}
	if c.narHash != "" {
		f = append(f, [2]string{propNarHash, c.narHash})
	}
	f = append(f, [2]string{propNarSize, fmt.Sprint(c.narSize)})
	if c.layer >= 0 {
		f = append(f, [2]string{propLayerDiffID, c.diffID}, [2]string{propLayerIndex, fmt.Sprint(c.layer)})
	}
	return f
}

// The property names, in the form CycloneDX's property taxonomy asks
// for (namespace:name, lower case).
const (
	propStorePath   = "dockertools-go:nix:store_path"
	propNarHash     = "dockertools-go:nix:nar_hash"
	propNarSize     = "dockertools-go:nix:nar_size"
	propLayerDiffID = "dockertools-go:layer:diff_id"
	propLayerIndex  = "dockertools-go:layer:index"
)
