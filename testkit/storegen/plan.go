package storegen

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
)

// The shape of a generated store beyond what Spec sets. These are fixed so
// that a Spec stays small; changing one changes Version.
const (
	fracSymlinkPath = 0.02  // paths that are a symlink to another path
	fracFilePath    = 0.03  // paths that are a single file
	fracBottomRef   = 0.9   // paths with references that refer to the bottom path
	fracSelfRef     = 0.35  // paths that refer to themselves
	fracSymlinkRef  = 0.15  // references written as a symlink target
	fracRelLink     = 0.04  // files that get a relative symlink next to them
	fracHardlink    = 0.01  // files that get a hardlink next to them
	fracLongName    = 0.01  // files with a name longer than tar's 100 bytes
	fracUnicodeName = 0.003 // files with a non-ASCII name
	binaryMin       = 64 << 10
	medianFile      = 2 << 10
)

// Seed domains, so that planning and each file's content draw from
// independent streams.
const (
	domainPlan uint64 = iota + 1
	domainPool
	domainContent
	domainGraph
)

// newRand returns a ChaCha8 stream for (seed, domain, a, b).
func newRand(seed, domain, a, b uint64) (*rand.Rand, *rand.ChaCha8) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], domain)
	binary.LittleEndian.PutUint64(key[16:], a)
	binary.LittleEndian.PutUint64(key[24:], b)
	src := rand.NewChaCha8(key)
	return rand.New(src), src
}

type pathKind uint8

const (
	kindDir pathKind = iota
	kindFile
	kindSymlink
)

func (k pathKind) String() string {
	return [...]string{"directory", "file", "symlink"}[k]
}

type entryType uint8

const (
	typeDir entryType = iota
	typeFile
	typeSymlink
	typeHardlink
)

// entry is one filesystem object of a store path. name is relative to the
// path ("" is the path itself).
type entry struct {
	name   string
	typ    entryType
	size   int64  // regular files
	exec   bool   // regular files
	binary bool   // regular files: random bytes rather than text
	target string // symlink target, or the name a hardlink links to
	sites  []site // references written into a regular file
	link   *entry // a hardlink's file
}

// site is one written reference: the referenced path at a byte offset of
// a file.
type site struct {
	ref int
	off int64
}

type storePath struct {
	hash, name string
	level      int
	kind       pathKind
	refs       []int // referenced paths, itself included for a self-reference
	entries    []*entry
	files      []*entry // the regular files among entries
	dirs       []string
	seq        int // counter that keeps generated names unique
}

func (p *storePath) base() string { return p.hash + "-" + p.name }

// plan is a whole store, decided before a byte is written.
type plan struct {
	spec  Spec
	paths []*storePath
}

func (pl *plan) full(i int) string { return pl.spec.StoreDir + "/" + pl.paths[i].base() }

func newPlan(spec Spec) *plan {
	rng, _ := newRand(spec.Seed, domainPlan, 0, 0)
	pl := &plan{spec: spec}
	pl.drawPaths(rng)
	pl.drawRefs(rng)
	counts := pl.drawFileCounts(rng)
	sizes := drawSizes(rng, spec)
	for i, p := range pl.paths {
		switch p.kind {
		case kindFile:
			p.addFile(rng, "", sizes[0])
			sizes = sizes[1:]
		case kindDir:
			p.drawTree(rng, sizes[:counts[i]])
			sizes = sizes[counts[i]:]
		}
	}
	for i := range pl.paths {
		pl.placeRefs(rng, i)
	}
	return pl
}

// drawPaths names the paths and sorts them by level: the bottom path
// first, the top path last.
func (pl *plan) drawPaths(rng *rand.Rand) {
	n, levels := pl.spec.Paths, pl.spec.Levels
	seen := map[string]bool{}
	hash := func() string {
		for {
			if h := randomHash(rng); !seen[h] {
				seen[h] = true
				return h
			}
		}
	}
	mids := make([]*storePath, n-2)
	for i := range mids {
		p := &storePath{hash: hash(), name: packageName(rng), level: 1 + rng.IntN(levels)}
		switch r := rng.Float64(); {
		case r < fracSymlinkPath:
			p.kind = kindSymlink
		case r < fracSymlinkPath+fracFilePath:
			p.kind = kindFile
		}
		mids[i] = p
	}
	slices.SortStableFunc(mids, func(a, b *storePath) int { return a.level - b.level })
	bottom := &storePath{hash: hash(), name: "glibc-2.40", level: 0}
	top := &storePath{hash: hash(), name: "bench-env", level: levels + 1}
	pl.paths = append(append([]*storePath{bottom}, mids...), top)
}

