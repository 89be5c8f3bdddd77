package graphplan

import (
	"hash/maphash"
	"unsafe"
)

// interner numbers distinct strings in order of appearance, for the fast
// decoder: a graph of 1,000,000 paths has 8,000,000 references to intern,
// and a Go map[string]int32 (pre-sized or not) spent most of the decoder's
// time in its lookups. This table is open addressing with linear probing
// over 16-byte slots that hold the string's hash, length and address; the
// string's number is stored just before its bytes, so a lookup reads one
// slot and then the one record it must equal, nothing else. The strings are
// cut from a few large arenas rather than allocated one by one.
//
// The hash is maphash's, seeded per table, so no document can choose paths
// that collide (store paths would make a fine hash of their own, but a
// crafted graph of one hash part and many names would then probe in
// quadratic time). A hit is always confirmed on the whole string.
type interner struct {
	seed  maphash.Seed
	slots []islot // a power of two, at most half full
	strs  []string
	arena []byte // where the next records are copied to
	sink  uint32 // see internAll
}

// islot is one entry of the table; rec is nil when the slot is empty.
type islot struct {
	rec  unsafe.Pointer // a record: the number (int32), then the bytes
	hash uint32
	n    uint32 // the string's length
}

// recHead is the size of a record's number; records start 4-byte aligned.
const recHead = 4

// arenaSize is the size of an arena; a record longer than a sixteenth
// gets its own. The first arenas are smaller, from 4 KiB up, so that a
// small graph (or a small part of one) does not take a whole arena.
const arenaSize = 1 << 20

func newInterner(hint int) *interner {
	n := 1 << 10
	for n < 2*hint {
		n <<= 1
	}
	return &interner{seed: maphash.MakeSeed(), slots: newSlots(n), strs: make([]string, 0, hint)}
}

// newSlots makes a table of n empty slots and writes to each of its
// pages. A large slice comes fresh from the system, untouched: a lookup
// would first read a page (mapping the shared zero page) and an insert
// then write it, a second fault that also flushes the TLB of every core
// running the process (do_wp_page; 3% of popularity's CPU on 100,000
// uniform paths). A write first takes one fault and no flush.
func newSlots(n int) []islot {
	slots := make([]islot, n)
	const perPage = 4096 / int(unsafe.Sizeof(islot{}))
	for i := 0; i < n; i += perPage {
		slots[i].n = 0
	}
	return slots
}

// intern returns the number of b, the interned string equal to it, and
// whether b was new.
func (t *interner) intern(b []byte) (id int32, s string, added bool) {
	return t.insert(b, nil)
}

// adopt is intern for a non-empty string s of another table, whose
// record this table takes over (renumbered) rather than copy s: the other
// table must not be used again.
func (t *interner) adopt(s string) (id int32, _ string, added bool) {
	p := unsafe.StringData(s)
	return t.insert(unsafe.Slice(p, len(s)), unsafe.Add(unsafe.Pointer(p), -recHead))
}

// internAll interns each of bs in turn, as intern would, and gives the
// numbers in ids and the strings in out (both as long as bs).
//
// A lookup is two reads from anywhere in memory, its slot and its record,
// and one by one each waits for the last (a reference list is 8 store
// paths of a table of 100,000: more than half the decoder's time). So
// the slots and records of a few strings are read first, all at once, and
// then the lookups find them in the cache.
func (t *interner) internAll(bs [][]byte, ids []int32, out []string) {
	const batch = 16
	var hs [batch]uint32
	for len(bs) > 0 {
		k := min(len(bs), batch)
		for i, b := range bs[:k] {
			hs[i] = uint32(maphash.Bytes(t.seed, b))
		}
		// Three passes, each of independent reads: the slots, then the
		// records they point to (their first and last bytes).
		mask := uint32(len(t.slots) - 1)
		var sum uint32
		for _, h := range hs[:k] {
			sum += t.slots[h&mask].hash
		}
		for i, h := range hs[:k] {
			if sl := &t.slots[h&mask]; sl.hash == h && sl.n == uint32(len(bs[i])) && sl.rec != nil {
				sum += uint32(*(*byte)(sl.rec)) + uint32(*(*byte)(unsafe.Add(sl.rec, recHead+len(bs[i])-1)))
			}
		}
		t.sink += sum // so that the reads stay
		for i, b := range bs[:k] {
			ids[i], out[i], _ = t.insertHashed(b, hs[i], nil)
		}
		bs, ids, out = bs[k:], ids[k:], out[k:]
	}
}

