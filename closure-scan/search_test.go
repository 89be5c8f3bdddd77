package main

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/storefs"
)

// naiveSearch is the definition search must meet: every window of hashLen
// base32 bytes, in order.
func naiveSearch(s []byte) []string {
	var out []string
	for i := 0; i+hashLen <= len(s); i++ {
		w := s[i : i+hashLen]
		if !slices.ContainsFunc(w, func(b byte) bool { return !storefs.IsBase32(b) }) {
			out = append(out, string(w))
		}
	}
	return out
}

func collect(s []byte) []string {
	var out []string
	search(s, func(w []byte) error { out = append(out, string(w)); return nil })
	return out
}

const h1 = "0123456789abcdfghijklmnpqrsvwxyz"

func TestSearch(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"Empty", "", nil},
		{"ShorterThanAHash", h1[:31], nil},
		{"ExactlyAHash", h1, []string{h1}},
		{"InAStorePath", "/nix/store/" + h1 + "-hello/bin", []string{h1}},
		{"AtTheEnd", "x=" + h1, []string{h1}},
		{"LongerRunGivesEveryWindow", "zz" + h1, []string{"zz" + h1[:30], "z" + h1[:31], h1}},
		{"OneForbiddenLetterBreaksIt", h1[:16] + "e" + h1[17:], nil},
		{"UppercaseIsNotBase32", strings.ToUpper(h1), nil},
		{"TwoHashesBackToBack", h1 + "-" + h1, []string{h1, h1}},
		{"BinaryAround", "\x00\xff\x01" + h1 + "\x7f\x80", []string{h1}},
		{"RunOfOneLetter", strings.Repeat("a", 34), []string{strings.Repeat("a", 32), strings.Repeat("a", 32), strings.Repeat("a", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect([]byte(tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("search(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if n := naiveSearch([]byte(tt.in)); !slices.Equal(got, n) {
				t.Errorf("search(%q) = %q, naive search finds %q", tt.in, got, n)
			}
		})
	}
}

// TestSearchRandom compares search with the naive definition on data whose
// bytes are mostly base32, where runs start and stop everywhere.
func TestSearchRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			if r.IntN(40) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = storefs.Base32[r.IntN(len(storefs.Base32))]
			}
		}
		if got, want := collect(b), naiveSearch(b); !slices.Equal(got, want) {
			t.Fatalf("search(%q) = %q, want %q", b, got, want)
		}
	}
}

// benchData are the inputs of the search benchmarks, 8 MiB each: large
// enough that the branch predictor cannot learn them by heart.
const benchSize = 8 << 20

// TestAllBase32 puts every byte value at every position of a block of
// base32 bytes.
func TestAllBase32(t *testing.T) {
	for _, fill := range []byte{'0', '9', 'a', 'z', 'd', 'f', 'n', 'p', 's', 'v'} {
		for k := range 8 {
			for v := range 256 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[k] = byte(v)
				if got := allBase32(binary.LittleEndian.Uint64(b[:])); got != storefs.IsBase32(byte(v)) {
					t.Fatalf("allBase32(%q) = %v, want %v", b, got, storefs.IsBase32(byte(v)))
				}
			}
		}
	}
}

// TestSearchLong compares search with the naive definition on inputs long
// enough to hold many probed blocks, from mostly base32 (runs everywhere)
// to mostly not, with hashes planted at every offset around the blocks.
func TestSearchLong(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, other := range []int{3, 8, 40, 1000} { // one byte in other is not base32
		for range 200 {
			b := make([]byte, r.IntN(600))
			for i := range b {
				if r.IntN(other) == 0 {
					b[i] = byte(r.IntN(256))
				} else {
					b[i] = storefs.Base32[r.IntN(len(storefs.Base32))]
				}
			}
			if len(b) > hashLen {
				at := r.IntN(len(b) - hashLen + 1)
				copy(b[at:], h1)
				if at > 0 {
					b[at-1] = '/'
				}
			}
			if got, want := collect(b), naiveSearch(b); !slices.Equal(got, want) {
				t.Fatalf("search(%q) = %q, want %q", b, got, want)
			}
		}
	}
}

func benchData() map[string][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, benchSize)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	// What storegen fills text files with: package and C words, most of
	// whose letters are base32.
	// Drawn at random: a repeated pattern would train the branch
	// predictor as no real file does.
	vocabulary := strings.Fields("libxml2 pkgconfig harfbuzz static symbol libarchive shared vector libidn2 main check gnugrep libffi buffer ncurses coreutils")
	var words []byte
	for len(words) < benchSize {
		words = append(words, vocabulary[r.IntN(len(vocabulary))]...)
		words = append(words, " \n"[r.IntN(8)/7])
	}
	words = words[:benchSize]
	// storegen's binaries: 4 KiB blocks, random or text at random.
	mixed := make([]byte, benchSize)
	for k := 0; k < len(mixed); k += 4096 {
		src := random
		if r.IntN(2) == 0 {
			src = words
		}
		copy(mixed[k:k+4096], src[k:])
	}
	return map[string][]byte{
		"Binary": random,
		"Words":  words,
		"Mixed":  mixed,
		// Text dense with store paths, one in 80 bytes.
		"Paths": bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog /nix/store/"+h1+"-x\n"), benchSize/80),
	}
}

func BenchmarkSearch(b *testing.B) {
	for name, data := range benchData() {
		// Search is what the tool runs (the vector search where the CPU
		// has one); Probed the portable search; Backward the one before
		// it, for comparison.
		for fname, f := range map[string]func([]byte, func([]byte) error) error{"Search": search, "Probed": searchWords, "Backward": backwardSearch} {
			b.Run(name+"/"+fname, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					f(data, func([]byte) error { return nil })
				}
			})
		}
	}
}

// backwardSearch is search as it was before the probe, for comparison in
// benchmarks: as in Nix's RefScanSink, a window is tested from its last
// byte backwards: the first byte outside the alphabet, at i+j, rules out
// every window that starts at or before i+j. Inside a run, each next
// window only needs its new last byte tested. It is fast on binary data
// and slow on text, where that inner loop ends at a different byte each
// time and the branch predictor fails.
func backwardSearch(s []byte, found func(window []byte) error) error {
	n := len(s)
	i := 0
	for i+hashLen <= n {
		j := hashLen - 1
		for j >= 0 && storefs.IsBase32(s[i+j]) {
			j--
		}
		if j >= 0 {
			i += j + 1
			continue
		}
		for {
			if err := found(s[i : i+hashLen]); err != nil {
				return err
			}
			if i+hashLen >= n || !storefs.IsBase32(s[i+hashLen]) {
				i += hashLen + 1
				break
			}
			i++
		}
	}
	return nil
}