// drawRefs draws the reference DAG level by level; the top path refers to
// every path nothing else refers to.
func (pl *plan) drawRefs(rng *rand.Rand) {
	a := &attacher{rng: rng}
	a.add(0)
	last := len(pl.paths) - 1
	for i := 1; i < last; i++ {
		p := pl.paths[i]
		if p.level != pl.paths[i-1].level {
			a.nextLevel()
		}
		if p.kind == kindSymlink {
			p.refs = a.draw(1, nil)
		} else {
			k := refCount(rng, pl.spec.Refs)
			if k > 0 && rng.Float64() < fracBottomRef {
				p.refs = append(p.refs, 0)
			}
			p.refs = append(p.refs, a.draw(k-len(p.refs), map[int]bool{0: true})...)
			if rng.Float64() < fracSelfRef {
				p.refs = append(p.refs, i)
			}
		}
		a.add(i)
	}
	referred := make([]bool, len(pl.paths))
	for i, p := range pl.paths {
		for _, r := range p.refs {
			if r != i {
				referred[r] = true
			}
		}
	}
	for i := range last {
		if !referred[i] {
			pl.paths[last].refs = append(pl.paths[last].refs, i)
		}
	}
}

// drawFileCounts gives each path its number of regular files: one for a
// single-file path, none for a symlink, and for directories at least one
// plus a log-normal share of the rest (the bottom path, like glibc, gets a
// large share).
func (pl *plan) drawFileCounts(rng *rand.Rand) []int {
	counts := make([]int, len(pl.paths))
	weights := make([]float64, len(pl.paths))
	rest, total := pl.spec.Files, 0.0
	for i, p := range pl.paths {
		switch p.kind {
		case kindSymlink:
			continue
		case kindFile:
			counts[i] = 1
		case kindDir:
			counts[i] = 1
			weights[i] = math.Exp(rng.NormFloat64())
			if i == 0 {
				weights[i] *= 8
			}
			total += weights[i]
		}
		rest--
	}
	if rest < 0 {
		// Symlink paths hold no file, so Files ≥ Paths always leaves a
		// non-negative rest; this guards the arithmetic below.
		rest = 0
	}
	// Cumulative rounding hands out exactly rest files.
	cum, given := 0.0, 0
	for i := range pl.paths {
		if weights[i] == 0 {
			continue
		}
		cum += weights[i]
		upto := int(float64(rest) * cum / total)
		counts[i] += upto - given
		given = upto
	}
	counts[pl.lastDir()] += rest - given
	return counts
}

func (pl *plan) lastDir() int {
	for i := len(pl.paths) - 1; ; i-- {
		if pl.paths[i].kind == kindDir {
			return i
		}
	}
}

// drawSizes draws spec.Files log-normal sizes scaled to add up to
// spec.Bytes, none above spec.MaxFile.
func drawSizes(rng *rand.Rand, spec Spec) []int64 {
	raw := make([]float64, spec.Files)
	for i := range raw {
		raw[i] = medianFile * math.Exp(spec.SizeSigma*rng.NormFloat64())
	}
	// Scale the uncapped files until the capped total matches: a few
	// rounds converge because each round only moves the uncapped ones.
	capSize, want := float64(spec.MaxFile), float64(spec.Bytes)
	for range 20 {
		capped, free := 0.0, 0.0
		for _, s := range raw {
			if s >= capSize {
				capped += capSize
			} else {
				free += s
			}
		}
		if free == 0 || math.Abs(capped+free-want) < 1 {
			break
		}
		f := (want - capped) / free
		if f <= 0 {
			break
		}
		for i, s := range raw {
			if s < capSize {
				raw[i] = min(s*f, capSize)
			}
		}
	}
	sizes := make([]int64, len(raw))
	var sum int64
	for i, s := range raw {
		sizes[i] = int64(min(s, capSize))
		sum += sizes[i]
	}
	// Rounding leaves a few bytes; give them to files below the cap.
	for i := 0; sum < spec.Bytes && i < len(sizes); i++ {
		add := min(spec.Bytes-sum, spec.MaxFile-sizes[i])
		sizes[i] += add
		sum += add
	}
	return sizes
}

// drawTree lays out a directory path: standard top-level directories,
// nested ones below, and the files (binaries in lib/ and bin/, text
// elsewhere), with relative symlinks and hardlinks next to some of them.
func (p *storePath) drawTree(rng *rand.Rand, sizes []int64) {
	p.entries = append(p.entries, &entry{name: "", typ: typeDir})
	for _, d := range []struct {
		name string
		frac float64
	}{{"bin", 0.6}, {"lib", 0.7}, {"share", 0.8}, {"include", 0.3}, {"etc", 0.1}, {"libexec", 0.1}} {
		if len(sizes) > 1 && rng.Float64() < d.frac {
			p.addDir(d.name)
		}
	}
	if len(p.dirs) == 0 {
		p.addDir("share")
	}
	for range len(sizes) / 8 {
		parent := p.dirs[rng.IntN(len(p.dirs))]
		if strings.Count(parent, "/") < 7 && parent != "bin" {
			p.addDir(p.unique(parent + "/" + word(rng)))
		}
	}
	for _, size := range sizes {
		p.addFile(rng, p.fileName(rng, size), size)
	}
	if slices.Contains(p.dirs, "lib") && rng.Float64() < 0.1 {
		p.entries = append(p.entries, &entry{name: "lib64", typ: typeSymlink, target: "lib"})
	}
}

