package main

import "testing"

// TestSearchWithoutAVX2: on a CPU with AVX2, the portable search of the
// other CPUs is still checked, by the search tests run with useAVX2
// false, as they check the vector search.
func TestSearchWithoutAVX2(t *testing.T) {
	if !useAVX2 {
		t.Log("no AVX2: the other tests checked the portable search")
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	useAVX2 = false
	for _, test := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"TestSearch", TestSearch},
		{"TestSearchRandom", TestSearchRandom},
		{"TestSearchLong", TestSearchLong},
		{"TestSearchRuns", TestSearchRuns},
		{"TestSearchTwoRuns", TestSearchTwoRuns},
		{"TestSearchEveryByte", TestSearchEveryByte},
		{"TestSearchEqual", TestSearchEqual},
		{"TestSearchStopsAtError", TestSearchStopsAtError},
	} {
		t.Run(test.name, test.f)
	}
}
