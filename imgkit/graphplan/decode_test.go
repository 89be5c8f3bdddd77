package graphplan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// agree checks the fast decoder against encoding/json on one document:
// when the fast one accepts it, the slow one must give the same graph.
func agree(t *testing.T, doc string) (accepted bool) {
	t.Helper()
	fast, ok := decodeArrayFast([]byte(doc), nil, nil)
	if !ok {
		return false
	}
	slow, err := decodeArray([]byte(doc), foldedKeys([]byte(doc)))
	if err != nil {
		t.Fatalf("the fast decoder accepts %q, encoding/json says %v", doc, err)
	}
	if !reflect.DeepEqual(fast.Canonical(), slow.Canonical()) {
		t.Fatalf("%q: the fast decoder gives\n%v\nencoding/json gives\n%v", doc, fast, slow)
	}
	return true
}

func TestDecodeArrayFast(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		accept bool // false: left to encoding/json
	}{
		{"Canonical", canonical, true},
		{"Empty", `[]`, true},
		{"Spaces", " [ {\t\"path\" : \"/s/a\" ,\r\n \"narSize\":0 , \"references\" : [ ] } ] ", true},
		{"MembersInAnyOrder", `[{"references":["/s/a"],"narSize":7,"path":"/s/a"}]`, true},
		{"NoReferences", `[{"path":"/s/a","narSize":7}]`, true},
		{"Unicode", `[{"path":"/s/a-é-日本","narSize":1,"references":["/s/a-é-日本"]}]`, true},
		{"LargestNarSize", `[{"path":"/s/a","narSize":18446744073709551615,"references":[]}]`, true},
		{"NarSizeOverflows", `[{"path":"/s/a","narSize":18446744073709551616,"references":[]}]`, false},
		{"NarSizeFraction", `[{"path":"/s/a","narSize":1.0,"references":[]}]`, false},
		{"NarSizeExponent", `[{"path":"/s/a","narSize":1e3,"references":[]}]`, false},
		{"NarSizeNegative", `[{"path":"/s/a","narSize":-1,"references":[]}]`, false},
		{"NarSizeLeadingZero", `[{"path":"/s/a","narSize":01,"references":[]}]`, false},
		{"NarSizeNull", `[{"path":"/s/a","narSize":null,"references":[]}]`, false},
		{"NarSizeString", `[{"path":"/s/a","narSize":"1","references":[]}]`, false},
		{"Escape", `[{"path":"/s/\u0061","narSize":1,"references":[]}]`, false},
		{"InvalidUTF8", "[{\"path\":\"/s/\xff\",\"narSize\":1,\"references\":[]}]", false},
		{"ControlCharacter", "[{\"path\":\"/s/\ta\",\"narSize\":1,\"references\":[]}]", false},
		{"OtherMember", `[{"path":"/s/a","deriver":"/s/x.drv","narSize":1,"references":[]}]`, false},
		{"NarHash", `[{"path":"/s/a","narHash":"sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73","narSize":1,"references":[]}]`, true},
		{"NarHashSRI", `[{"path":"/s/a","narHash":"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","narSize":1,"references":[]}]`, false},
		{"NarHashInvalid", `[{"path":"/s/a","narHash":"sha256-x","narSize":1,"references":[]}]`, false},
		{"NarHashTwice", `[{"path":"/s/a","narHash":"sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73","narHash":"sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73","narSize":1,"references":[]}]`, false},
		{"KeyInOtherCase", `[{"Path":"/s/a","narSize":1,"references":[]}]`, false},
		{"DuplicateMember", `[{"path":"/s/a","path":"/s/b","narSize":1,"references":[]}]`, false},
		{"NoPath", `[{"narSize":1,"references":[]}]`, false},
		{"EmptyPath", `[{"path":"","narSize":1,"references":[]}]`, false},
		{"NoNarSize", `[{"path":"/s/a","references":[]}]`, false},
		{"NullReferences", `[{"path":"/s/a","narSize":1,"references":null}]`, false},
		{"NullNode", `[null]`, false},
		{"EmptyObject", `[{}]`, false},
		{"TrailingComma", `[{"path":"/s/a","narSize":1,"references":[]},]`, false},
		{"TrailingData", `[{"path":"/s/a","narSize":1,"references":[]}] x`, false},
		{"Unterminated", `[{"path":"/s/a","narSize":1,"references":[]}`, false},
		{"UnterminatedString", `[{"path":"/s/a`, false},
		{"Object", `{"/s/a":{"narSize":1,"references":[]}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := agree(t, tt.doc); got != tt.accept {
				t.Errorf("accepted = %v, want %v", got, tt.accept)
			}
		})
	}
}

// TestDecodeArrayFastSortsReferences: the fast decoder gives every
// reference list sorted and without duplicates, in one piece and in
// parts, since ReadGraph then checks no list's order.
func TestDecodeArrayFastSortsReferences(t *testing.T) {
	var elems []string
	for i := range 300 {
		elems = append(elems, node(fmt.Sprintf("/s/%03d", i),
			fmt.Sprintf("/s/%03d", (i+7)%300), fmt.Sprintf("/s/%03d", i), fmt.Sprintf("/s/%03d", (i+7)%300), fmt.Sprintf("/s/%03d", i/2)))
	}
	doc := doc(elems...)
	for k := 1; k <= 3; k++ {
		g, ok := decodeParts(doc, k, nil, nil)
		if !ok {
			t.Fatalf("%d parts: not accepted", k)
		}
		for _, n := range g {
			if !increasing(n.References, strings.Compare) {
				t.Fatalf("%d parts: %s has references %q", k, n.Path, n.References)
			}
		}
		if got := g.Canonical(); !sameNodes(g, got) {
			t.Fatalf("%d parts: the graph is not Canonical's, but for the order of the nodes", k)
		}
	}
}

// TestDecodeArrayFastMutations changes bytes of a valid graph at random:
// whatever the fast decoder accepts, encoding/json must read the same.
func TestDecodeArrayFastMutations(t *testing.T) {
	doc := []byte(`[
{"path":"/nix/store/aaa-a","narSize":120,"references":[]},
{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]},
{ "references" : [ "/nix/store/bbb-b" ] , "narSize" : 9 , "path" : "/nix/store/ccc-ç" }
]`)
	alphabet := []byte(" \t\n{}[],:\"\\0123456789.-+eE/abnrtuxyz\x00\x1f\x7f\xc3\xa7\xff")
	r := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for range 20000 {
		if agree(t, string(mutate(r, doc, alphabet, 3))) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Error("the fast decoder accepted no mutation: the test proves nothing")
	}
}

// mutate returns a copy of doc with 1 to edits bytes replaced, deleted or
// inserted at random, the new bytes from alphabet.
func mutate(r *rand.Rand, doc, alphabet []byte, edits int) []byte {
	m := bytes.Clone(doc)
	for range 1 + r.IntN(edits) {
		i := r.IntN(len(m))
		switch r.IntN(3) {
		case 0:
			m[i] = alphabet[r.IntN(len(alphabet))]
		case 1:
			m = append(m[:i], m[i+1:]...)
		default:
			m = append(m[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, m[i:]...)...)
		}
	}
	return m
}

// largeGraph is a canonical graph document of n paths with k references
// each, to earlier paths.
func largeGraph(n, k int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/nix/store/%032d-pkg-%d", i, r.IntN(100))
	}
	g := make(Graph, n)
	for i := range g {
		var refs []string
		for range min(i, k) {
			refs = append(refs, paths[r.IntN(i)])
		}
		g[i] = PathInfo{Path: paths[i], NarSize: r.Uint64N(1 << 30), References: refs}
	}
	var buf bytes.Buffer
	if err := WriteGraph(&buf, g); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// BenchmarkReadGraph measures the fast decoder against encoding/json on
// the same steps (ReadGraph's: the read, the text check, the decoding and
// the canonical, closed check), so that its comment can give the gain.
func BenchmarkReadGraph(b *testing.B) {
	doc := largeGraph(100_000, 8)
	// A spaced copy takes the same fast path.
	spaced := []byte(strings.ReplaceAll(string(doc), ",", " , "))
	for name, doc := range map[string][]byte{"Canonical": doc, "Spaced": spaced} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := ReadGraph(bytes.NewReader(doc), ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// ReadGraph without the fast decoder.
	b.Run("EncodingJSON", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			data, err := readAll(bytes.NewReader(doc))
			if err == nil {
				err = checkText(data)
			}
			var g Graph
			if err == nil {
				g, err = decodeArray(data, foldedKeys(data))
			}
			if err == nil {
				_, err = g.check(context.Background(), false)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPlain checks the word-at-a-time test against the byte loop on every
// byte value at every position of strings of 0 to 17 bytes.
func TestPlain(t *testing.T) {
	want := func(s []byte) bool {
		for _, c := range s {
			if c < 0x20 || c == '\\' || c >= 0x80 {
				return false
			}
		}
		return true
	}
	for n := range 18 {
		for pos := range n {
			for c := range 256 {
				s := bytes.Repeat([]byte{'a'}, n)
				s[pos] = byte(c)
				if got := plain(s); got != want(s) {
					t.Fatalf("plain(%q) = %v", s, got)
				}
				// Around a bad byte too: a borrow must not hide or invent one.
				if pos > 0 {
					s[pos-1] = 0x1f
					if got := plain(s); got != want(s) {
						t.Fatalf("plain(%q) = %v", s, got)
					}
				}
			}
		}
	}
}

// TestPlainEnd checks the word-at-a-time search against a byte loop on
// every byte value at every position of strings of 0 to 17 bytes, with
// a quote after them or not, and another special byte before the first
// one or not.
func TestPlainEnd(t *testing.T) {
	want := func(s []byte) int {
		for i, c := range s {
			if c == '"' {
				return i
			}
			if c < 0x20 || c == '\\' || c >= 0x80 {
				return -1
			}
		}
		return -1
	}
	for n := range 18 {
		for pos := range n {
			for c := range 256 {
				for _, tail := range []string{"", `"`, `x"`} {
					s := append(bytes.Repeat([]byte{'a'}, n), tail...)
					s[pos] = byte(c)
					if got := plainEnd(s); got != want(s) {
						t.Fatalf("plainEnd(%q) = %d, want %d", s, got, want(s))
					}
					// A borrow from a special byte before must not hide
					// or invent one.
					if pos > 0 {
						s[pos-1] = 0x1f
						if got := plainEnd(s); got != want(s) {
							t.Fatalf("plainEnd(%q) = %d, want %d", s, got, want(s))
						}
					}
				}
			}
		}
	}
}
