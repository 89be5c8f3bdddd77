package graphplan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"

	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/percore"

	"dockertools.dev/imgkit/poll"
)

// decodeArrayFast decodes the array shape of a closure graph without
// encoding/json, which spends most of a large graph's reading time in its
// reflection-driven state machine. It accepts a strict subset of JSON: an
// array of objects with the members path, narSize, references and narHash
// only, each once, strings without escapes, narSize a plain unsigned
// integer, narHash in its canonical notation,
// every path once and every reference a path of the graph; our canonical
// graph is in it, whatever its spacing. On anything else it returns
// ok=false and the caller decodes with encoding/json, so that the result,
// or the error, stays exactly that decoder's.
//
// Every reference repeats a path (8 times over, in a typical graph), so
// strings are interned (intern.go): each distinct one is copied and hashed
// into the table once, and the table checks that the graph is closed on
// the way. A large document is decoded in parts on all cores (parts.go).
//
// It exists for speed alone, and stays while the gain does. Measured with
// BenchmarkReadGraph (100,000 paths of 8 references, a 52 MB graph; the
// shared 2-core machine at load 1.2-1.4, best of 4, 2026-12-06): ReadGraph
// takes 0.20 s with it and 0.78 s with encoding/json doing the same steps,
// 3.8 times as long, with 141 allocations instead of 1.7 million.
//
// drop, when not nil, is given the parts of data the decoder is done with,
// every dropEvery bytes or so.
//
// done, when closed, stops the decoding within poll.Every nodes of each
// part (ok is then false: the caller must see its context's error first).
func decodeArrayFast(data []byte, drop func([]byte), done <-chan struct{}) (g Graph, ok bool) {
	return decodeParts(data, percore.Parts(len(data), partMin), drop, done)
}

// dropEvery is how much of the document a decoder passes before it gives
// it to drop.
const dropEvery = 16 << 20

type decoder struct {
	data   []byte
	pos    int
	ids    *interner // interned strings, numbered in order of appearance
	isPath []bool    // by number: the string is the path of a node
	refSet [][]byte  // the references of the node being decoded
	refNum []int32   // their numbers
	slab   []string  // where reference lists are cut from
	g      Graph     // the nodes decoded so far
	// With track, the numbers of every node's path and every reference,
	// in order, for join.
	track   bool
	pathIDs []int32
	refIDs  []int32
	drop    func([]byte)    // see decodeArrayFast
	dropped int             // where the data not given to drop starts
	done    <-chan struct{} // see decodeArrayFast
}

// newDecoder makes a decoder of data for a part of size bytes. A typical
// graph takes some 500 bytes of the document per path, and the nodes are
// given room for that many at once: memory never written costs nothing,
// while growing by append wrote and copied twice the final size (a page
// fault per 4 KiB written, 28% of the decoder's faults). The table of
// strings has room for twice as many, up to the whole document's paths:
// a part's references name paths anywhere in it (one of two parts holds
// nearly every path of a graph with uniform references). It grows from
// there: with many parts, the tables made at once would be many times
// the document's paths.
func newDecoder(data []byte, size int) *decoder {
	return &decoder{data: data, ids: newInterner(min(len(data), 2*size) / 512), g: make(Graph, 0, size/512)}
}

// items decodes the elements of the top-level array from d.pos, the start
// of one, to the end of the array (closed) or to the start of the first
// element at or past stop.
func (d *decoder) items(stop int) (closed, ok bool) {
	for k := 0; ; k++ {
		if k%poll.Every == 0 && poll.Stopped(d.done, "decode") {
			return false, false
		}
		if !d.nodeElem() {
			return false, false
		}
		d.space()
		if d.consume(']') {
			return true, true
		}
		if !d.consume(',') {
			return false, false
		}
		d.space()
		if d.drop != nil && d.pos-d.dropped >= dropEvery {
			d.drop(d.data[d.dropped:d.pos])
			d.dropped = d.pos
		}
		if d.pos >= stop {
			return false, true
		}
	}
}

// finish reports whether the array d has decoded to its end is the whole
// document and the graph is closed.
func (d *decoder) finish() bool {
	for _, isPath := range d.isPath {
		if !isPath {
			return false // a reference to no node: encoding/json's path words the error
		}
	}
	return d.end()
}

// list decodes a JSON array whose elements item decodes (and, on success,
// keeps).
func (d *decoder) list(item func() bool) bool {
	if !d.consume('[') {
		return false
	}
	d.space()
	if d.consume(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		d.space()
		if d.consume(']') {
			return true
		}
		if !d.consume(',') {
			return false
		}
		d.space()
	}
}

func (d *decoder) nodeElem() bool {
	n, ok := d.node()
	d.g = append(d.g, n)
	return ok
}

func (d *decoder) refElem() bool {
	b, ok := d.str()
	if ok {
		d.refSet = append(d.refSet, b)
	}
	return ok
}

