package storegen

import (
	"fmt"
	"math"

	"dockertools.dev/imgkit/format"
)

// GraphSpec describes a closure graph drawn without a store.
type GraphSpec struct {
	Seed     uint64
	StoreDir string  // default /nix/store
	Paths    int     // number of paths (at least 1)
	Refs     float64 // average references per path to other paths
	// SelfRefs is the fraction of paths that refer to themselves.
	SelfRefs float64
}

// RandomGraph draws a closure graph: spec.Paths paths, each referring to
// about spec.Refs earlier ones (preferential attachment, so some paths are
// referenced by thousands), narSizes log-normal around 200 KB. The graph is
// a closed DAG in canonical form; every path of it is one level of its
// own, so chains run deep, which makes popularity counts grow fast.
func RandomGraph(spec GraphSpec) (format.Graph, error) {
	if spec.StoreDir == "" {
		spec.StoreDir = "/nix/store"
	}
	if spec.Paths < 1 {
		return nil, fmt.Errorf("drawing graph: %d paths: need at least 1", spec.Paths)
	}
	if spec.Refs < 0 || math.IsNaN(spec.Refs) || math.IsInf(spec.Refs, 0) {
		return nil, fmt.Errorf("drawing graph: invalid reference density %v", spec.Refs)
	}
	rng, _ := newRand(spec.Seed, domainGraph, 0, 0)
	names := make([]string, spec.Paths)
	seen := map[string]bool{}
	for i := range names {
		for names[i] == "" || seen[names[i]] {
			names[i] = spec.StoreDir + "/" + randomHash(rng) + "-" + packageName(rng)
		}
		seen[names[i]] = true
	}
	a := &attacher{rng: rng}
	g := make(format.Graph, spec.Paths)
	for i := range g {
		a.nextLevel()
		refs := []string{}
		for _, r := range a.draw(refCount(rng, spec.Refs), nil) {
			refs = append(refs, names[r])
		}
		if rng.Float64() < spec.SelfRefs {
			refs = append(refs, names[i])
		}
		a.add(i)
		g[i] = format.PathInfo{Path: names[i], NarSize: uint64(200e3 * math.Exp(1.5*rng.NormFloat64())), References: refs}
	}
	return g.Canonical(), nil
}
