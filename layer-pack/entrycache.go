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
// (cacheBudget): 8 MB, some 70,000 entries, on two CPUs. With the buffer
// pools the tool stays under 64 MB (see Run). A layer with more entries is
// walked again for each pass.
const cachesBudget = 32 << 20

// cacheBudget is one layer's share of cachesBudget with layers cached at
// once.
func cacheBudget(layers int) int { return cachesBudget / layers }

// span locates a string in a cache's arena.
type span struct{ off, n uint32 }

// cachedEntry is an entry without its strings. An entry inside a recorded
// directory keeps only its base name and its parent's index: its name and
// path are the parent's plus "/" and the base name, as walkTree made them.
type cachedEntry struct {
	parent             int32 // -1: name and rel are stored whole
	name, rel, link    span  // name is the base name when parent >= 0
	size               int64
	ino, dev           uint64
	ctime              unix.Timespec
	uid, gid           uint32
	devmajor, devminor uint32
	mode               uint32
	typ                byte
}

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
	arena        []byte
	ents         []cachedEntry
	full         bool // gave up: the layer is walked again
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
	if len(c.ents) == 0 {
		c.uname, c.gname, c.mtime = h.Uname, h.Gname, h.Mtime
	}
	if h.Uname != c.uname || h.Gname != c.gname || h.Mtime != c.mtime || !fitsUint32(h.Uid, h.Gid, h.Devmajor, h.Devminor) {
		c.giveUp()
		return
	}
	ce := cachedEntry{
		parent: -1, size: h.Size, ino: e.ino, dev: e.dev, ctime: e.ctime, uid: uint32(h.Uid), gid: uint32(h.Gid),
		devmajor: uint32(h.Devmajor), devminor: uint32(h.Devminor), mode: uint32(h.Mode), typ: h.Type,
	}
	name := strings.TrimSuffix(h.Name, "/")
	for ; len(c.path) > 0; c.path = c.path[:len(c.path)-1] {
		top := c.path[len(c.path)-1]
		base, ok := strings.CutPrefix(name, top.name+"/")
		if ok && !strings.Contains(base, "/") && e.rel == top.rel+"/"+base {
			ce.parent = int32(top.index)
			ce.name = c.put(base)
			break
		}
	}
	if ce.parent < 0 {
		ce.name = c.put(name)
		ce.rel = c.put(e.rel)
	}
	ce.link = c.put(h.Linkname)
	if h.Type == tarw.TypeDir {
		c.path = append(c.path, cacheDir{len(c.ents), name, e.rel})
	}
	c.ents = append(c.ents, ce)
	if cap(c.arena)+cap(c.ents)*int(unsafe.Sizeof(ce)) > c.budget || len(c.ents) >= 1<<31-1 {
		c.giveUp()
	}
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

func (c *entryCache) put(s string) span {
	sp := span{uint32(len(c.arena)), uint32(len(s))}
	c.arena = append(c.arena, s...)
	return sp
}

func (c *entryCache) str(sp span) string { return string(c.arena[sp.off : sp.off+sp.n]) }

// each calls fn for every recorded entry, in order; it has the signature
// of a treeLayer's walk, whose base directory it does not need.
func (c *entryCache) each(ctx context.Context, _ int, fn func(e *entry) error) error {
	var e entry
	var path []cacheDir
	for i := range c.ents {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ce := &c.ents[i]
		var name, rel string
		if ce.parent < 0 {
			name, rel = c.str(ce.name), c.str(ce.rel)
		} else {
			for path[len(path)-1].index != int(ce.parent) {
				path = path[:len(path)-1]
			}
			top := path[len(path)-1]
			base := c.str(ce.name)
			name, rel = top.name+"/"+base, top.rel+"/"+base
		}
		e = entry{rel: rel, ino: ce.ino, dev: ce.dev, ctime: ce.ctime, hdr: tarw.Header{
			Name: name, Type: ce.typ, Mode: int64(ce.mode), Uid: int64(ce.uid), Gid: int64(ce.gid),
			Uname: c.uname, Gname: c.gname, Size: ce.size, Mtime: c.mtime,
			Linkname: c.str(ce.link), Devmajor: int64(ce.devmajor), Devminor: int64(ce.devminor),
		}}
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
