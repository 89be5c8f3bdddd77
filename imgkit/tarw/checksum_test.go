package tarw

import (
	"math/rand/v2"
	"testing"
)

// TestByteSum: byteSum is the plain sum of a block's bytes, for blocks of
// random bytes, of all 0xff (the largest sum) and of zeros.
func TestByteSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var b [BlockSize]byte
	for i := range 1000 {
		for k := range b {
			switch i {
			case 0:
				b[k] = 0xff
			case 1:
				b[k] = 0
			default:
				b[k] = byte(rng.Uint32())
			}
		}
		want := 0
		for _, c := range b {
			want += int(c)
		}
		if got := byteSum(&b); got != want {
			t.Fatalf("block %d: byteSum = %d, want %d", i, got, want)
		}
	}
}

// TestASCIIPrefix: asciiPrefix finds the first byte that is not ASCII at
// every position of strings longer and shorter than eight bytes.
func TestASCIIPrefix(t *testing.T) {
	for n := range 20 {
		for at := 0; at <= n; at++ {
			b := make([]byte, n)
			for k := range b {
				b[k] = 'a'
			}
			if at < n {
				b[at] = 0xc3
			}
			if got := asciiPrefix(string(b)); got != at {
				t.Fatalf("%q: asciiPrefix = %d, want %d", b, got, at)
			}
		}
	}
}
