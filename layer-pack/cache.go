package main

import (
	"context"
	"unsafe"

	"dockertools.dev/imgkit/tarw"
)

// cacheBudget bounds the memory that keeps one measured layer's entries
// for writing it. At most two layers are cached at a time (the one being
// written and the one measured ahead), so with the buffer pool the tool
// stays under 64 MB (see Run). A layer with more entries than fit (tens of
// thousands of files) is walked again when it is written instead.
const cacheBudget = 12 << 20

// span locates a string in a cache's arena.
type span struct{ off, n uint32 }

// cachedEntry is an entry without its strings, which live in the arena.
type cachedEntry struct {
	name, link, phys, uname, gname span
	size, mtime, uid, gid          int64
	ino, dev                       uint64
	devmajor, devminor             int64
	mode                           uint32
	typ                            byte
}

// entryCache records the entries of a layer as measure walks them, so that
// writing the layer needs no second walk (no second directory listing or
// lstat per file; copyFile still checks each file against what was
// recorded).
type entryCache struct {
	budget int
	arena  []byte
	ents   []cachedEntry
	full   bool // over budget: discarded
	last   [2]span
}

func newEntryCache(budget int) *entryCache { return &entryCache{budget: budget} }

// add records e unless the cache is over its budget.
func (c *entryCache) add(e *entry) {
	if c.full {
		return
	}
	h := &e.hdr
	ce := cachedEntry{
		size: h.Size, mtime: h.Mtime, uid: h.Uid, gid: h.Gid, ino: e.ino, dev: e.dev,
		devmajor: h.Devmajor, devminor: h.Devminor, mode: uint32(h.Mode), typ: h.Type,
	}
	ce.name = c.put(h.Name)
	ce.link = c.put(h.Linkname)
	switch {
	case h.Type != tarw.TypeReg:
	case e.phys == h.Name:
		ce.phys = ce.name
	default:
		ce.phys = c.put(e.phys)
	}
	// Owner names are the same for a whole layer: stored once.
	ce.uname = c.putShared(0, h.Uname)
	ce.gname = c.putShared(1, h.Gname)
	c.ents = append(c.ents, ce)
	if cap(c.arena)+cap(c.ents)*int(unsafe.Sizeof(ce)) > c.budget {
		*c = entryCache{full: true}
	}
}

func (c *entryCache) put(s string) span {
	sp := span{uint32(len(c.arena)), uint32(len(s))}
	c.arena = append(c.arena, s...)
	return sp
}

func (c *entryCache) putShared(i int, s string) span {
	if c.str(c.last[i]) != s {
		c.last[i] = c.put(s)
	}
	return c.last[i]
}

// str returns the string at sp without copying: the arena is never
// written again once a span points into it.
func (c *entryCache) str(sp span) string {
	if sp.n == 0 {
		return ""
	}
	return unsafe.String(&c.arena[sp.off], int(sp.n))
}

// each calls fn for every recorded entry, in order; it has the signature
// of a treeLayer's walk.
func (c *entryCache) each(ctx context.Context, fn func(e *entry) error) error {
	var e entry
	for i := range c.ents {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ce := &c.ents[i]
		e = entry{phys: c.str(ce.phys), ino: ce.ino, dev: ce.dev, hdr: tarw.Header{
			Name: c.str(ce.name), Type: ce.typ, Mode: int64(ce.mode), Uid: ce.uid, Gid: ce.gid,
			Uname: c.str(ce.uname), Gname: c.str(ce.gname), Size: ce.size, Mtime: ce.mtime,
			Linkname: c.str(ce.link), Devmajor: ce.devmajor, Devminor: ce.devminor,
		}}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}
