package tarsafe

import (
	"archive/tar"
	"fmt"
	"path"
	"sort"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// Kind is what an entry does to the tree.
type Kind uint8

// The kinds of entry. Ignored entries (PAX global headers, aufs metadata)
// change nothing.
const (
	Ignored Kind = iota
	Dir
	Regular
	Symlink
	Hardlink
	Char
	Block
	Fifo
	Whiteout // hides Path in lower layers
	Opaque   // hides the lower contents of the directory Path
)

var kindNames = [...]string{"ignored", "directory", "file", "symlink", "hardlink", "character device", "block device", "fifo", "whiteout", "opaque marker"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind %d", k)
}

// Whiteout names (OCI image spec, layer changesets).
const (
	WhiteoutPrefix = ".wh."
	WhiteoutMeta   = ".wh..wh."
	WhiteoutOpaque = ".wh..wh..opq"
)

// Linux's limits on a path (PATH_MAX, with its terminating NUL) and on
// one name in it (NAME_MAX). No file system holds a longer path, so
// neither Docker nor we could apply such an entry; refusing it early also
// bounds the work each entry costs (the checks walk every parent).
const (
	MaxPath = 4095
	MaxName = 255
)

// DefaultMaxSize is the largest file Classify accepts unless Options say
// otherwise: 1 TiB, far beyond any real layer, small enough that a
// corrupted or hostile size field is caught before anything trusts it.
const DefaultMaxSize = 1 << 40

// DefaultMaxExpanded is the bound on the bytes a layer read through
// Reader may expand to unless Options say otherwise: 64 GiB, far above
// real layers (which rarely reach 10 GiB), far below what fills a disk or
// takes hours to read; a 30 KB layer can hold a sparse file of a terabyte,
// a gzip or zstd layer a thousand or more times its size.
const DefaultMaxExpanded = 64 << 30

// Options relax or tighten the rules.
type Options struct {
	// AllowDevices accepts character and block devices.
	AllowDevices bool
	// MaxSize is the largest regular file accepted; 0 means DefaultMaxSize.
	// A caller that knows how many bytes the layer has left passes that.
	MaxSize int64
	// Expanded bounds what a Reader reads: the uncompressed tar, with
	// the holes of its sparse files counted. Max 0 means
	// DefaultMaxExpanded; Flag names what sets it, for the error.
	Expanded errdefs.Bound
}

// Entry is a classified header.
type Entry struct {
	Kind Kind
	// Path is clean and relative to the root ("" is the root itself, never
	// ".."-prefixed). For a Whiteout it is the path hidden; for Opaque the
	// directory made opaque.
	Path string
	// Link is a Hardlink's clean target path, or a Symlink's target as
	// stored (symlinks are kept verbatim and never followed).
	Link   string
	Header *tar.Header
}

// Error is a refused entry.
type Error struct {
	Name   string // the entry's name as stored
	Reason string
	Class  error // errdefs.ErrUnsafeEntry or errdefs.ErrInvalidInput
}

func (e *Error) Error() string {
	if e.Class == errdefs.ErrUnsafeEntry {
		return fmt.Sprintf("unsafe entry %s: %s", errdefs.Quote(e.Name), e.Reason)
	}
	return fmt.Sprintf("entry %s: %s", errdefs.Quote(e.Name), e.Reason)
}

func (e *Error) Unwrap() error { return e.Class }

func unsafe(hdr *tar.Header, format string, args ...any) error {
	return &Error{Name: hdr.Name, Reason: fmt.Sprintf(format, args...), Class: errdefs.ErrUnsafeEntry}
}

func invalid(hdr *tar.Header, format string, args ...any) error {
	return &Error{Name: hdr.Name, Reason: fmt.Sprintf(format, args...), Class: errdefs.ErrInvalidInput}
}

// CleanName returns name relative to the root: leading slashes dropped
// (layer names are relative to the image root even when absolute, as in
// nixpkgs' store layers), cleaned, "" for the root. ok is false when the
// name leaves the root through "..".
func CleanName(name string) (clean string, ok bool) {
	name = path.Clean(strings.TrimLeft(name, "/"))
	switch {
	case name == ".":
		return "", true
	case name == ".." || strings.HasPrefix(name, "../"):
		return "", false
	}
	return name, true
}

// Classify applies the rules that need only the header (see the package
// doc).
func Classify(hdr *tar.Header, opts Options) (Entry, error) {
	e := Entry{Header: hdr}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return e, nil
	}
	p, ok := CleanName(hdr.Name)
	if !ok {
		return e, unsafe(hdr, "leaves the root")
	}
	if err := checkLength(hdr, "name", p); err != nil {
		return e, err
	}
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch parent, aufs := whiteoutParent(dir); {
	case aufs:
		return e, nil // inside aufs metadata: skipped with it
	case parent != "":
		return e, unsafe(hdr, "its parent %s is named like a whiteout", errdefs.Quote(parent))
	}
	if strings.HasPrefix(base, WhiteoutPrefix) {
		return classifyWhiteout(e, hdr, dir, base)
	}
	e.Path = p
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		e.Kind = Regular
		max := opts.MaxSize
		if max <= 0 {
			max = DefaultMaxSize
		}
		if hdr.Size < 0 || hdr.Size > max {
			return e, invalid(hdr, "size %d is absurd (at most %d bytes can follow)", hdr.Size, max)
		}
	case tar.TypeDir:
		e.Kind = Dir
	case tar.TypeSymlink:
		e.Kind, e.Link = Symlink, hdr.Linkname
		if hdr.Linkname == "" {
			return e, invalid(hdr, "symlink with an empty target")
		}
		if len(hdr.Linkname) > MaxPath {
			return e, invalid(hdr, "symlink target of %d bytes, longer than a path may be (%d)", len(hdr.Linkname), MaxPath)
		}
	case tar.TypeLink:
		e.Kind = Hardlink
		if e.Link, ok = CleanName(hdr.Linkname); !ok {
			return e, unsafe(hdr, "hardlink to %s, outside the root", errdefs.Quote(hdr.Linkname))
		}
		if err := checkLength(hdr, "hardlink target", e.Link); err != nil {
			return e, err
		}
		if e.Link == "" {
			return e, unsafe(hdr, "hardlink to the root directory")
		}
		if e.Link == p {
			return e, invalid(hdr, "hardlink to itself")
		}
	case tar.TypeChar, tar.TypeBlock:
		e.Kind = Char
		if hdr.Typeflag == tar.TypeBlock {
			e.Kind = Block
		}
		if !opts.AllowDevices {
			return e, unsafe(hdr, "%s %d:%d (devices are refused unless allowed)", e.Kind, hdr.Devmajor, hdr.Devminor)
		}
	case tar.TypeFifo:
		e.Kind = Fifo
	default:
		return e, unsafe(hdr, "unknown type flag %q", hdr.Typeflag)
	}
	if p == "" && e.Kind != Dir {
		return e, invalid(hdr, "the root is a %s, not a directory", e.Kind)
	}
	return e, nil
}

