package main

import (
	"context"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/tarw"
)

// cachesBudget bounds the memory that keeps measured layers' entries for
// writing them (about 120 bytes an entry). At most hashers + 2 layers are
// cached at a time (the one being written, and those measured ahead of it
// and hashing, see hashAhead; two with one CPU), each with an equal share
// (cacheBudget): 8 MB, some 90,000 entries, on two CPUs. With the buffer
// pools the tool stays under 64 MB (see Run). A layer with more entries is
// walked again by the writer, which hashes it itself (hashedApart).
const cachesBudget = 32 << 20

// cacheBudget is one layer's share of cachesBudget with layers cached at
// once.
func cacheBudget(layers int) int { return cachesBudget / layers }

// cachedEntry is an entry without its strings, in 64 bytes: the bench's
// largest layer, 62,000 files, fits in the 8 MB share of two CPUs with
// room to spare (at 96 bytes it did not, and each of its three passes
// walked it: 0.9 s of the 4.8 s CPU time of stream-layered-image). Its strings are in the
// cache's arena from off: its name, then its rel when parent < 0, then
// its link target. An entry inside a recorded directory keeps only its
// base name and its parent's index: its name and path are the parent's
// plus "/" and the base name, as walkTree made them. An entry that does
// not fit (a string past 64 KiB, a mode or link count past 16 bits) makes the cache
// give up.
type cachedEntry struct {
	parent                   int32 // -1: name and rel are stored whole
	off                      uint32
	nameLen, relLen, linkLen uint16
	mode                     uint16
	size                     int64 // a device's numbers, major<<32 | minor, for char and block devices
	ino, dev                 uint64
	ctimeSec                 int64
	ctimeNsec                uint32
	uid, gid                 uint32
	typ                      byte
	nlink                    uint16
}

// ctime is the entry's change time as lstat gave it. unix.Timespec's
// fields are 32 bits on 32-bit architectures (386, arm), where the
// recorded values came from such fields and fit back in them.
func (ce *cachedEntry) ctime() unix.Timespec {
	var t unix.Timespec
	setInt(&t.Sec, ce.ctimeSec)
	setInt(&t.Nsec, int64(ce.ctimeNsec))
	return t
}

// setInt sets *p to v, in whichever width the architecture gives *p.
func setInt[T int32 | int64](p *T, v int64) { *p = T(v) }

// cacheDir is a directory on the current path while recording or replaying.
type cacheDir struct {
	index     int
	name, rel string // without the trailing "/"
}

// entryCache records the entries of a layer as measure walks them, so that
// writing the layer needs no second walk (no second directory listing or
// lstat per file; copyFile still checks each file against what was
// recorded). Owner names and mtime are the same for every entry of a
// layer; an entry that differs, or a number that does not fit, makes the
// cache give up, and the layer is walked again.
//
// It exists for speed alone, and stays while the gain does. Measured with
// BenchmarkEntryCache (100 store paths, 25,000 files, 25 MiB, packed from
// the page cache to io.Discard; the shared 2-core machine, best of 7):
// 0.76 s with the cache, 1.08 s walking each tree again (1.4 times as
// long; 1.5 to 2.1 times in runs side by side under load).
type entryCache struct {
	budget       int
	arena        []byte          // the strings, while recording
	text         string          // the arena once sealed: each's strings are slices of it, not copies
	chunks       [][]cachedEntry // the entries, chunkLen a chunk (see addEntry)
	n            int             // entries in chunks
	full         bool            // gave up: the layer is walked again
	uname, gname string
	mtime        int64
	path         []cacheDir // recording: the directories above the next entry
	fds          *keptFDs   // descriptors the hashing pass keeps for the writer (keptfd.go); nil: none
}

func newEntryCache(budget int) *entryCache { return &entryCache{budget: budget} }

// add records e unless the cache has given up.
func (c *entryCache) add(e *entry) {
	if c.full {
		return
	}
	h := &e.hdr
	if c.n == 0 {
		c.uname, c.gname, c.mtime = h.Uname, h.Gname, h.Mtime
	}
	if h.Uname != c.uname || h.Gname != c.gname || h.Mtime != c.mtime || !fitsUint32(h.Uid, h.Gid, h.Devmajor, h.Devminor) {
		c.giveUp()
		return
	}
	ce := cachedEntry{
		parent: -1, size: h.Size, ino: e.ino, dev: e.dev, ctimeSec: int64(e.ctime.Sec), ctimeNsec: uint32(e.ctime.Nsec),
		uid: uint32(h.Uid), gid: uint32(h.Gid), mode: uint16(h.Mode), typ: h.Type, off: uint32(len(c.arena)), nlink: uint16(e.nlink),
	}
	if h.Type == tarw.TypeChar || h.Type == tarw.TypeBlock {
		ce.size = h.Devmajor<<32 | h.Devminor
		if h.Size != 0 || h.Devminor > 1<<32-1 || h.Devmajor > 1<<31-1 {
			c.giveUp()
			return
		}
	} else if h.Devmajor != 0 || h.Devminor != 0 {
		c.giveUp()
		return
	}
	full := strings.TrimSuffix(h.Name, "/")
	name := full // what the arena holds
	for ; len(c.path) > 0; c.path = c.path[:len(c.path)-1] {
		top := c.path[len(c.path)-1]
		base, ok := childOf(full, top.name)
		if ok && !strings.Contains(base, "/") && isChild(e.rel, top.rel, base) {
			ce.parent = int32(top.index)
			name = base
			break
		}
	}
	rel := ""
	if ce.parent < 0 {
		rel = e.rel
	}
	if !fits16(len(name), len(rel), len(h.Linkname), int(h.Mode)) || e.nlink > 1<<16-1 || e.ctime.Nsec < 0 || int64(e.ctime.Nsec) > 1<<32-1 {
		c.giveUp()
		return
	}
	ce.nameLen, ce.relLen, ce.linkLen = uint16(len(name)), uint16(len(rel)), uint16(len(h.Linkname))
	c.arena = append(append(append(c.arena, name...), rel...), h.Linkname...)
	if h.Type == tarw.TypeDir {
		c.path = append(c.path, cacheDir{c.n, full, e.rel})
	}
	c.addEntry(ce)
	ents := (len(c.chunks)-1)*chunkLen + cap(c.chunks[len(c.chunks)-1])
	if cap(c.arena)+ents*int(unsafe.Sizeof(ce)) > c.budget || c.n >= 1<<31-1 || int64(len(c.arena)) >= 1<<31 {
		c.giveUp()
	}
}

