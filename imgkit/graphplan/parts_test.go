package graphplan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// samePieces checks that decoding doc in k parts gives what decoding it in
// one piece gives: the same acceptance, the same nodes in the same order,
// and every reference the very string of its node's path.
func samePieces(t *testing.T, doc []byte, k int) (accepted bool) {
	t.Helper()
	want, wantOK := decodeParts(doc, 1, nil, nil)
	got, ok := decodeParts(doc, k, nil, nil)
	if ok != wantOK {
		t.Fatalf("%d parts of %q: accepted %v, in one piece %v", k, doc, ok, wantOK)
	}
	if !ok {
		return false
	}
	if !sameNodes(got, want) {
		t.Fatalf("%d parts of %q give\n%v\nin one piece\n%v", k, doc, got, want)
	}
	checkInterned(t, got)
	return true
}

// sameNodes reports whether a and b hold the same nodes in the same order
// (an empty reference list is nil or not, as it happens: ReadGraph makes
// it canonical).
func sameNodes(a, b Graph) bool {
	return slices.EqualFunc(a, b, func(m, n PathInfo) bool {
		return m.Path == n.Path && m.NarHash == n.NarHash && m.NarSize == n.NarSize && slices.Equal(m.References, n.References)
	})
}

// checkInterned fails unless every reference of g is the string (the same
// bytes in memory) of the path of a node.
func checkInterned(t *testing.T, g Graph) {
	t.Helper()
	paths := map[*byte]bool{}
	for _, n := range g {
		paths[unsafe.StringData(n.Path)] = true
	}
	for _, n := range g {
		for _, r := range n.References {
			if !paths[unsafe.StringData(r)] {
				t.Fatalf("%q's reference %q is a copy of the path, not the path's string", n.Path, r)
			}
		}
	}
}

// node is one element of a test document.
func node(path string, refs ...string) string {
	q := make([]string, len(refs))
	for i, r := range refs {
		q[i] = `"` + r + `"`
	}
	return fmt.Sprintf(`{"path":"%s","narSize":1,"references":[%s]}`, path, strings.Join(q, ","))
}

// doc is a document of the given elements, one per line.
func doc(elems ...string) []byte { return []byte("[\n" + strings.Join(elems, ",\n") + "\n]\n") }

// TestDecodeParts: documents decoded in 2 to 5 parts against one piece,
// with cuts between elements, inside strings that look like a cut, and
// past the array's end, and parts that must fail the whole: a path listed
// in two parts, a reference to no node, a bad element after a cut, a
// document cut short.
func TestDecodeParts(t *testing.T) {
	many := make([]string, 40)
	for i := range many {
		many[i] = node(fmt.Sprintf("/s/%02d", i), fmt.Sprintf("/s/%02d", (i+1)%40), fmt.Sprintf("/s/%02d", (i+7)%40))
	}
	many = slices.Clip(many)                             // so that appending to it copies
	long := "/s/" + strings.Repeat("x", arenaSize/16+10) // a record of its own
	tests := []struct {
		name   string
		doc    []byte
		accept bool
	}{
		{"Many", doc(many...), true},
		{"Canonical", []byte(canonical), true},
		{"Empty", []byte(`[]`), true},
		{"One", doc(node("/s/a", "/s/a")), true},
		// Elements reference paths of earlier and later parts: the
		// parts' tables are joined.
		{"ReferencesAcrossParts", doc(append([]string{node("/s/y", "/s/x", "/s/39")}, append(many, node("/s/x", "/s/00", "/s/y"))...)...), true},
		{"CutInString", doc(node("/s/a,{b", "/s/a,{b"), node("/s/,{", "/s/a,{b"), node("/s/c, {path:/s/d", "/s/,{")), true},
		{"CutsInStrings", doc(append([]string{node("/s/"+strings.Repeat(",{", 200), "/s/00")}, many...)...), true},
		{"LongStrings", doc(node(long, long+"y"), node(long+"y", long), node("/s/z", long)), true},
		{"Spaced", []byte(strings.ReplaceAll(string(doc(many...)), ",", " ,\r\n\t ")), true},
		{"PathInTwoParts", doc(append(many, many[3])...), false},
		{"PathTwiceInOnePart", doc(append(many, many[25], many[25])...), false},
		{"ReferenceToNoNode", doc(append(many, node("/s/q", "/s/nowhere"))...), false},
		{"EmptyReference", doc(append(many, node("/s/q", ""))...), false},
		{"BadElementLate", doc(append(many, `{"path":"/s/q","narSize":-1}`)...), false},
		{"EscapeLate", doc(append(many, `{"path":"/s/\u0071","narSize":1}`)...), false},
		{"Truncated", doc(many...)[:len(doc(many...))*3/4], false},
		{"TrailingData", append(doc(many...), `,{"path":"/s/x","narSize":1}]`...), false},
		{"EndsEarly", append(doc(many[:3]...), bytes.Repeat([]byte(`,{"path":"/s/x","narSize":1}`), 30)...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k := 2; k <= 5; k++ {
				if got := samePieces(t, tt.doc, k); got != tt.accept {
					t.Errorf("%d parts: accepted = %v, want %v", k, got, tt.accept)
				}
			}
		})
	}
}

