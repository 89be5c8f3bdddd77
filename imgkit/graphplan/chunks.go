package graphplan

import (
	"runtime"
	"slices"
	"sync"
)

// chunkMin is the least number of nodes worth a goroutine of their own.
const chunkMin = 1 << 14

// eachChunk calls f on [0, n) cut into one range per core, concurrently,
// when n is large enough to gain from it, and on [0, n) otherwise.
func eachChunk(n int, f func(lo, hi int)) {
	k := max(1, min(runtime.GOMAXPROCS(0), n/chunkMin))
	var wg sync.WaitGroup
	for w := range k {
		wg.Go(func() { f(w*n/k, (w+1)*n/k) })
	}
	wg.Wait()
}

// firstBad returns the least i in [0, n) for which bad(i) holds, or n,
// looking on all cores (eachChunk).
func firstBad(n int, bad func(i int) bool) int {
	var mu sync.Mutex
	first := []int{n}
	eachChunk(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if bad(i) {
				mu.Lock()
				first = append(first, i)
				mu.Unlock()
				return
			}
		}
	})
	return slices.Min(first)
}
