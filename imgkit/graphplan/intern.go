package graphplan

import (
	"hash/maphash"
	"unsafe"
)

// interner numbers distinct strings in order of appearance, for the fast
// decoder: a graph of 1,000,000 paths has 8,000,000 references to intern,
// and a Go map[string]int32 (pre-sized or not) spent most of the decoder's
// time in its lookups. This table is open addressing with linear probing
// over 8-byte slots (the string's 32-bit hash beside its number), so a
// lookup mostly reads one slot and then the one string it must equal; the
// strings are cut from a few large arenas rather than allocated one by one.
//
// The hash is maphash's, seeded per table, so no document can choose paths
// that collide (store paths would make a fine hash of their own, but a
// crafted graph of one hash part and many names would then probe in
// quadratic time). A hit is always confirmed on the whole string.
type interner struct {
	seed  maphash.Seed
	slots []islot // a power of two, at most half full
	strs  []string
	arena []byte // where the next strings are copied to
}

// islot is one entry of the table: id is the string's number plus one, 0
// when the slot is empty.
type islot struct {
	hash uint32
	id   int32
}

// arenaSize is the size of an arena; a longer string gets its own.
const arenaSize = 1 << 20

func newInterner(hint int) *interner {
	n := 1 << 10
	for n < 2*hint {
		n <<= 1
	}
	return &interner{seed: maphash.MakeSeed(), slots: make([]islot, n)}
}

// intern returns the number of b and whether b was new.
func (t *interner) intern(b []byte) (id int32, added bool) {
	h := uint32(maphash.Bytes(t.seed, b))
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s.id == 0 {
			id = int32(len(t.strs))
			t.slots[i] = islot{hash: h, id: id + 1}
			t.strs = append(t.strs, t.copy(b))
			if 2*len(t.strs) > len(t.slots) {
				t.grow()
			}
			return id, true
		}
		if s.hash == h && t.strs[s.id-1] == string(b) {
			return s.id - 1, false
		}
	}
}

// copy returns b as a string in an arena.
func (t *interner) copy(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaSize/16 {
		return string(b)
	}
	if len(b) > cap(t.arena)-len(t.arena) {
		t.arena = make([]byte, 0, arenaSize)
	}
	start := len(t.arena)
	t.arena = append(t.arena, b...)
	return unsafe.String(&t.arena[start], len(b))
}

// grow doubles the table, placing each string again by its hash (kept in
// the slots, so nothing is hashed twice).
func (t *interner) grow() {
	old := t.slots
	t.slots = make([]islot, 2*len(old))
	mask := uint32(len(t.slots) - 1)
	for _, s := range old {
		if s.id == 0 {
			continue
		}
		i := s.hash & mask
		for t.slots[i].id != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
