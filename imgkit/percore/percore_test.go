package percore

import (
	"sync"
	"testing"
)

// TestRunCoversEachIndexOnce: the parts of [0, n) are disjoint and cover
// it, whatever n and k.
func TestRunCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 1000} {
		for _, k := range []int{1, 2, 3, 8} {
			seen := make([]int, n)
			var mu sync.Mutex
			Run(n, k, func(p, lo, hi int) {
				if p < 0 || p >= k || lo > hi {
					t.Errorf("n=%d k=%d: part %d is [%d, %d)", n, k, p, lo, hi)
				}
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d k=%d: index %d visited %d times", n, k, i, c)
				}
			}
		}
	}
}

// TestFirst: the least bad index, n when none is, on one part and on
// several (minLen 1 cuts 100 indexes into one part per core).
func TestFirst(t *testing.T) {
	for _, minLen := range []int{1, 1000} {
		for _, want := range []int{0, 1, 49, 50, 99, 100} {
			got := First(100, minLen, func(i int) bool { return i >= want && (i-want)%7 == 0 })
			if got != want {
				t.Errorf("minLen %d: First = %d, want %d", minLen, got, want)
			}
		}
	}
}

// TestParts: one part per core at most, never none, none shorter than
// minLen unless there is only one.
func TestParts(t *testing.T) {
	for _, c := range []struct{ n, minLen int }{{0, 10}, {5, 10}, {20, 10}, {1 << 20, 1 << 14}} {
		k := Parts(c.n, c.minLen)
		if k < 1 || k > 1 && c.n/k < c.minLen {
			t.Errorf("Parts(%d, %d) = %d", c.n, c.minLen, k)
		}
	}
}