// TestDecodePartsAtEveryCut decodes a document in two parts cut at every
// '{' (element starts and '{' in strings) and checks the result: a cut
// that is an element's start joins, any other leaves the document to be
// decoded on in one piece, and the result is always the same.
func TestDecodePartsAtEveryCut(t *testing.T) {
	data := largeGraph(30, 4)
	want, ok := decodeParts(data, 1, nil, nil)
	if !ok {
		t.Fatal("the fast decoder refuses the test document")
	}
	joined := 0
	for at := 1; at < len(data); at++ {
		if data[at] != '{' {
			continue
		}
		got, ok, j := decodeAt(data, []int{at}, nil, nil)
		if !ok || !sameNodes(got, want) {
			t.Fatalf("cut at %d: accepted %v,\n%v\nwant\n%v", at, ok, got, want)
		}
		checkInterned(t, got)
		joined += j
	}
	if joined < 29 {
		t.Errorf("%d cuts joined, want every element's start after the first", joined)
	}
}

// TestDecodePartsMutations: random changes to a document decoded in
// parts give what the decoder in one piece gives.
func TestDecodePartsMutations(t *testing.T) {
	base := largeGraph(12, 3)
	alphabet := []byte(" \t\n{}[],:\"\\0123456789-/abnrtu\x00\xff")
	r := rand.New(rand.NewPCG(7, 8))
	accepted := 0
	for range 5000 {
		if samePieces(t, mutate(r, base, alphabet, 2), 2+r.IntN(4)) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Error("no mutation was accepted: the test proves nothing")
	}
}

// TestCuts: the guesses are ascending element starts (a '{' after a
// comma), none at the start, at most k-1, and none in a document without
// one.
func TestCuts(t *testing.T) {
	data := doc(node("/s/a"), node("/s/b"), node("/s/c"), node("/s/d"))
	for k := 1; k <= 8; k++ {
		at := cuts(data, k)
		if len(at) > k-1 {
			t.Fatalf("k=%d: %d cuts", k, len(at))
		}
		for i, c := range at {
			if data[c] != '{' || bytes.TrimRight(data[:c], " \t\r\n")[len(bytes.TrimRight(data[:c], " \t\r\n"))-1] != ',' || i > 0 && c <= at[i-1] {
				t.Fatalf("k=%d: cuts %v in %q", k, at, data)
			}
		}
	}
	if at := cuts(doc(node("/s/a")), 4); len(at) != 0 {
		t.Errorf("cuts %v in a document of one element", at)
	}
}

// TestDecodeRoom: a typical graph (some 500 bytes of the document a
// path, 8 references each) is decoded in parts without growing the
// nodes, the numbers of the parts or the strings of the tables: each
// growth wrote and copied its array again, a page fault every 4 KiB.
func TestDecodeRoom(t *testing.T) {
	doc := largeGraph(20_000, 8)
	if per := len(doc) / 20_000; per < 512 {
		t.Fatalf("%d bytes a path: fewer than the room made for", per)
	}
	at := cuts(doc, 2)
	for i := range len(at) + 1 {
		start, end := 0, len(doc)
		if i > 0 {
			start = at[i-1]
		}
		if i < len(at) {
			end = at[i]
		}
		d := newPart(doc, start, end)
		if i == 0 { // as decodeAt's
			d = newDecoder(doc, len(doc))
			d.space()
			d.consume('[')
			d.space()
		}
		room := [...]int{cap(d.g), cap(d.pathIDs), cap(d.refIDs), cap(d.ids.strs)}
		if _, ok := d.items(end); !ok {
			t.Fatalf("part %d does not decode", i)
		}
		if got := [...]int{cap(d.g), cap(d.pathIDs), cap(d.refIDs), cap(d.ids.strs)}; got != room {
			t.Errorf("part %d: nodes, path numbers, reference numbers and strings grew from room for %v to %v", i, room, got)
		}
	}
}

// TestDecodePartTables: with many parts (many cores), a part's table of
// strings starts at room for twice its paths, not the whole document's:
// the parts' tables would be made and written at once, many times the
// document's paths in all.
func TestDecodePartTables(t *testing.T) {
	doc := largeGraph(20_000, 8)
	whole := len(newDecoder(doc, len(doc)).ids.slots)
	at := cuts(doc, 8)
	for i, start := range at[:len(at)-1] {
		if n := len(newPart(doc, start, at[i+1]).ids.slots); 4*n > whole {
			t.Errorf("part %d of 8: a table of %d slots, the whole document's has %d", i+1, n, whole)
		}
	}
}
