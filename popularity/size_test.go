package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// bruteAutoLayer is reference §6.4 written as directly as possible: sets
// are maps, every round copies the whole split, and layer ids are compared
// through a canonical string. The tie-breaks are the documented ones.
func bruteAutoLayer(g *graph, limit int) [][]int32 {
	n := int32(g.len())
	type set = map[int32]bool
	reach := func(c csr, x int32) set { // closure minus x itself
		out := set{}
		stack := []int32{x}
		for len(stack) > 0 {
			y := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, z := range c.of(y) {
				if !out[z] {
					out[z] = true
					stack = append(stack, z)
				}
			}
		}
		delete(out, x)
		return out
	}
	idOf := func(s set) string {
		var xs []int32
		for x := range s {
			xs = append(xs, x)
		}
		slices.Sort(xs)
		return fmt.Sprint(xs)
	}
	distinct := func(split map[int32]set) int {
		ids := map[string]bool{}
		for _, s := range split {
			ids[idOf(s)] = true
		}
		return len(ids)
	}
	split := map[int32]set{}
	for x := range n {
		split[x] = set{}
	}
	bySize := make([]int32, n)
	for i := range bySize {
		bySize[i] = int32(i)
	}
	slices.SortStableFunc(bySize, func(a, b int32) int { return cmp.Compare(g.sizes[a], g.sizes[b]) })
	for k := len(bySize) - 1; k >= 0; k-- {
		p := bySize[k]
		next := map[int32]set{}
		for x, s := range split {
			next[x] = s
		}
		next[p] = set{p: true}
		deps, users := reach(g.refs, p), reach(g.users, p)
		for d := range deps {
			s := set{}
			meets := false
			for q := range next[d] {
				if !users[q] {
					s[q] = true
					meets = meets || deps[q]
				}
			}
			if !meets {
				s[p] = true
			}
			next[d] = s
		}
		if distinct(next) > limit {
			break
		}
		split = next
	}
	groups := map[string][]int32{}
	for x := range n {
		id := idOf(split[x])
		groups[id] = append(groups[id], x)
	}
	type layer struct {
		nodes []int32
		size  uint64
	}
	var layers []layer
	for _, nodes := range groups {
		slices.SortFunc(nodes, func(a, b int32) int { return comparePathKey(g.paths[a], g.paths[b]) })
		closure := set{}
		for _, x := range nodes {
			closure[x] = true
			for y := range reach(g.refs, x) {
				closure[y] = true
			}
		}
		var size uint64
		for y := range closure {
			size += g.sizes[y]
		}
		layers = append(layers, layer{nodes, size})
	}
	slices.SortFunc(layers, func(a, b layer) int {
		if c := cmp.Compare(a.size, b.size); c != 0 {
			return c
		}
		return comparePathKey(g.paths[a.nodes[0]], g.paths[b.nodes[0]])
	})
	var out [][]int32
	for _, l := range layers {
		out = append(out, l.nodes)
	}
	return out
}

func TestAutoLayerMatchesDirectVersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 300 {
		n := 1 + rng.IntN(12)
		var g *graph
		if i%3 == 2 {
			g = randomCyclic(t, rng, n, 0.3, 0.1)
		} else {
			g = randomDAG(t, rng, n, []float64{0.15, 0.4}[i%2])
		}
		for limit := 1; limit <= n+1; limit++ {
			got, want := autoLayer(g, limit, nil), bruteAutoLayer(g, limit)
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("limit %d: got %v, want %v (refs %v, sizes %v)", limit, got, want, g.refs, g.sizes)
			}
			if len(got) > limit {
				t.Fatalf("limit %d: %d layers", limit, len(got))
			}
		}
	}
}

