package testkit

// The generator's special entries: sparse files, hardlinks, whiteouts and
// opaque markers, each applied to the model tree by the spec's rules as
// GenStack says.

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// sparse writes h as a sparse file of size bytes in GNU tar's PAX 1.0
// format (Go's archive/tar reads it but cannot write it): a PAX header
// naming the file and its size, then a ustar entry named
// "GNUSparseFile.0/NAME" holding the map (the number of fragments, then
// each one's offset and length, one decimal per line, padded to a block)
// and the fragments' data. One to three fragments, holes between them
// and maybe at either end.
func (g *gen) sparse(h *tar.Header, size int64) {
	var m, data bytes.Buffer
	var frags [][2]int64
	for off := int64(0); len(frags) < 3; {
		off += g.rng.Int64N(size/3 + 1)
		if off >= size {
			break
		}
		n := 1 + g.rng.Int64N(min(5000, size-off))
		frags = append(frags, [2]int64{off, n})
		off += n
	}
	fmt.Fprintf(&m, "%d\n", len(frags))
	for _, f := range frags {
		fmt.Fprintf(&m, "%d\n%d\n", f[0], f[1])
		chunk := make([]byte, f[1])
		for i := range chunk {
			chunk[i] = byte(g.rng.Uint32())
		}
		data.Write(chunk)
	}
	m.Write(make([]byte, (512-m.Len()%512)%512))
	records := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", h.Name) + paxRecord("GNU.sparse.realsize", fmt.Sprint(size))
	// The PAX header: a ustar entry whose type is then made 'x'.
	var x bytes.Buffer
	xw := tar.NewWriter(&x)
	g.must(xw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "PaxHeaders.0/sparse", Mode: 0o644, Size: int64(len(records)), Format: tar.FormatUSTAR}))
	_, err := xw.Write([]byte(records))
	g.must(err)
	g.must(xw.Flush())
	hdr := x.Bytes()[:512]
	hdr[156] = tar.TypeXHeader
	copy(hdr[148:156], "        ")
	sum := 0
	for _, b := range hdr {
		sum += int(b)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	g.must(g.tw.Flush())
	g.buf.Write(x.Bytes())
	u := *h
	u.Name, u.Size, u.Format, u.PAXRecords = "GNUSparseFile.0/sparse", int64(m.Len()+data.Len()), tar.FormatUSTAR, nil
	g.header(&u, append(m.Bytes(), data.Bytes()...))
}

func paxRecord(k, v string) string {
	rec := " " + k + "=" + v + "\n"
	// The length counts its own digits.
	size := len(rec)
	for len(strconv.Itoa(size))+len(rec) != size {
		size = len(strconv.Itoa(size)) + len(rec)
	}
	return strconv.Itoa(size) + rec
}

// hardlink makes p a hardlink to a file of the tree. Its header gives the
// file's own metadata, or (opts.HardlinkMeta) new ones,
// which Docker and the project give the file and umoci ignores: the spec
// says nothing of it.
func (g *gen) hardlink(p string) {
	t := g.pick(func(q string, n *gnode) bool {
		return n.kind == 'f' && q != p && !strings.HasPrefix(q, p+"/")
	})
	if t == "" || !g.parents(p) {
		return
	}
	// parents replaces a file above p by a directory: t, if it was one.
	tn := g.tree[t]
	if tn.kind != 'f' {
		return
	}
	if g.written[t] {
		g.class("hardlink-to-own-layer")
	} else {
		g.class("hardlink-to-lower-layer")
	}
	if old := g.tree[p]; old != nil {
		if g.written[p] || g.listedDirBelow(p) {
			return // cases entry writes
		}
		g.class(fmt.Sprintf("replace-%c-by-h", old.kind))
	}
	m := tn.meta // shared: what the header changes, every path sees
	if g.opts.HardlinkMeta && g.rng.IntN(3) == 0 {
		g.class("umoci-ignores-hardlink-metadata")
		o := owners[g.rng.IntN(len(owners))]
		m.mode, m.uid, m.gid, m.mtime = fileModes[g.rng.IntN(len(fileModes))], o[0], o[1], 1+g.rng.Int64N(1e9)
	}
	h := &tar.Header{Typeflag: tar.TypeLink, Name: g.prefix + p, Linkname: g.prefix + t, Mode: m.mode, Uid: m.uid, Gid: m.gid,
		ModTime: time.Unix(m.mtime, 0), Format: tar.FormatPAX}
	g.remove(p)
	g.tree[p] = &gnode{kind: 'f', meta: m}
	g.written[p] = true
	g.header(h, nil)
}

