package main

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOrWords: or3 and orDiff, four words at a time where the CPU has
// AVX2 and a word at a time after, give for every row length up to 64
// words, and with the result written over x, what a direct loop over the
// words gives; the mask has a bit for exactly the nonzero words of diff.
func TestOrWords(t *testing.T) {
	t.Logf("AVX2: %v", useAVX2)
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return rng.Uint64() & rng.Uint64() & rng.Uint64()
		default:
			return rng.Uint64()
		}
	}
	row := func(n int) []uint64 {
		r := make([]uint64, n)
		for k := range r {
			r[k] = word()
		}
		return r
	}
	for n := 0; n <= 64; n++ {
		for range 50 {
			x, a, b, base := row(n), row(n), row(n), row(n)
			for k := range base {
				if rng.IntN(3) == 0 {
					base[k] |= x[k] | a[k] | b[k] // no new bits in this word
				}
			}
			want, wantDiff, wantMask := make([]uint64, n), make([]uint64, n), uint64(0)
			for k := range want {
				want[k] = x[k] | a[k] | b[k]
				wantDiff[k] = want[k] &^ base[k]
				if wantDiff[k] != 0 {
					wantMask |= 1 << k
				}
			}
			got := make([]uint64, n)
			or3(got, x, a, b)
			if !slices.Equal(got, want) {
				t.Fatalf("%d words: or3 gave %#x, want %#x", n, got, want)
			}
			inPlace := slices.Clone(x)
			or3(inPlace, inPlace, a, b)
			if !slices.Equal(inPlace, want) {
				t.Fatalf("%d words: or3 over x gave %#x, want %#x", n, inPlace, want)
			}
			diff := make([]uint64, n)
			inPlace = slices.Clone(x)
			mask := orDiff(inPlace, inPlace, a, b, base, diff)
			if !slices.Equal(inPlace, want) || !slices.Equal(diff, wantDiff) || mask != wantMask {
				t.Fatalf("%d words: orDiff gave row %#x, diff %#x, mask %#x; want %#x, %#x, %#x", n, inPlace, diff, mask, want, wantDiff, wantMask)
			}
		}
	}
}
