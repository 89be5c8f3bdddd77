package main

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveSearch is the definition search must meet: every window of hashLen
// base32 bytes, in order.
func naiveSearch(s []byte) []string {
	var out []string
	for i := 0; i+hashLen <= len(s); i++ {
		w := s[i : i+hashLen]
		if !slices.ContainsFunc(w, func(b byte) bool { return !isBase32[b] }) {
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
				b[i] = base32Alphabet[r.IntN(len(base32Alphabet))]
			}
		}
		if got, want := collect(b), naiveSearch(b); !slices.Equal(got, want) {
			t.Fatalf("search(%q) = %q, want %q", b, got, want)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	for _, bench := range []struct {
		name string
		data []byte
	}{
		{"Binary", func() []byte {
			r := rand.New(rand.NewPCG(3, 4))
			d := make([]byte, 1<<20)
			for i := range d {
				d[i] = byte(r.Uint32())
			}
			return d
		}()},
		{"Text", bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog /nix/store/"+h1+"-x\n"), 1<<20/80)},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.SetBytes(int64(len(bench.data)))
			for b.Loop() {
				search(bench.data, func([]byte) error { return nil })
			}
		})
	}
}
