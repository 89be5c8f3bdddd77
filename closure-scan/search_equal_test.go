package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/storefs"
)

// The tests here hold search (the vector search where the CPU has one, see
// search_amd64.go) to the portable searchWords and to naiveSearch: the
// same windows in the same order.

// nearMiss are bytes outside storefs.Base32 next to it: the neighbours of
// its ranges, the letters it leaves out, upper case, and bytes of 0x80 or
// more whose low 7 bits or low nibble are base32.
var nearMiss = []byte("/:`{@[eotuAEOTUZ \x00\n\x7f\x80\xb0\xb9\xe1\xe6\xef\xf4\xfa\xff\x10\x21\x41\x51\x5a")

func init() {
	for _, b := range nearMiss {
		if storefs.IsBase32(b) {
			panic(fmt.Sprintf("nearMiss holds %q, a base32 byte", b))
		}
	}
}

func collectWith(search func([]byte, func([]byte) error) error, s []byte) []string {
	var out []string
	search(s, func(w []byte) error { out = append(out, string(w)); return nil })
	return out
}

// checkSearch fails t unless search finds in b what searchWords and
// naiveSearch find.
func checkSearch(t *testing.T, b []byte) {
	t.Helper()
	got, want := collect(b), naiveSearch(b)
	if words := collectWith(searchWords, b); !slices.Equal(words, want) {
		t.Fatalf("searchWords on %d bytes %.200q: %s", len(b), b, windowsDiff(words, want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("search on %d bytes %.200q: %s", len(b), b, windowsDiff(got, want))
	}
}

// windowsDiff says where got and want part.
func windowsDiff(got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	at := func(w []string) string {
		if i < len(w) {
			return fmt.Sprintf("%q", w[i])
		}
		return "the end"
	}
	return fmt.Sprintf("%d windows, want %d; window %d is %s, want %s", len(got), len(want), i, at(got), at(want))
}

// base32Bytes returns n random base32 bytes.
func base32Bytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = storefs.Base32[r.IntN(len(storefs.Base32))]
	}
	return b
}

// filler returns n bytes, half base32 and half near misses.
func filler(r *rand.Rand, n int) []byte {
	b := base32Bytes(r, n)
	for i := range b {
		if r.IntN(2) == 0 {
			b[i] = nearMiss[r.IntN(len(nearMiss))]
		}
	}
	return b
}

// TestSearchRuns puts a base32 run of every length 0..80 at every offset
// 0..63 from the buffer's start, so at every alignment to the vector
// search's 32-byte blocks, ended by a near miss or by the buffer's end
// and followed by buffers of lengths that end it at every alignment.
func TestSearchRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for n := range 81 {
		for off := range 64 {
			for _, tail := range []int{0, 1, 2, 7, 30, 31, 32, 33, 63, 64, 100} {
				b := filler(r, off)
				if off > 0 {
					b[off-1] = nearMiss[r.IntN(len(nearMiss))]
				}
				b = append(b, base32Bytes(r, n)...)
				b = append(b, filler(r, tail)...)
				if tail > 0 {
					b[off+n] = nearMiss[r.IntN(len(nearMiss))]
				}
				checkSearch(t, b)
			}
		}
	}
}

// TestSearchTwoRuns: two runs of about a window each, one near miss apart,
// at every alignment, so that a run starts where the one before ends and
// both cross blocks.
func TestSearchTwoRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for n1 := 28; n1 <= 40; n1++ {
		for n2 := 28; n2 <= 40; n2++ {
			for off := range 32 {
				for range 4 {
					sep := nearMiss[r.IntN(len(nearMiss))]
					b := filler(r, off)
					b = append(b, base32Bytes(r, n1)...)
					b = append(b, sep)
					b = append(b, base32Bytes(r, n2)...)
					b = append(b, filler(r, r.IntN(40))...)
					checkSearch(t, b)
				}
			}
		}
	}
}

// TestSearchEveryByte puts every byte value at every position of a run of
// three blocks of base32 bytes: every lane of the vector classifies all
// 256 values.
func TestSearchEveryByte(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	run := base32Bytes(r, 96)
	for k := range run {
		for v := range 256 {
			b := slices.Clone(run)
			b[k] = byte(v)
			checkSearch(t, b)
		}
	}
}

// searchInputs are random inputs of every length 0..300 and a few large
// ones: random bytes, text, base32 with near misses one in 40, and
// store-path-like text, each from its own generator.
func searchInputs() [][]byte {
	r := rand.New(rand.NewPCG(17, 18))
	words := strings.Fields("libxml2 pkgconfig harfbuzz static symbol /nix/store/ shared vector libidn2 main check gnugrep libffi buffer ncurses coreutils")
	kinds := []func(n int) []byte{
		func(n int) []byte { // random bytes
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		},
		func(n int) []byte { // text, now and then a hash
			var b []byte
			for len(b) < n {
				if r.IntN(10) == 0 {
					b = append(b, base32Bytes(r, hashLen+r.IntN(3))...)
				} else {
					b = append(b, words[r.IntN(len(words))]...)
				}
				b = append(b, " \n-/"[r.IntN(4)])
			}
			return b[:n]
		},
		func(n int) []byte { // base32, near misses one in 40
			b := base32Bytes(r, n)
			for i := range b {
				if r.IntN(40) == 0 {
					b[i] = nearMiss[r.IntN(len(nearMiss))]
				}
			}
			return b
		},
		func(n int) []byte { // runs of random length, one near miss apart
			var b []byte
			for len(b) < n {
				b = append(b, base32Bytes(r, r.IntN(70))...)
				b = append(b, nearMiss[r.IntN(len(nearMiss))])
			}
			return b[:n]
		},
	}
	var inputs [][]byte
	for _, kind := range kinds {
		for n := range 301 {
			inputs = append(inputs, kind(n))
		}
		for _, n := range []int{1000, 4096 + 13, 1<<16 + 7, 1<<20 + 3} {
			inputs = append(inputs, kind(n))
		}
	}
	return inputs
}

// TestSearchEqual compares search with searchWords and naiveSearch on
// searchInputs.
func TestSearchEqual(t *testing.T) {
	for _, b := range searchInputs() {
		checkSearch(t, b)
	}
}

// TestSearchStopsAtError: when found fails at its k-th window, search
// returns that error having given found the same k windows as the
// portable search, for every k.
func TestSearchStopsAtError(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	stop := errors.New("stop")
	var inputs [][]byte
	for _, n := range []int{32, 33, 63, 64, 65, 100, 300} {
		inputs = append(inputs, base32Bytes(r, n))
	}
	for _, b := range searchInputs() {
		if len(b) <= 300 && len(naiveSearch(b)) > 0 {
			inputs = append(inputs, b)
		}
	}
	for _, b := range inputs {
		want := naiveSearch(b)
		for k := 1; k <= len(want); k++ {
			for name, f := range map[string]func([]byte, func([]byte) error) error{"search": search, "searchWords": searchWords} {
				var got []string
				err := f(b, func(w []byte) error {
					got = append(got, string(w))
					if len(got) == k {
						return stop
					}
					return nil
				})
				if err != stop || !slices.Equal(got, want[:k]) {
					t.Fatalf("%s(%.200q), found failing at window %d: returned %v, want %v; %s", name, b, k, err, stop, windowsDiff(got, want[:k]))
				}
			}
		}
	}
}