// chunkLen is the entries of a chunk. The entries are kept in chunks,
// not one slice: growing one slice to the bench store's largest layer
// (62,000 entries, 4 MB) copied it some 30 times into fresh memory, on
// the critical path (the first layer's measure, see firstToHash).
// BenchmarkEntryCacheAdd: 11 ms with one slice, 7 ms in chunks. The
// first chunk grows as a slice does, so that a small cache stays small.
const chunkLen = 1024

// addEntry appends ce to the last chunk, or to a new one when that is full.
func (c *entryCache) addEntry(ce cachedEntry) {
	if len(c.chunks) == 0 || len(c.chunks[len(c.chunks)-1]) == chunkLen {
		var next []cachedEntry
		if len(c.chunks) > 0 {
			next = make([]cachedEntry, 0, chunkLen)
		}
		c.chunks = append(c.chunks, next)
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, ce)
	c.n++
}

// entry returns the i-th entry.
func (c *entryCache) entry(i int) *cachedEntry {
	return &c.chunks[i/chunkLen][i%chunkLen]
}

// childOf returns what follows dir+"/" in name, if name starts so,
// without making dir+"/": names are longer than the 32 bytes a
// concatenation that is only compared is made in on the stack, and the
// two strings an entry made took half of add's time
// (BenchmarkEntryCacheAdd: 21 ms making them, 11 ms without).
func childOf(name, dir string) (string, bool) {
	if len(name) <= len(dir) || name[len(dir)] != '/' || name[:len(dir)] != dir {
		return "", false
	}
	return name[len(dir)+1:], true
}

// isChild says whether rel is dir+"/"+base.
func isChild(rel, dir, base string) bool {
	b, ok := childOf(rel, dir)
	return ok && b == base
}

func (c *entryCache) giveUp() { *c = entryCache{full: true} }

func fitsUint32(vs ...int64) bool {
	for _, v := range vs {
		if v < 0 || v > 1<<32-1 {
			return false
		}
	}
	return true
}

// fits16 says whether every v fits in 16 bits.
func fits16(vs ...int) bool {
	for _, v := range vs {
		if v < 0 || v > 1<<16-1 {
			return false
		}
	}
	return true
}

// seal ends the recording: the strings the entries come back with are
// slices of one string, the arena's copy, rather than a copy each
// (allocations that cost 1.5% of a pack's CPU time).
func (c *entryCache) seal() {
	c.text, c.arena, c.path = string(c.arena), nil, nil
}

// str returns n bytes of the sealed arena from off.
func (c *entryCache) str(off uint32, n uint16) string {
	return c.text[off : off+uint32(n)]
}

// each calls fn for every recorded entry, in order, once sealed; it has the signature
// of a treeLayer's walk, whose base directory it does not need.
func (c *entryCache) each(ctx context.Context, _ int, fn func(e *entry) error) error {
	var e entry
	var path []cacheDir
	for i := range c.n {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ce := c.entry(i)
		var name, rel string
		base := c.str(ce.off, ce.nameLen)
		if ce.parent < 0 {
			name, rel = base, c.str(ce.off+uint32(ce.nameLen), ce.relLen)
		} else {
			for path[len(path)-1].index != int(ce.parent) {
				path = path[:len(path)-1]
			}
			top := path[len(path)-1]
			name, rel = top.name+"/"+base, top.rel+"/"+base
		}
		e = entry{rel: rel, ino: ce.ino, dev: ce.dev, ctime: ce.ctime(), nlink: uint64(ce.nlink), hdr: tarw.Header{
			Name: name, Type: ce.typ, Mode: int64(ce.mode), Uid: int64(ce.uid), Gid: int64(ce.gid),
			Uname: c.uname, Gname: c.gname, Size: ce.size, Mtime: c.mtime,
			Linkname: c.str(ce.off+uint32(ce.nameLen)+uint32(ce.relLen), ce.linkLen),
		}}
		if ce.typ == tarw.TypeChar || ce.typ == tarw.TypeBlock {
			e.hdr.Size, e.hdr.Devmajor, e.hdr.Devminor = 0, ce.size>>32, ce.size&(1<<32-1)
		}
		if ce.typ == tarw.TypeDir {
			path = append(path, cacheDir{i, name, rel})
			e.hdr.Name = name + "/"
		}
		e.fds, e.idx = c.fds, i
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}