// insert is intern, with rec, when not nil, the record to add b in.
func (t *interner) insert(b []byte, rec unsafe.Pointer) (id int32, s string, added bool) {
	return t.insertHashed(b, uint32(maphash.Bytes(t.seed, b)), rec)
}

// insertHashed is insert for b of hash h.
func (t *interner) insertHashed(b []byte, h uint32, rec unsafe.Pointer) (id int32, s string, added bool) {
	sl := t.probe(b, h)
	if sl.rec != nil {
		return *(*int32)(sl.rec), unsafe.String((*byte)(unsafe.Add(sl.rec, recHead)), len(b)), false
	}
	if uint64(len(b)) > 1<<32-1 {
		panic("graphplan: a string of 4 GiB") // a document that size is not read whole
	}
	id = int32(len(t.strs))
	if rec == nil {
		rec, s = t.record(id, b)
	} else {
		*(*int32)(rec) = id
		s = unsafe.String((*byte)(unsafe.Add(rec, recHead)), len(b))
	}
	sl.rec, sl.hash, sl.n = rec, h, uint32(len(b))
	t.strs = append(t.strs, s)
	if 2*len(t.strs) > len(t.slots) {
		t.grow()
	}
	return id, s, true
}

// find returns the number of s and the interned string equal to it, if
// s is in the table; it only reads the table, so goroutines can find at
// once while nothing is added.
func (t *interner) find(s string) (id int32, _ string, ok bool) {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	sl := t.probe(b, uint32(maphash.Bytes(t.seed, b)))
	if sl.rec == nil {
		return 0, "", false
	}
	return *(*int32)(sl.rec), unsafe.String((*byte)(unsafe.Add(sl.rec, recHead)), len(b)), true
}

// probe returns the slot of b, whose hash is h: the one holding b, or the
// empty one where b goes.
func (t *interner) probe(b []byte, h uint32) *islot {
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.rec == nil {
			return sl
		}
		if sl.hash == h && sl.n == uint32(len(b)) && unsafe.String((*byte)(unsafe.Add(sl.rec, recHead)), len(b)) == string(b) {
			return sl
		}
	}
}

// record copies id and b into an arena and returns the record and the
// string.
func (t *interner) record(id int32, b []byte) (unsafe.Pointer, string) {
	size := (recHead + len(b) + 3) &^ 3
	var buf []byte
	if size > arenaSize/16 {
		buf = make([]byte, size)
	} else {
		if size > cap(t.arena)-len(t.arena) {
			t.arena = make([]byte, 0, min(arenaSize, max(size, 4<<10, 2*cap(t.arena))))
		}
		start := len(t.arena)
		t.arena = t.arena[:start+size]
		buf = t.arena[start : start+size : start+size]
	}
	rec := unsafe.Pointer(&buf[0])
	*(*int32)(rec) = id
	copy(buf[recHead:], b)
	return rec, unsafe.String((*byte)(unsafe.Add(rec, recHead)), len(b))
}

// grow doubles the table, placing each string again by its hash (kept in
// the slots, so nothing is hashed twice).
func (t *interner) grow() {
	old := t.slots
	t.slots = newSlots(2 * len(old))
	mask := uint32(len(t.slots) - 1)
	for _, s := range old {
		if s.rec == nil {
			continue
		}
		i := s.hash & mask
		for t.slots[i].rec != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
