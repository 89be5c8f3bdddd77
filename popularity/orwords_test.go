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

// TestSumBits: sumBits, eight weights at a time under a mask register
// where the CPU has AVX-512, gives for every row length up to 64 words the
// sum modulo 2^64 and the count of the bits a direct loop over every word
// and bit gives: words of no bits, a few, most and all, weights past 2^63
// (the sum wraps), words with bits the mask leaves out, and the last word
// of 64.
func TestSumBits(t *testing.T) {
	t.Logf("AVX-512: %v", useAVX512)
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 1; n <= 64; n++ {
		for range 40 {
			weights := make([]uint64, 64*n)
			for i := range weights {
				weights[i] = rng.Uint64() >> rng.IntN(64)
			}
			diff := make([]uint64, n)
			var mask uint64
			for k := range diff {
				switch rng.IntN(5) {
				case 0:
				case 1:
					diff[k] = ^uint64(0)
				case 2:
					diff[k] = 1 << rng.IntN(64)
				case 3:
					diff[k] = rng.Uint64() & rng.Uint64() & rng.Uint64()
				default:
					diff[k] = rng.Uint64()
				}
				if rng.IntN(6) > 0 {
					mask |= 1 << k
				}
			}
			var want uint64
			wantOnes := 0
			for k := range n {
				if mask>>k&1 == 0 {
					continue
				}
				for b := range 64 {
					if diff[k]>>b&1 == 1 {
						want += weights[64*k+b]
						wantOnes++
					}
				}
			}
			if got, ones := sumBits(weights, diff, mask); got != want || ones != wantOnes {
				t.Fatalf("%d words, mask %#x: sumBits gave %#x and %d bits, want %#x and %d", n, mask, got, ones, want, wantOnes)
			}
			if got, ones := sumBitsWords(weights, diff, mask); got != want || ones != wantOnes {
				t.Fatalf("%d words, mask %#x: sumBitsWords gave %#x and %d bits, want %#x and %d", n, mask, got, ones, want, wantOnes)
			}
		}
	}
	if got, ones := sumBits(nil, nil, 0); got != 0 || ones != 0 {
		t.Fatalf("no words: %d, %d", got, ones)
	}
}
