package storegen

import "math/rand/v2"

// attacher draws references with preferential attachment: every node holds
// one ticket, plus one per referrer it already has, and a reference goes to
// the holder of a random ticket. Popular paths get more popular, as libc,
// zlib or openssl are in real closures.
//
// Nodes are added level by level; a node can only refer to nodes of lower
// levels, which keeps the graph a DAG. Tickets of the current level join
// the draw when the next level starts.
type attacher struct {
	rng     *rand.Rand
	tickets []int32
	avail   int     // tickets[:avail] belong to lower levels
	pending []int32 // nodes of the current level
}

// nextLevel makes the nodes added so far drawable.
func (a *attacher) nextLevel() {
	a.tickets = append(a.tickets, a.pending...)
	a.pending = a.pending[:0]
	a.avail = len(a.tickets)
}

// add registers node i in the current level.
func (a *attacher) add(i int) { a.pending = append(a.pending, int32(i)) }

// draw returns up to n distinct nodes of lower levels, not in skip, and
// records them as referenced. It returns fewer when the lower levels run
// out of distinct nodes.
func (a *attacher) draw(n int, skip map[int]bool) []int {
	var out []int
	seen := map[int]bool{}
	for attempts := 0; len(out) < n && attempts < 8*n+16 && a.avail > 0; attempts++ {
		j := int(a.tickets[a.rng.IntN(a.avail)])
		if seen[j] || skip[j] {
			continue
		}
		seen[j] = true
		out = append(out, j)
		a.tickets = append(a.tickets, int32(j))
	}
	return out
}

// refCount draws a reference count with the given mean: exponential, so
// most paths have a few references and some have dozens, as in nixpkgs.
func refCount(rng *rand.Rand, mean float64) int {
	return int(rng.ExpFloat64()*mean + 0.5)
}
