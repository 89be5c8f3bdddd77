package poll

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortFuncSorts: on lengths around the runs and their merges, with
// many equal keys broken by the element's number, SortFunc gives what
// slices.SortStableFunc gives on the keys alone.
func TestSortFuncSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, Every - 1, Every, Every + 1, 3*Every + 17, 8 * Every, 100003} {
		keys := make([]int, n)
		for i := range keys {
			keys[i] = rng.IntN(50)
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		got := slices.Clone(want)
		slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
		if !SortFunc(got, func(a, b int32) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) }, nil, "sort") {
			t.Fatalf("n=%d: stopped without a done channel", n)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: not the stable order", n)
		}
	}
}

// TestSortFuncStops: cancelled at its third look, SortFunc returns false
// without looking again.
func TestSortFuncStops(t *testing.T) {
	done := make(chan struct{})
	looks := 0
	Hook = func(phase string, _ <-chan struct{}) {
		looks++
		if looks == 3 {
			close(done)
		}
	}
	defer func() { Hook = nil }()
	s := make([]int, 10*Every)
	for i := range s {
		s[i] = len(s) - i
	}
	if SortFunc(s, cmp.Compare[int], done, "sort") {
		t.Fatal("sorted after its done channel closed")
	}
	if looks != 3 {
		t.Fatalf("%d looks, want 3", looks)
	}
}