// node decodes one {"path","narHash","narSize","references"} object.
func (d *decoder) node() (n PathInfo, ok bool) {
	if !d.consume('{') {
		return n, false
	}
	var seen [4]bool // path, narSize, references, narHash
	d.space()
	if d.consume('}') {
		return n, false // no path: encoding/json words the error
	}
	for {
		key, ok := d.str()
		if !ok {
			return n, false
		}
		d.space()
		if !d.consume(':') {
			return n, false
		}
		d.space()
		var k int
		switch string(key) {
		case "path":
			k = 0
			var p []byte
			if p, ok = d.str(); ok {
				var id int32
				id, n.Path = d.intern(p)
				ok = !d.isPath[id] // a second node of one path: encoding/json's path words the error
				d.isPath[id] = true
				if d.track {
					d.pathIDs = append(d.pathIDs, id)
				}
			}
		case "narSize":
			k = 1
			n.NarSize, ok = d.uint()
		case "references":
			k = 2
			n.References, ok = d.refs()
		case "narHash":
			k = 3
			var h []byte
			if h, ok = d.str(); ok {
				// Another notation is normalised, or refused, by the
				// slow path.
				n.NarHash = string(h)
				norm, err := nar.NormalizeHash(n.NarHash)
				ok = err == nil && norm == n.NarHash
			}
		default:
			return n, false
		}
		if !ok || seen[k] {
			return n, false
		}
		seen[k] = true
		d.space()
		if d.consume('}') {
			// A missing path or narSize is an error encoding/json words.
			return n, seen[0] && seen[1] && n.Path != ""
		}
		if !d.consume(',') {
			return n, false
		}
		d.space()
	}
}

// str decodes a string without escapes, control characters or invalid
// UTF-8 (which encoding/json would change); the result aliases data.
func (d *decoder) str() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	rest := d.data[d.pos:]
	end := plainEnd(rest)
	if end < 0 {
		// Not printable ASCII: check it byte by byte.
		if end = bytes.IndexByte(rest, '"'); end < 0 {
			return nil, false
		}
		ascii := true
		for _, c := range rest[:end] {
			if c < 0x20 || c == '\\' {
				return nil, false
			}
			if c >= utf8.RuneSelf {
				ascii = false
			}
		}
		if !ascii && !utf8.Valid(rest[:end]) {
			return nil, false
		}
	}
	d.pos += end + 1
	return rest[:end], true
}

// plainEnd returns the position of the first '"' in b when every byte
// before it is printable ASCII but '\\', else -1. It reads b once, 8 bytes
// at a time, as plain (below) does, with one more test: subtracting 1
// after XOR with '"' sets a high bit at a quote. The lowest byte with a
// high bit set is the first special byte (a borrow only runs upwards, from
// a byte that set one itself): finding it a quote ends the string (a
// search for the quote, then a check of the bytes before it, took twice
// the time).
func plainEnd(b []byte) int {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	for w8 := b; len(w8) >= 8; w8 = w8[8:] {
		w := binary.LittleEndian.Uint64(w8)
		if m := (w | (w - 0x20*ones) | ((w ^ '\\'*ones) - ones) | ((w ^ '"'*ones) - ones)) & high; m != 0 {
			if i := len(b) - len(w8) + bits.TrailingZeros64(m)/8; b[i] == '"' {
				return i
			}
			return -1
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i
		case c < 0x20 || c == '\\' || c >= utf8.RuneSelf:
			return -1
		}
	}
	return -1
}

// plain reports whether s is printable ASCII without a backslash, 8 bytes
// at a time (the byte loop was a tenth of the decoder's time). In a word
// of bytes below 0x80, subtracting 0x20 from each byte sets a high bit
// exactly when some byte is below 0x20 (a borrow only runs on from a byte
// that set one already), and so does subtracting 1 after XOR with '\\'
// when some byte is '\\'.
func plain(s []byte) bool {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	for ; len(s) >= 8; s = s[8:] {
		w := binary.LittleEndian.Uint64(s)
		if (w|(w-0x20*ones)|((w^'\\'*ones)-ones))&high != 0 {
			return false
		}
	}
	for _, c := range s {
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// refs decodes an array of strings, interned, in canonical order: sorted,
// without duplicates. Here the strings are still the document's, just
// read; compared later, after interning, each is a read from anywhere in
// memory (Graph.check's). The lists of all nodes are cut from a few large
// arrays rather than grown one by one.
func (d *decoder) refs() ([]string, bool) {
	d.refSet = d.refSet[:0]
	if !d.list(d.refElem) {
		return nil, false
	}
	if !increasing(d.refSet, bytes.Compare) {
		slices.SortFunc(d.refSet, bytes.Compare)
		d.refSet = slices.CompactFunc(d.refSet, bytes.Equal)
	}
	k := len(d.refSet)
	if k > cap(d.slab)-len(d.slab) {
		// A reference takes more than 32 bytes of the document.
		d.slab = make([]string, 0, max(k, min(1<<16, len(d.data)/32)))
	}
	out := d.slab[len(d.slab) : len(d.slab)+k : len(d.slab)+k]
	d.slab = d.slab[:len(d.slab)+k]
	d.refNum = append(d.refNum[:0], make([]int32, k)...)
	d.ids.internAll(d.refSet, d.refNum, out)
	for len(d.isPath) < len(d.ids.strs) {
		d.isPath = append(d.isPath, false)
	}
	if d.track {
		d.refIDs = append(d.refIDs, d.refNum...)
	}
	return out, true
}

// uint decodes a JSON integer that fits a uint64: "0" or digits without a
// leading zero, and no fraction or exponent.
func (d *decoder) uint() (uint64, bool) {
	start := d.pos
	var v uint64
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		digit := uint64(d.data[d.pos] - '0')
		if v > (1<<64-1-digit)/10 {
			return 0, false
		}
		v = v*10 + digit
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || digits > 1 && d.data[start] == '0' {
		return 0, false
	}
	if d.pos < len(d.data) {
		if c := d.data[d.pos]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	return v, true
}

// intern returns the number of the string b and the interned string.
func (d *decoder) intern(b []byte) (int32, string) {
	id, s, added := d.ids.intern(b)
	if added {
		d.isPath = append(d.isPath, false)
	}
	return id, s
}

// space skips JSON whitespace.
func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) consume(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) end() bool {
	d.space()
	return d.pos == len(d.data)
}