func (p *storePath) addDir(name string) {
	p.dirs = append(p.dirs, name)
	p.entries = append(p.entries, &entry{name: name, typ: typeDir})
}

// unique appends a counter to name, so that no two entries collide.
func (p *storePath) unique(name string) string {
	p.seq++
	return fmt.Sprintf("%s%d", name, p.seq)
}

// fileName picks a directory and a name fitting a file of this size.
func (p *storePath) fileName(rng *rand.Rand, size int64) string {
	in := func(prefixes ...string) string {
		var c []string
		for _, d := range p.dirs {
			for _, pre := range prefixes {
				if d == pre || strings.HasPrefix(d, pre+"/") {
					c = append(c, d)
				}
			}
		}
		if len(c) == 0 {
			c = p.dirs
		}
		return c[rng.IntN(len(c))]
	}
	var dir, base string
	if size >= binaryMin {
		switch r := rng.Float64(); {
		case r < 0.7:
			dir, base = in("lib"), "lib"+word(rng)+".so"
		case r < 0.9:
			dir, base = in("bin"), word(rng)
		default:
			dir, base = in("libexec"), word(rng)
		}
	} else {
		if rng.Float64() < 0.05 {
			dir = in("bin")
		} else {
			dir = p.dirs[rng.IntN(len(p.dirs))]
		}
		base = word(rng) + [...]string{".h", ".txt", ".conf", ".py", ".pc", ".la", ".html", ""}[rng.IntN(8)]
	}
	switch r := rng.Float64(); {
	case r < fracLongName:
		for len(base) < 110 {
			base = word(rng) + "-" + base
		}
	case r < fracLongName+fracUnicodeName:
		base = "résumé-ünïcødé-" + base
	}
	return dir + "/" + p.unique(base)
}

// addFile adds a regular file, and sometimes a relative symlink or a
// hardlink to it.
func (p *storePath) addFile(rng *rand.Rand, name string, size int64) {
	dir := path.Dir(name)
	f := &entry{name: name, typ: typeFile, size: size, binary: size >= binaryMin}
	switch {
	case name == "":
		f.exec = rng.Float64() < 0.3
	case dir == "bin" || strings.HasPrefix(dir, "libexec"):
		f.exec = true
	case f.binary:
		f.exec = rng.Float64() < 0.5
	default:
		f.exec = rng.Float64() < 0.02
	}
	p.entries = append(p.entries, f)
	p.files = append(p.files, f)
	if name == "" {
		return
	}
	if rng.Float64() < fracRelLink {
		p.entries = append(p.entries, &entry{name: p.unique(name + "-link"), typ: typeSymlink, target: path.Base(name)})
	}
	if rng.Float64() < fracHardlink {
		p.entries = append(p.entries, &entry{name: p.unique(name + "-hl"), typ: typeHardlink, target: name, link: f})
	}
}

// placeRefs decides where each reference of path i is written: as the
// path itself for a symlink path, as a symlink target into the referenced
// path (always for the top path, as buildEnv does), or inside a file.
func (pl *plan) placeRefs(rng *rand.Rand, i int) {
	p := pl.paths[i]
	if p.kind == kindSymlink {
		p.entries = []*entry{{name: "", typ: typeSymlink, target: pl.full(p.refs[0]), sites: []site{{ref: p.refs[0], off: -1}}}}
		return
	}
	top := i == len(pl.paths)-1
	for _, r := range p.refs {
		if r != i && p.kind == kindDir && (top || rng.Float64() < fracSymlinkRef) {
			target := pl.full(r)
			if q := pl.paths[r]; q.kind == kindDir && len(q.files) > 0 {
				target += "/" + q.files[rng.IntN(len(q.files))].name
			}
			dir := p.dirs[rng.IntN(len(p.dirs))]
			p.entries = append(p.entries, &entry{name: p.unique(dir + "/" + pl.paths[r].name), typ: typeSymlink, target: target, sites: []site{{ref: r, off: -1}}})
			continue
		}
		f := p.files[rng.IntN(len(p.files))]
		f.sites = append(f.sites, site{ref: r})
	}
	for _, f := range p.files {
		pl.placeSites(rng, f)
	}
}

// placeSites gives each reference written into f an offset: f is split
// into one segment per reference and each goes somewhere in its segment,
// so they never overlap. A file too small for its references grows.
func (pl *plan) placeSites(rng *rand.Rand, f *entry) {
	if len(f.sites) == 0 {
		return
	}
	var longest int64
	for _, s := range f.sites {
		longest = max(longest, int64(len(pl.full(s.ref)))+1)
	}
	if need := longest * int64(len(f.sites)); f.size < need {
		f.size = need
	}
	seg := f.size / int64(len(f.sites))
	for k := range f.sites {
		room := seg - int64(len(pl.full(f.sites[k].ref))) - 1
		f.sites[k].off = int64(k)*seg + rng.Int64N(room+1)
	}
}