// checkLength refuses a clean path longer than Linux allows.
func checkLength(hdr *tar.Header, what, p string) error {
	if len(p) > MaxPath {
		return invalid(hdr, "%s of %d bytes, longer than a path may be (%d)", what, len(p), MaxPath)
	}
	for len(p) > MaxName {
		name, rest, _ := strings.Cut(p, "/")
		if len(name) > MaxName {
			return invalid(hdr, "%s has a name of %d bytes, longer than a name may be (%d)", what, len(name), MaxName)
		}
		p = rest
	}
	return nil
}

func classifyWhiteout(e Entry, hdr *tar.Header, dir, base string) (Entry, error) {
	switch {
	case base == WhiteoutOpaque:
		e.Kind, e.Path = Opaque, dir
	case strings.HasPrefix(base, WhiteoutMeta):
		// aufs hardlink and metadata directories: Docker skips them.
	default:
		name := base[len(WhiteoutPrefix):]
		if name == "" || name == "." || name == ".." {
			return e, unsafe(hdr, "whiteout names %s, outside its directory", errdefs.Quote(name))
		}
		e.Kind, e.Path = Whiteout, path.Join(dir, name)
	}
	return e, nil
}

// whiteoutParent looks at the directories of a clean path: aufs is true
// when one is aufs metadata (".wh..wh.plnk"; Docker skips it and what it
// holds), else parent is the first one named like a whiteout (".wh.x",
// ".wh..wh..opq"), which an entry may not imply: it would become a
// directory that readers of the layer take for a whiteout.
func whiteoutParent(dir string) (parent string, aufs bool) {
	if !strings.Contains(dir, WhiteoutPrefix) {
		return "", false
	}
	for i, part := range strings.Split(dir, "/") {
		switch {
		case part != WhiteoutOpaque && strings.HasPrefix(part, WhiteoutMeta):
			return "", true
		case strings.HasPrefix(part, WhiteoutPrefix):
			parts := strings.SplitN(dir, "/", i+2)
			return strings.Join(parts[:i+1], "/"), false
		}
	}
	return "", false
}