// Every path lands in exactly one layer, and the layer sizes add up to the
// narSize total (auto-layer.py's own sanity check).
func TestAutoLayerPartitions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	g := uniformDAG(t, rng, 3000, 8)
	for _, limit := range []int{1, 2, 10, 99} {
		seen := make([]bool, g.len())
		var total, sum uint64
		layers := autoLayer(g, limit, nil)
		if len(layers) > limit {
			t.Fatalf("limit %d: %d layers", limit, len(layers))
		}
		for _, l := range layers {
			for _, x := range l {
				if seen[x] {
					t.Fatalf("limit %d: %s in two layers", limit, g.paths[x])
				}
				seen[x] = true
				sum += g.sizes[x]
			}
		}
		for _, s := range g.sizes {
			total += s
		}
		if sum != total || slices.Contains(seen, false) {
			t.Fatalf("limit %d: layers hold %d of %d bytes", limit, sum, total)
		}
	}
}

func TestComparePathKey(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"/nix/store/bbb-hello-2.0", "/nix/store/aaa-zlib-1.3", -1}, // name first
		{"/nix/store/bbb-hello", "/nix/store/aaa-hello", 1},         // then hash
		{"/nix/store/aaa-foo", "/nix/store/aaa-foo-bar", -1},        // a tuple: "foo" < "foo-bar"
		{"/build/conf", "/nix/store/aaa-a", -1},                     // no "-": empty name first
		{"/nix/store/aaa-x", "/nix/store/aaa-x", 0},
	} {
		if got := comparePathKey(c.a, c.b); got != c.want {
			t.Errorf("comparePathKey(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestPackageName(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"/nix/store/abc-hello-2.12", "hello-2.12-/nix/store/abc"},
		{"/nix/store/abc-hello", "hello-/nix/store/abc"},
		{"/build/customisation", "/build/customisation"},
		{"/build/image-conf.json", "conf.json-/build/image"},
	} {
		if got := packageName(c.path); got != c.want {
			t.Errorf("packageName(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	// "/" sorts below letters, so foo comes before foo-bar (reference §6.1).
	if a, b := packageName("/nix/store/zzz-foo"), packageName("/nix/store/aaa-foo-bar"); strings.Compare(a, b) >= 0 {
		t.Errorf("%q sorts after %q", a, b)
	}
}

// TestComparePackageName: the comparison without building the keys, and
// the order of nameKey where it tells two apart, are the order of the
// keys, on paths that differ anywhere: before the first "-", after it,
// past the 16 bytes nameKey holds, in length, or that hold no "-".
func TestComparePackageName(t *testing.T) {
	paths := []string{
		"/nix/store/abc-hello-2.12", "/nix/store/abd-hello-2.12", "/nix/store/abc-hello-2.12-man",
		"/nix/store/zzz-foo", "/nix/store/aaa-foo-bar", "/nix/store/aaa-foo", "/nix/store/aa-foo",
		"/build/customisation", "/build/image-conf.json", "/a", "/a-", "/-", "/-a", "-", "",
		"/nix/store/abc-averyveryverylongname-1", "/nix/store/abc-averyveryverylongname-2",
		"/nix/store/abd-averyveryverylongname-1", "/nix/store/abc-averyveryverylongnamf",
		"/nix/store/abc-sixteen-bytes-x", "/nix/store/abc-sixteen-bytes-", "/nix/store/abc-sixteen-bytes",
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 300 {
		b := []byte("/s/")
		for range rng.IntN(24) {
			b = append(b, "ab-/z"[rng.IntN(5)])
		}
		paths = append(paths, string(b))
	}
	for _, a := range paths {
		for _, b := range paths {
			want := strings.Compare(packageName(a), packageName(b))
			if got := comparePackageName(a, b); got != want {
				t.Fatalf("comparePackageName(%q, %q) = %d, want %d", a, b, got, want)
			}
			if got := nameKeyOf(a).compare(nameKeyOf(b)); got != 0 && got != want {
				t.Fatalf("nameKeys of %q and %q compare %d, want %d", a, b, got, want)
			}
		}
	}
}

// packageName builds the key comparePackageName compares (see there):
// the reference its tests check it against.
func packageName(p string) string {
	first, rest, ok := strings.Cut(p, "-")
	if !ok {
		return p
	}
	return rest + "-" + first
}
