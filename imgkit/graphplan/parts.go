package graphplan

import (
	"bytes"
	"runtime/debug"
	"sync"

	"dockertools.dev/imgkit/percore"

	"dockertools.dev/imgkit/poll"
)

// A large graph is decoded in parts on all cores: the document is cut at
// element boundaries of the top-level array, every part after the first
// is decoded from its cut by a goroutine with its own intern table while
// the first is decoded from the start, and the parts are joined in
// document order, the later tables' strings interned into the first's.
// The result is the one decoding in one piece gives, the same nodes in
// the same order, every string of the graph one string (popularity finds
// a reference's node by its string's address).
//
// A cut is only a guess (the byte after a comma and spaces, at an object's
// brace) until the part before it, decoding, stops exactly there: a part
// whose cut is not where an element starts (the guess fell in a string),
// or that fails, is dropped and the document decoded on from where the
// joined parts end, as decoding in one piece would. Failures are thus
// always the one-piece decoder's own.

// partMin is the least size of a part: below it a goroutine and a table
// cost more than they save.
const partMin = 1 << 20

// chunkMin is the least number of nodes or strings worth a goroutine of
// their own (percore) when checking and joining them.
const chunkMin = 1 << 14

// cuts returns up to k-1 guesses at element starts dividing data into k
// parts of about equal size, ascending, none at the start.
func cuts(data []byte, k int) []int {
	var out []int
	for i := 1; i < k; i++ {
		from := len(data) * i / k
		if len(out) > 0 {
			from = max(from, out[len(out)-1]+1)
		}
		if c := cutAt(data, from); c > 0 {
			out = append(out, c)
		}
	}
	return out
}

// cutAt returns the first position at or after from holding a '{' that
// follows a ',' and JSON spaces, or -1.
func cutAt(data []byte, from int) int {
	for from < len(data) {
		i := bytes.IndexByte(data[from:], '{')
		if i < 0 {
			return -1
		}
		at := from + i
		j := at - 1
		for j >= 0 && isSpace(data[j]) {
			j--
		}
		if j >= 0 && data[j] == ',' {
			return at
		}
		from = at + 1
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// part is a part of the document after the first, decoded by a goroutine.
type part struct {
	*decoder
	closed, ok bool // what items returned
}

// decodeParts is decodeArrayFast in k parts (see above); k = 1 is the
// decoder in one piece.
func decodeParts(data []byte, k int, drop func([]byte), done <-chan struct{}) (Graph, bool) {
	g, ok, _ := decodeAt(data, cuts(data, k), drop, done)
	return g, ok
}

// decodeAt is decodeParts with the parts cut at at; it also returns the
// number of parts that were joined.
func decodeAt(data []byte, at []int, drop func([]byte), done <-chan struct{}) (_ Graph, _ bool, joined int) {
	parts := make([]part, len(at))
	var wg sync.WaitGroup
	defer wg.Wait() // even when a fault (a mapped file cut short) stops this goroutine
	for i, start := range at {
		end := len(data) + 1 // the last part goes to the array's end
		if i+1 < len(at) {
			end = at[i+1]
		}
		p := &parts[i]
		p.decoder = newPart(data, start, end)
		p.drop, p.done = drop, done
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A fault (a mapped file cut short) fails the part: the
			// first goroutine decodes on from where it starts, and
			// faults there itself.
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if v := recover(); v != nil {
					if _, ok := v.(interface{ Addr() uintptr }); !ok {
						panic(v)
					}
				}
			}()
			p.closed, p.ok = p.items(end)
		}()
	}
	d := newDecoder(data, len(data))
	d.drop, d.done = drop, done
	d.space()
	if !d.consume('[') {
		return nil, false, 0
	}
	d.space()
	closed, ok := d.consume(']'), true
	if !closed {
		stop := len(data) + 1
		if len(at) > 0 {
			stop = at[0]
		}
		closed, ok = d.items(stop)
	}
	wg.Wait()
	if poll.Cancelled(done) {
		return nil, false, 0
	}
	for i := 0; ok && !closed && i < len(at) && d.pos == at[i] && parts[i].ok; i++ {
		if !d.join(parts[i].decoder) {
			return nil, false, joined
		}
		d.pos, closed = parts[i].pos, parts[i].closed
		joined++
	}
	if ok && !closed {
		// A cut that is no element's start, or a part that failed:
		// decode on in one piece.
		closed, ok = d.items(len(data) + 1)
	}
	if !ok || !closed {
		return nil, false, joined
	}
	return d.g, d.finish(), joined
}

// newPart makes the decoder of the part of data from start to end, which
// numbers its strings for join.
func newPart(data []byte, start, end int) *decoder {
	d := newDecoder(data, end-start)
	d.pos, d.track, d.dropped = start, true, start
	// Room for a typical graph's numbers too (8 references a path).
	d.pathIDs = make([]int32, 0, cap(d.g))
	d.refIDs = make([]int32, 0, 8*cap(d.g))
	return d
}

// join appends the nodes of p, the part that starts where d stopped, to
// d's, with p's strings interned in d's table (p's records taken over, not
// copied). It returns false when the graph cannot be closed, which the
// decoder in one piece would find too: a path of p is a path of d (a path
// listed twice), or p holds an empty string (no path, so a reference to
// no node).
func (d *decoder) join(p *decoder) bool {
	// The strings d has already are found on all cores (most of them:
	// a reference names a path anywhere in the document); the others are
	// added one by one.
	strs := make([]string, len(p.ids.strs)) // by p's number; "" where d lacks it
	ids := make([]int32, len(p.ids.strs))   // their numbers in d
	percore.Each(len(strs), chunkMin, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if s := p.ids.strs[i]; s != "" {
				ids[i], strs[i], _ = d.ids.find(s)
			}
		}
	})
	for i, s := range p.ids.strs {
		if s == "" {
			return false
		}
		if strs[i] == "" {
			var added bool
			if ids[i], strs[i], added = d.ids.adopt(s); added {
				d.isPath = append(d.isPath, false)
			}
		}
		if p.isPath[i] {
			if d.isPath[ids[i]] {
				return false
			}
			d.isPath[ids[i]] = true
		}
	}
	// Then p's nodes are given d's strings, on all cores too.
	refsAt := make([]int, len(p.g)+1) // where each node's numbers start in p.refIDs
	for i, n := range p.g {
		refsAt[i+1] = refsAt[i] + len(n.References)
	}
	percore.Each(len(p.g), chunkMin, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			n := &p.g[i]
			n.Path = strs[p.pathIDs[i]]
			for j, id := range p.refIDs[refsAt[i]:refsAt[i+1]] {
				n.References[j] = strs[id]
			}
		}
	})
	d.g = append(d.g, p.g...)
	return true
}