// checkParents refuses an entry when dir, or a directory above it, exists
// and is not a directory. Looking up every parent from the root costs the
// square of the depth for each entry, and a layer of a few thousand nested
// directories the cube (minutes): a parentWalker walks down once, and for
// another View, which never follows a symlink, so that where a path is a
// directory every path above it is one too, a binary search over the
// depth takes a few lookups.
func checkParents(hdr *tar.Header, dir string, v View) error {
	parent, k, ok := "", Ignored, false
	if w, walks := v.(parentWalker); walks {
		parent, k, ok = w.firstNonDir(dir)
	} else {
		parent, k, ok = searchParents(dir, v)
	}
	if !ok {
		return nil
	}
	if k == Symlink {
		return unsafe(hdr, "its parent %s is a symlink", errdefs.Quote(parent))
	}
	return invalid(hdr, "its parent %s is a %s, not a directory", errdefs.Quote(parent), k)
}

// searchParents returns the first of dir and its parents that exists and
// is not a directory, by a binary search over the depth.
func searchParents(dir string, v View) (string, Kind, bool) {
	var ends []int // where each parent's path ends in dir
	for i := 0; i < len(dir); i++ {
		if dir[i] == '/' {
			ends = append(ends, i)
		}
	}
	ends = append(ends, len(dir))
	first := sort.Search(len(ends), func(i int) bool {
		k, ok := v.Lookup(dir[:ends[i]])
		return !ok || k != Dir
	})
	if first == len(ends) {
		return "", Ignored, false
	}
	parent := dir[:ends[first]]
	k, ok := v.Lookup(parent) // missing: nothing below it exists either
	return parent, k, ok
}

// A parentWalker is a View that finds the first of a path and its parents
// that exists and is not a directory in one walk down the path (ok false
// when there is none): a View whose Lookup walks down from the root too (a
// directory on disk), where a binary search would walk it again for each
// probe.
type parentWalker interface {
	firstNonDir(p string) (parent string, k Kind, ok bool)
}

// View is what exists in the tree being built, lower layers included.
type View interface {
	// Lookup returns the kind of what is at the clean path p, without
	// following a symlink at p or above it; ok is false when nothing is.
	Lookup(p string) (k Kind, ok bool)
}

// CheckPlace applies the rules that depend on what exists (see the
// package doc). Call it before applying each entry, in layer order.
func CheckPlace(e Entry, v View) error {
	hdr := e.Header
	if e.Kind == Ignored || e.Path == "" {
		return nil
	}
	// Every parent must be a directory or absent; for an opaque marker
	// the directory itself too, since everything below it is removed.
	walk := path.Dir(e.Path)
	if e.Kind == Opaque {
		walk = e.Path
	}
	if walk != "." {
		if err := checkParents(hdr, walk, v); err != nil {
			return err
		}
	}
	if e.Kind == Hardlink {
		k, ok := v.Lookup(e.Link)
		switch {
		case !ok:
			return unsafe(hdr, "hardlink to %s, which does not exist (yet)", errdefs.Quote(e.Link))
		case k == Dir:
			return unsafe(hdr, "hardlink to the directory %s", errdefs.Quote(e.Link))
		}
	}
	return nil
}
