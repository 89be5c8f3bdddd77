package testkit

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strings"
	"time"
)

// A Stack is a generated image's layers, valid by the OCI image spec's
// layer rules, and what they exercise.
type Stack struct {
	Layers [][]byte // uncompressed layer tars, bottom first
	// Classes counts the layer semantics the stack exercises, by name
	// (see GenStack).
	Classes map[string]int
}

// StackOptions sizes a generated stack.
type StackOptions struct {
	Layers  int  // how many layers; 0 means 4
	Entries int  // operations per layer; 0 means 14
	Devices bool // also character devices (only root can make them)
	// ForDocker leaves out the cases Docker (28, vfs) refuses or applies
	// otherwise than the OCI image spec says (see GenStack), so that the
	// stack's tree is the same by the spec and by Docker.
	ForDocker bool
	// HardlinkMeta lets hardlink entries give their file new metadata
	// (umoci-ignores-hardlink-metadata).
	HardlinkMeta bool
}

// GenStack generates, from seed alone (the same stack on any machine), a
// random stack of layers that stresses how layers are applied: files,
// directories and symlinks replacing each other across layers and within
// one; whiteouts of files, directories and symlinks; opaque markers with
// new entries before and after them in the same layer; hardlinks to
// files of lower layers and of their own, whose targets are later
// replaced or whited out; entries repeated within a layer; parent
// directories implied or listed; extended attributes (PAX records);
// sparse files (GNU's PAX 1.0 format), empty files, fifos, devices, store
// paths; names with "./", "/" or no prefix.
//
// Every stack is safe: no entry below a symlink, no hardlink to a path
// that is missing or not a file, no whiteout outside its directory. The
// cases where Docker departs from the OCI image spec are counted in
// Classes under names starting "docker-" and left out with
// opts.ForDocker:
//
//   - docker-refuses-duplicate-path: a path listed twice in one layer.
//     The spec forbids producers to write it; the project and umoci take
//     the last entry, Docker refuses the layer.
//   - docker-refuses-listed-dir-removed: a directory listed and then
//     removed (a parent replaced, or Docker's own removals below) in the
//     same layer: Docker fails setting its time at the end of the layer.
//   - docker-differs-whiteout-of-own-layer: a whiteout of a path its own
//     layer wrote (at it or below): the spec keeps what the layer wrote,
//     Docker removes it.
//   - docker-differs-opaque-removes-implied-dir: an opaque marker above a
//     directory its own layer did not list but wrote into (implied, or a
//     lower one): the spec keeps the layer's entries, Docker removes the
//     directory with them.
//
// (Docker also makes the directories a layer implies 0600, where umoci
// and GNU tar make them 0755: see CompareOptions.ImpliedDirs.)
func GenStack(seed uint64, opts StackOptions) Stack {
	if opts.Layers == 0 {
		opts.Layers = 4
	}
	if opts.Entries == 0 {
		opts.Entries = 14
	}
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x6c61796572)), tree: map[string]*gnode{}, opts: opts,
		stack: Stack{Classes: map[string]int{}}}
	for range opts.Layers {
		g.layer()
	}
	return g.stack
}

// gnode is a path of the tree the layers so far make, by the spec's rules.
type gnode struct {
	kind byte   // f d l p c
	meta *gmeta // shared by the paths of a hardlink group
	link string // symlink target
}

type gmeta struct {
	mode     int64
	uid, gid int
	mtime    int64
	xattrs   map[string]string
}

type gen struct {
	rng   *rand.Rand
	opts  StackOptions
	tree  map[string]*gnode
	stack Stack
	// This layer's entries, and the paths it wrote: true when listed,
	// false when implied as a parent.
	tw      *tar.Writer
	buf     *bytes.Buffer
	written map[string]bool
	marks   map[string]bool // whiteouts and opaque markers
	prefix  string          // "", "./" or "/": how this layer spells names
}

func (g *gen) class(name string) { g.stack.Classes[name]++ }

// docker counts a case where Docker departs from the spec, "docker-"+what,
// and reports whether to write it: false with opts.ForDocker.
func (g *gen) docker(what string) bool {
	if g.opts.ForDocker {
		return false
	}
	g.class("docker-" + what)
	return true
}

func (g *gen) layer() {
	g.buf = &bytes.Buffer{}
	g.tw = tar.NewWriter(g.buf)
	g.written, g.marks = map[string]bool{}, map[string]bool{}
	g.prefix = []string{"", "./", "/"}[g.rng.IntN(3)]
	for range g.opts.Entries {
		g.op()
	}
	if err := g.tw.Close(); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	g.stack.Layers = append(g.stack.Layers, g.buf.Bytes())
}

