package storegen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"dockertools.dev/imgkit/graphplan"
)

// GraphSpec describes a closure graph drawn without a store.
type GraphSpec struct {
	Seed     uint64
	StoreDir string  // default /nix/store
	Paths    int     // number of paths (at least 1)
	Refs     float64 // average references per path to other paths
	// SelfRefs is the fraction of paths that refer to themselves.
	SelfRefs float64
	// Uniform draws each path's references uniformly among the paths
	// drawn before it, Refs (rounded) of them, all distinct, instead of
	// with preferential attachment: no path is much more popular than
	// others, ancestor sets are broad and irregular, a harder shape for
	// the popularity order than real closures.
	Uniform bool
}

// RandomGraph draws a closure graph: spec.Paths paths, each referring to
// about spec.Refs earlier ones (preferential attachment, so some paths are
// referenced by thousands; or uniformly, see GraphSpec.Uniform), narSizes
// log-normal around 200 KB. The graph is a closed DAG in canonical form;
// every path of it is one level of its own, so chains run deep, which
// makes popularity counts grow fast.
func RandomGraph(spec GraphSpec) (graphplan.Graph, error) {
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
	g := make(graphplan.Graph, spec.Paths)
	for i := range g {
		var drawn []int
		if spec.Uniform {
			drawn = drawUniform(rng, i, int(spec.Refs+0.5))
		} else {
			a.nextLevel()
			drawn = a.draw(refCount(rng, spec.Refs), nil)
		}
		refs := []string{}
		for _, r := range drawn {
			refs = append(refs, names[r])
		}
		if rng.Float64() < spec.SelfRefs {
			refs = append(refs, names[i])
		}
		a.add(i)
		g[i] = graphplan.PathInfo{Path: names[i], NarSize: uint64(200e3 * math.Exp(1.5*rng.NormFloat64())), References: refs}
	}
	return g.Canonical(), nil
}

// drawUniform returns min(k, below) distinct nodes drawn uniformly from
// [0, below).
func drawUniform(rng *rand.Rand, below, k int) []int {
	if k >= below {
		out := make([]int, below)
		for j := range out {
			out[j] = j
		}
		return out
	}
	out := make([]int, 0, k)
	for len(out) < k {
		if j := rng.IntN(below); !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out
}