// whiteout writes ".wh.NAME" for a path of a lower layer, or (rarely) for
// one that is not there, or for one its own layer wrote.
func (g *gen) whiteout() {
	switch n := g.rng.IntN(10); {
	case n == 0:
		// A name nobody wrote, in a directory that is there.
		d := g.pick(func(_ string, n *gnode) bool { return n.kind == 'd' })
		if d != "" && g.marker(d+"/.wh.absent") {
			g.class("whiteout-of-absent")
		}
	case n == 1:
		// One that its own layer wrote (at it or below): what the
		// layer wrote stays, what lower layers put below it goes.
		p := g.pick(func(q string, _ *gnode) bool { return g.ownBelow(q) })
		if p != "" && g.docker("differs-whiteout-of-own-layer") && g.marker(path.Join(path.Dir(p), ".wh."+path.Base(p))) && g.tree[p].kind == 'd' {
			g.hideLower(p, true)
		}
	default:
		p := g.pick(func(q string, _ *gnode) bool { return !g.ownBelow(q) })
		if p != "" && g.marker(path.Join(path.Dir(p), ".wh."+path.Base(p))) {
			g.class("whiteout-" + string(g.tree[p].kind))
			g.remove(p)
		}
	}
}

// marker writes a whiteout or opaque marker named name, unless
// opts.ForDocker leaves it out. Its parent is a directory of the tree.
func (g *gen) marker(name string) bool {
	name = strings.TrimPrefix(name, "./")
	if g.marks[name] && !g.docker("refuses-duplicate-path") {
		return false
	}
	g.marks[name] = true
	g.header(&tar.Header{Typeflag: tar.TypeReg, Name: g.prefix + name, Mode: 0o644, Format: tar.FormatPAX}, nil)
	return true
}

// opaque makes a directory of the tree opaque, with new entries in it
// before and after the marker.
func (g *gen) opaque() {
	d := g.pick(func(_ string, n *gnode) bool { return n.kind == 'd' })
	if d == "" {
		return
	}
	for range g.rng.IntN(2) {
		g.class("opaque-own-entry-before")
		g.write(d+"/"+genNames[g.rng.IntN(len(genNames))], "fdl"[g.rng.IntN(3)])
	}
	if n := g.tree[d]; n == nil || n.kind != 'd' {
		return // replaced on the way
	}
	if g.hideLower(d, false) && !g.docker("differs-opaque-removes-implied-dir") || !g.marker(d+"/.wh..wh..opq") {
		return
	}
	g.class("opaque")
	g.hideLower(d, true)
	for range g.rng.IntN(3) {
		g.class("opaque-own-entry-after")
		g.write(d+"/"+genNames[g.rng.IntN(len(genNames))], "fdl"[g.rng.IntN(3)])
	}
}

// hideLower applies an opaque marker at d (when apply is set): what lower
// layers put below d goes; what this layer listed stays. It reports
// whether Docker removes more: a directory this layer did not list but
// wrote into (implied, or a lower one), whose entries the spec keeps.
func (g *gen) hideLower(d string, apply bool) bool {
	differs := false
	for _, q := range g.below(d) {
		n := g.tree[q]
		if n == nil || path.Dir(q) != d {
			continue
		}
		switch listed, own := g.written[q], g.ownBelow(q); {
		case !own:
			if apply {
				g.remove(q)
			}
		case n.kind == 'd':
			// Kept, its lower entries hidden (Docker removes it all
			// unless the layer listed it).
			differs = g.hideLower(q, apply) || !listed || differs
		}
	}
	return differs
}
