package main

import (
	"math/rand/v2"
	"testing"
)

// TestOrAddWithoutAVX512: on a CPU with AVX-512, the one-word sums of the
// other CPUs (a bit at a time, dense words by their complement) are still
// checked, in orAdd and in whole rankings, as TestOrAdd checks the vector
// ones.
func TestOrAddWithoutAVX512(t *testing.T) {
	if !useAVX512 {
		t.Log("no AVX-512: TestOrAdd checked the one-word sums without it")
	}
	defer func(v bool) { useAVX512 = v }(useAVX512)
	useAVX512 = false
	testOrAdd(t, 1)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range 60 {
		checkRanking(t, randomDAG(t, rng, 1+rng.IntN(14), []float64{0.1, 0.3, 0.6}[i%3]), 1+i%2)
	}
}
