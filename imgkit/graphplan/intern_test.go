package graphplan

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// TestInterner numbers strings in order of appearance, the same number for
// the same text whatever the slice holding it, across the table's growth
// and arenas: store paths of one hash part and many names, names of every
// length (an empty one, one longer than the first, small arena, and one
// longer than an arena's share).
func TestInterner(t *testing.T) {
	tab := newInterner(0)
	want := []string{"/s/" + string(make([]byte, 5000))}
	for i := range 5000 {
		want = append(want, fmt.Sprintf("/nix/store/00000000000000000000000000000000-name-%d", i))
	}
	want = append(want, "", string(make([]byte, arenaSize/16+1)), "/s/a", "/s/b")
	for pass := range 2 {
		for i, s := range want {
			id, got, added := tab.intern([]byte(s)) // a fresh slice every time
			if id != int32(i) || got != s || added != (pass == 0) {
				t.Fatalf("pass %d: %q is number %d (added %v), want %d", pass, s, id, added, i)
			}
			if tab.strs[id] != s {
				t.Fatalf("number %d is %q, want %q", id, tab.strs[id], s)
			}
		}
	}
	if len(tab.strs) != len(want) {
		t.Errorf("%d strings, want %d", len(tab.strs), len(want))
	}
}

// TestInternerHashCollision: a slot whose hash equals the looked-up
// string's is a hit only when the whole string is equal too.
func TestInternerHashCollision(t *testing.T) {
	tab := newInterner(0)
	a, b := []byte("/nix/store/aaaa-x"), []byte("/nix/store/aaaa-y")
	if id, _, _ := tab.intern(a); id != 0 {
		t.Fatalf("first string is number %d", id)
	}
	// Move a's entry to where b's lookup starts, with b's hash, as a
	// collision would (a and b have one length).
	hb := uint32(maphash.Bytes(tab.seed, b))
	var sa islot
	for i, s := range tab.slots {
		if s.rec != nil {
			sa, tab.slots[i] = s, islot{}
		}
	}
	sa.hash = hb
	tab.slots[hb&uint32(len(tab.slots)-1)] = sa
	id, _, added := tab.intern(b)
	if id != 1 || !added || tab.strs[1] != string(b) {
		t.Fatalf("colliding %q is number %d (added %v), strings %q", b, id, added, tab.strs)
	}
	if id, _, added := tab.intern(b); id != 1 || added {
		t.Fatalf("%q again is number %d (added %v)", b, id, added)
	}
}

// TestInternAll: interning lists of strings at once gives what interning
// them one by one does, the same numbers and the same strings, for lists
// of every length up to a few batches, with strings repeated within a
// list and across lists, of lengths whose hashes may agree, while the
// table grows.
func TestInternAll(t *testing.T) {
	all, one := newInterner(0), newInterner(0)
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 3000 {
		bs := make([][]byte, n%50)
		for i := range bs {
			bs[i] = []byte(fmt.Sprintf("/nix/store/%0*d-x", r.IntN(3), r.IntN(1+n)))
		}
		ids, strs := make([]int32, len(bs)), make([]string, len(bs))
		all.internAll(bs, ids, strs)
		for i, b := range bs {
			id, s, _ := one.intern(b)
			if ids[i] != id || strs[i] != s || strs[i] != all.strs[id] {
				t.Fatalf("list %d, string %d %q: number %d, %q; one by one %d, %q", n, i, b, ids[i], strs[i], id, s)
			}
		}
	}
	if len(all.strs) != len(one.strs) || len(all.strs) < 2000 {
		t.Fatalf("%d strings interned at once, %d one by one", len(all.strs), len(one.strs))
	}
}