// op writes one operation, or nothing when the one drawn finds nothing to
// work on.
func (g *gen) op() {
	switch n := g.rng.IntN(100); {
	case n < 22:
		g.write(g.anyPath(), 'f')
	case n < 32:
		g.write(g.anyPath(), 'd')
	case n < 42:
		g.write(g.anyPath(), 'l')
	case n < 44:
		g.write(g.anyPath(), 'p')
	case n < 46 && g.opts.Devices:
		g.write(g.anyPath(), 'c')
	case n < 56:
		g.hardlink(g.anyPath())
	case n < 70:
		g.whiteout()
	case n < 80:
		g.opaque()
	case n < 88:
		// An entry repeated within the layer: the last one wins.
		if p := g.pick(func(p string, n *gnode) bool { return g.written[p] }); p != "" && !g.opts.ForDocker {
			g.write(p, "fdlp"[g.rng.IntN(4)])
		}
	default:
		// Replace what is there by another type: dir ↔ file ↔ symlink.
		if p := g.pick(func(string, *gnode) bool { return true }); p != "" {
			g.write(p, "fdl"[g.rng.IntN(3)])
		}
	}
}

// names are few, so that layers meet at the same paths.
var genNames = []string{"a", "b", "c", "x", "y", "z y", "é"}

func (g *gen) anyPath() string {
	if g.rng.IntN(8) == 0 {
		// A store path, for StorePaths.
		return fmt.Sprintf("nix/store/%032d-p%d", g.rng.IntN(3), g.rng.IntN(2)) + []string{"", "/bin", "/bin/x"}[g.rng.IntN(3)]
	}
	if g.rng.IntN(2) == 0 {
		if p := g.pick(func(string, *gnode) bool { return true }); p != "" {
			return p
		}
	}
	parts := make([]string, 1+g.rng.IntN(3))
	for i := range parts {
		parts[i] = genNames[g.rng.IntN(len(genNames))]
	}
	return strings.Join(parts, "/")
}

