package main

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"dockertools.dev/imgkit/graphplan"
)

// TestPopularityCountsNonOrthogonalPairs checks the identity behind the
// hardness argument in ancestors.go (sumJob): on the three-layer graph of
// vectors a_j → coordinates c_i → vectors b_k, the popularity of b_k is
// 2·R(b_k) plus the number of a_j that share a coordinate with b_k, with
// R computed here from the vectors alone.
func TestPopularityCountsNonOrthogonalPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 20 {
		n, d := 5+rng.IntN(40), 1+rng.IntN(8)
		vec := func() []bool {
			v := make([]bool, d)
			for i := range v {
				v[i] = rng.IntN(3) == 0
			}
			return v
		}
		as, bs := make([][]bool, n), make([][]bool, n)
		for j := range n {
			as[j], bs[j] = vec(), vec()
		}
		name := func(kind byte, i int) string {
			h := make([]byte, 32)
			for k := range h {
				h[k] = nixBase32[rng.IntN(32)]
			}
			return fmt.Sprintf("/nix/store/%s-%c%d", h, kind, i)
		}
		a, c, b := make([]string, n), make([]string, d), make([]string, n)
		for j := range n {
			a[j], b[j] = name('a', j), name('b', j)
		}
		for i := range d {
			c[i] = name('c', i)
		}
		var fg graphplan.Graph
		for j, v := range as {
			fg = append(fg, graphplan.PathInfo{Path: a[j], NarSize: 1, References: pick(c, v)})
		}
		for i := range c {
			var users []string
			for k, v := range bs {
				if v[i] {
					users = append(users, b[k])
				}
			}
			fg = append(fg, graphplan.PathInfo{Path: c[i], NarSize: 1, References: users})
		}
		for k := range b {
			fg = append(fg, graphplan.PathInfo{Path: b[k], NarSize: 1})
		}
		g, err := newGraph(context.Background(), fg.Canonical())
		if err != nil {
			t.Fatal(err)
		}
		r := mustRank(t, context.Background(), g, 2)
		for k, v := range bs {
			var rb, shared int64 // R(b_k); the a_j sharing a coordinate with it
			for i, on := range v {
				if !on {
					continue
				}
				rc := int64(0) // R(c_i): the a_j referencing it, or 1 for a root
				for _, u := range as {
					if u[i] {
						rc++
					}
				}
				rb += max(rc, 1)
			}
			for _, u := range as {
				for i := range u {
					if u[i] && v[i] {
						shared++
						break
					}
				}
			}
			want := big.NewInt(2*rb + shared)
			if rb == 0 {
				want.SetInt64(1) // no coordinate: a root of its own
			}
			x := int32(slices.Index(g.paths, b[k]))
			if got := r.popularity(x); got == nil || got.Cmp(want) != 0 {
				t.Fatalf("round %d: popularity of b_%d = %v, want %v", round, k, got, want)
			}
		}
	}
}

// pick returns the names whose bit is set.
func pick(names []string, bits []bool) []string {
	var out []string
	for i, on := range bits {
		if on {
			out = append(out, names[i])
		}
	}
	return out
}
