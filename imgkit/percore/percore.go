// Package percore cuts a range of indexes into one part per core and runs
// the parts concurrently: the shape of every loop over a large graph that
// gains from both cores (decoding, checking, indexing its paths).
package percore

import (
	"runtime"
	"slices"
	"sync"
)

// Parts is how many parts [0, n) is worth cutting into: one per core, each
// at least minLen long (a goroutine costs more than it saves on less).
func Parts(n, minLen int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n/minLen))
}

// Run calls f(p, lo, hi) for each of the k parts [p·n/k, (p+1)·n/k) of
// [0, n), each on its own goroutine, and returns when all have.
func Run(n, k int, f func(p, lo, hi int)) {
	var wg sync.WaitGroup
	for p := range k {
		wg.Go(func() { f(p, p*n/k, (p+1)*n/k) })
	}
	wg.Wait()
}

// Each calls f(lo, hi) on the Parts(n, minLen) parts of [0, n) concurrently.
func Each(n, minLen int, f func(lo, hi int)) {
	Run(n, Parts(n, minLen), func(_, lo, hi int) { f(lo, hi) })
}

// First returns the least i in [0, n) for which bad(i) holds, or n. Each
// part is searched by its own goroutine up to its first bad index, so bad
// may also do work for every index before it (it is called on each index
// at most once, and on every index when none is bad).
func First(n, minLen int, bad func(i int) bool) int {
	k := Parts(n, minLen)
	first := make([]int, k+1)
	first[k] = n
	Run(n, k, func(p, lo, hi int) {
		first[p] = n
		for i := lo; i < hi; i++ {
			if bad(i) {
				first[p] = i
				return
			}
		}
	})
	return slices.Min(first)
}