// pick returns a random path of the tree that ok accepts, "" when none.
func (g *gen) pick(ok func(string, *gnode) bool) string {
	var cands []string
	for p, n := range g.tree {
		if ok(p, n) {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Strings(cands)
	return cands[g.rng.IntN(len(cands))]
}

// parents makes every directory above p one, listing some and implying
// others; a file or symlink in the way is replaced by a directory. It
// returns false when it cannot (opts.ForDocker).
func (g *gen) parents(p string) bool {
	var dirs []string
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		dirs = append(dirs, d)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		switch n := g.tree[d]; {
		case n != nil && n.kind == 'd':
			if g.rng.IntN(6) == 0 && !(g.opts.ForDocker && g.written[d]) {
				g.class("dir-over-dir")
				g.entry(d, 'd', "")
			}
		case n != nil:
			if !g.entry(d, 'd', "") {
				return false
			}
			g.class("nondir-replaced-by-parent-dir")
		case g.rng.IntN(2) == 0:
			g.entry(d, 'd', "")
		default:
			g.class("implied-parent")
			g.tree[d] = &gnode{kind: 'd', meta: &gmeta{mode: 0o755}}
			if _, ok := g.written[d]; !ok {
				g.written[d] = false
			}
		}
	}
	return true
}

// write puts an entry of kind at p, with its parents.
func (g *gen) write(p string, kind byte) {
	if !g.parents(p) {
		return
	}
	target := ""
	if kind == 'l' {
		target = []string{"a", "../x", "/etc/passwd", "/a/b", "missing", ".", "..", "x/../../.."}[g.rng.IntN(8)]
		g.class("symlink")
	}
	g.entry(p, kind, target)
}

var (
	fileModes = []int64{0o644, 0o755, 0o600, 0o4755, 0o444, 0o640, 0o2711}
	dirModes  = []int64{0o755, 0o700, 0o750, 0o1777, 0o2755, 0o711, 0o555}
	owners    = [][2]int{{0, 0}, {1000, 1000}, {0, 42}, {65534, 65534}}
)

// entry writes the header (and content) of one entry at p and applies it
// to the tree: what was at p goes, unless both are directories. It
// returns false, writing nothing, for what opts.ForDocker leaves out.
func (g *gen) entry(p string, kind byte, target string) bool {
	old := g.tree[p]
	replaces := old != nil && !(old.kind == 'd' && kind == 'd')
	switch {
	case g.written[p]:
		if !g.docker("refuses-duplicate-path") {
			return false
		}
		g.class("repeated-in-layer")
	case replaces && g.listedDirBelow(p):
		if !g.docker("refuses-listed-dir-removed") {
			return false
		}
	}
	o := owners[g.rng.IntN(len(owners))]
	m := &gmeta{uid: o[0], gid: o[1], mtime: 1 + g.rng.Int64N(1e9)}
	h := &tar.Header{Name: g.prefix + p, Uid: m.uid, Gid: m.gid, ModTime: time.Unix(m.mtime, 0), Format: tar.FormatPAX}
	var body []byte
	switch kind {
	case 'f':
		h.Typeflag, m.mode = tar.TypeReg, fileModes[g.rng.IntN(len(fileModes))]
		if g.rng.IntN(8) == 0 {
			g.class("sparse-file")
			h.Mode = m.mode
			g.replace(p, old, kind)
			g.tree[p] = &gnode{kind: kind, meta: m}
			g.written[p] = true
			g.sparse(h, 1+g.rng.Int64N(1<<20))
			return true
		}
		switch n := g.rng.IntN(6); {
		case n == 0:
			g.class("empty-file")
		case n < 5:
			body = make([]byte, 1+g.rng.IntN(300))
		default:
			body = make([]byte, 1+g.rng.IntN(20000))
		}
		for i := range body {
			body[i] = byte(g.rng.Uint32())
		}
		h.Size = int64(len(body))
	case 'd':
		h.Typeflag, m.mode = tar.TypeDir, dirModes[g.rng.IntN(len(dirModes))]
		h.Name += "/"
	case 'l':
		h.Typeflag, m.mode, h.Linkname = tar.TypeSymlink, 0o777, target
	case 'p':
		h.Typeflag, m.mode = tar.TypeFifo, 0o644
		g.class("fifo")
	case 'c':
		h.Typeflag, m.mode, h.Devmajor, h.Devminor = tar.TypeChar, 0o666, 1, 3
		g.class("device")
	}
	if (kind == 'f' || kind == 'd') && g.rng.IntN(4) == 0 {
		m.xattrs = map[string]string{"user.k" + fmt.Sprint(g.rng.IntN(2)): fmt.Sprint("v", g.rng.IntN(100))}
		h.PAXRecords = map[string]string{"SCHILY.xattr." + keys(m.xattrs)[0]: m.xattrs[keys(m.xattrs)[0]]}
		g.class("xattr")
	}
	h.Mode = m.mode
	g.replace(p, old, kind)
	g.tree[p] = &gnode{kind: kind, meta: m, link: target}
	g.written[p] = true
	g.header(h, body)
	return true
}

// replace removes what an entry of kind at p replaces: old and all below
// it, unless both are directories.
func (g *gen) replace(p string, old *gnode, kind byte) {
	if old != nil && old.kind == 'd' && kind == 'd' {
		if old.meta.xattrs != nil {
			g.class("dir-over-dir-with-xattrs")
		}
		return
	}
	if old != nil {
		g.class(fmt.Sprintf("replace-%c-by-%c", old.kind, kind))
	}
	g.remove(p)
}

func (g *gen) must(err error) {
	if err != nil {
		panic(fmt.Sprintf("layergen: %v", err)) // writes to a bytes.Buffer do not fail
	}
}

// listedDirBelow reports whether this layer listed a directory below p.
func (g *gen) listedDirBelow(p string) bool {
	for _, q := range g.below(p) {
		if g.written[q] && g.tree[q].kind == 'd' {
			return true
		}
	}
	return false
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (g *gen) header(h *tar.Header, body []byte) {
	if err := g.tw.WriteHeader(h); err != nil {
		panic(fmt.Sprintf("layergen: %v", err))
	}
	if _, err := g.tw.Write(body); err != nil {
		panic(fmt.Sprintf("layergen: %v", err))
	}
}

// remove deletes p and everything below it from the tree.
func (g *gen) remove(p string) {
	for q := range g.tree {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(g.tree, q)
		}
	}
}

// below lists the paths strictly below p, sorted.
func (g *gen) below(p string) []string {
	var out []string
	for q := range g.tree {
		if strings.HasPrefix(q, p+"/") {
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}

// ownBelow reports whether this layer wrote (listed or implied) p or a
// path below it.
func (g *gen) ownBelow(p string) bool {
	for q := range g.written {
		if q == p || strings.HasPrefix(q, p+"/") {
			return true
		}
	}
	return false
}
