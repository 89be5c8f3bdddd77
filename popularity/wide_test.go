package main

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// The fixed-width arithmetic against math/big, carries and borrows across
// every word included.
func TestWideArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for range 2000 {
		w := 1 + rng.IntN(4)
		a, b := make([]uint64, w), make([]uint64, w)
		for i := range a {
			a[i], b[i] = rng.Uint64(), rng.Uint64()
			if rng.IntN(3) == 0 { // long carry chains
				a[i] = ^uint64(0)
			}
		}
		ba, bb := bigOf(a), bigOf(b)
		limit := new(big.Int).Lsh(big.NewInt(1), uint(64*w))

		sum := append([]uint64(nil), a...)
		carry := addTo(sum, b)
		want := new(big.Int).Add(ba, bb)
		if got := new(big.Int).Add(bigOf(sum), new(big.Int).Mul(big.NewInt(int64(carry)), limit)); got.Cmp(want) != 0 {
			t.Fatalf("%v + %v = %v carry %d", ba, bb, bigOf(sum), carry)
		}
		if got, want := compareWide(a, b), ba.Cmp(bb); got != want {
			t.Fatalf("compare %v %v = %d, want %d", ba, bb, got, want)
		}
		if ba.Cmp(bb) >= 0 {
			diff := append([]uint64(nil), a...)
			subFrom(diff, b)
			if bigOf(diff).Cmp(new(big.Int).Sub(ba, bb)) != 0 {
				t.Fatalf("%v − %v = %v", ba, bb, bigOf(diff))
			}
		}
		if got := wordsOf(a); bigOf(a[:got]).Cmp(ba) != 0 || (got > 1 && a[got-1] == 0) {
			t.Fatalf("wordsOf(%v) = %d", a, got)
		}
	}
}

// pathCounts widens until the total fits, keeping the exact counts made
// before, and trims to its width.
func TestPathCountsWidth(t *testing.T) {
	for _, c := range []struct {
		n     int
		words int
	}{{10, 1}, {90, 1}, {95, 2}, {200, 3}, {1000, 11}} {
		g := ladder(t, c.n)
		topo := rankable(g, nil)
		pos := make([]int32, c.n)
		for k, x := range topo {
			pos[x] = int32(k)
		}
		parents := topoParents(g, topo, pos, nil)
		counts, w := mustPathCounts(t, parents)
		if w != c.words {
			t.Errorf("ladder of %d: width %d, want %d", c.n, w, c.words)
		}
		// Every count, also those made before a widening, is exact.
		want := make([]*big.Int, c.n)
		for i := range c.n {
			want[i] = big.NewInt(0)
			for _, p := range parents.of(int32(i)) {
				want[i].Add(want[i], want[p])
			}
			if len(parents.of(int32(i))) == 0 {
				want[i].SetInt64(1)
			}
			if got := bigOf(counts[i*w : i*w+w]); got.Cmp(want[i]) != 0 {
				t.Fatalf("ladder of %d: R(%d) = %v, want %v", c.n, i, got, want[i])
			}
		}
		last := bigOf(counts[(c.n-1)*w:])
		if fib := fibonacci(c.n); last.Cmp(fib) != 0 {
			t.Errorf("ladder of %d: R(last) = %v, want %v", c.n, last, fib)
		}
	}
}

// fibonacci(n) is the number of paths through a ladder of n nodes: F(n)
// with F(1) = F(2) = 1.
func fibonacci(n int) *big.Int {
	a, b := big.NewInt(0), big.NewInt(1)
	for range n - 1 {
		a.Add(a, b)
		a, b = b, a
	}
	return b
}

// TestTopBits: topShift leaves the greatest of the numbers 64 bits (or
// fewer when all fit), and topBits is the number shifted right by it, as
// math/big computes it, for widths 1 to 4 and numbers of every length.
func TestTopBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for w := 1; w <= 4; w++ {
		for range 200 {
			n := 1 + rng.IntN(20)
			a := make([]uint64, n*w)
			bitsLen := 1 + rng.IntN(64*w)
			for i := range n {
				l := 1 + rng.IntN(bitsLen) // this number's bit length at most
				for k := range w {
					if rest := l - 64*k; rest >= 64 {
						a[i*w+k] = rng.Uint64()
					} else if rest > 0 {
						a[i*w+k] = rng.Uint64() >> (64 - rest)
					}
				}
			}
			shift := topShift(a, w)
			longest := 0
			for i := range n {
				longest = max(longest, bigOf(a[i*w:i*w+w]).BitLen())
			}
			if want := max(0, longest-64); int(shift) != want {
				t.Fatalf("w=%d: shift %d for numbers of up to %d bits, want %d", w, shift, longest, want)
			}
			for i := range n {
				want := new(big.Int).Rsh(bigOf(a[i*w:i*w+w]), shift)
				if got := topBits(a[i*w:i*w+w], shift); !want.IsUint64() || got != want.Uint64() {
					t.Fatalf("w=%d: topBits(%v, %d) = %#x, want %v", w, bigOf(a[i*w:i*w+w]), shift, got, want)
				}
			}
		}
	}
}
