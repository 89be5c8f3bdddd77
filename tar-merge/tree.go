package main

import (
	"archive/tar"
	"fmt"
	"math"
	"path"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
)

// inode is what a path holds. Paths joined by a hardlink share one, so a
// later change through either (Docker applies the link header's mode and
// owner to the shared file) and the content are seen by both, and a
// whiteout of one path leaves the others intact.
// One is kept per path of the output, so its fields are packed; what few
// entries have (a link target, device numbers, xattrs) is in extra.
type inode struct {
	kind tarsafe.Kind
	// shared is set once a hardlink names this inode: the output then
	// writes it once and links the other paths to it.
	shared       bool
	mode         uint32 // mode & 07777
	uid, gid     int
	uname, gname string // interned
	mtime        int64
	// Content of a regular file: where it is in its uncompressed layer.
	content location
	extra   *extra
}

// extra is the metadata of symlinks, devices and files with extended
// attributes.
type extra struct {
	link               string // symlink target
	devmajor, devminor int64
	xattrs             map[string]string // PAX SCHILY.xattr.* records
}

// location is where an entry's bytes are in its layer's uncompressed tar.
type location struct {
	layer   int32 // index in the image's layers, bottom first
	sparse  bool  // stored as a sparse file: read back, map first, from hdrOff
	dataOff int64 // of the data
	hdrOff  int64 // of the entry's first header block (for sparse files)
	size    int64
}

// node is one path of the merged tree.
type node struct {
	name   string
	ino    *inode
	kids   map[string]*node // directories only
	origin int32            // the layer that last wrote this path
	// touched is the last layer that wrote this path or one below it,
	// so that asking whether a layer wrote below a directory costs one
	// comparison, not a walk of its subtree for every whiteout.
	touched int32
	// hidden is the last layer whose whiteout or opaque marker removed
	// the lower contents of this directory: a second marker of the same
	// layer finds nothing left to remove and need not walk it again.
	hidden int32
}

// tree is the root filesystem as the layers applied so far make it.
// Memory grows with the number of paths; content stays in the layers.
type tree struct {
	root  *node
	names map[string]string // interned user and group names
}

func newTree() *tree {
	return &tree{
		root:  &node{ino: &inode{kind: tarsafe.Dir, mode: 0o755}, origin: -1, touched: -1, hidden: -1, kids: map[string]*node{}},
		names: map[string]string{},
	}
}

// Lookup implements tarsafe.View: it never follows a symlink.
func (t *tree) Lookup(p string) (tarsafe.Kind, bool) {
	n := t.find(p)
	if n == nil {
		return tarsafe.Ignored, false
	}
	return n.ino.kind, true
}

// find returns the node at the clean path p, or nil.
func (t *tree) find(p string) *node {
	n := t.root
	if p == "" {
		return n
	}
	for _, part := range strings.Split(p, "/") {
		if n.kids == nil {
			return nil
		}
		if n = n.kids[part]; n == nil {
			return nil
		}
	}
	return n
}

// parentPath is the clean path of p's directory, "" for the root.
func parentPath(p string) string {
	if d := path.Dir(p); d != "." {
		return d
	}
	return ""
}

// parentOf returns the directory that will hold p, creating missing
// directories (mode 0755, owner 0:0, as umoci and GNU tar make them; Docker
// makes them 0600) marked as written by
// layer k.
func (t *tree) parentOf(p string, k int32) *node {
	n := t.root
	dir := path.Dir(p)
	if dir == "." {
		return n
	}
	for _, part := range strings.Split(dir, "/") {
		n.touched = k
		c := n.kids[part]
		if c == nil {
			c = &node{name: part, ino: &inode{kind: tarsafe.Dir, mode: 0o755}, origin: k, kids: map[string]*node{}, hidden: -1}
			n.kids[part] = c
		}
		// tarsafe.CheckPlace has refused parents that are not directories.
		n = c
	}
	n.touched = k
	return n
}

// apply applies one entry of layer k. tarsafe.CheckPlace has run.
func (t *tree) apply(e tarsafe.Entry, loc location, k int32) error {
	switch e.Kind {
	case tarsafe.Ignored:
		return nil
	case tarsafe.Whiteout:
		// Hides the path in lower layers only (OCI): what this same
		// layer wrote at the path or below it stays, what lower layers
		// put below it goes.
		switch n := t.find(e.Path); {
		case n == nil:
		case n.origin < k && !wrote(n, k):
			delete(t.find(parentPath(e.Path)).kids, n.name)
		case n.kids != nil:
			hideLower(n, k)
		}
		return nil
	case tarsafe.Opaque:
		if d := t.find(e.Path); d != nil {
			hideLower(d, k)
		}
		return nil
	}
	if err := checkOwner(e.Header); err != nil {
		return fmt.Errorf("%s: %w", errdefs.Quote(e.Path), err)
	}
	if e.Path == "" {
		t.root.ino = t.newInode(e, loc)
		t.root.origin, t.root.touched = k, k
		return nil
	}
	parent := t.parentOf(e.Path, k)
	base := path.Base(e.Path)
	old := parent.kids[base]
	n := &node{name: base, origin: k, touched: k, hidden: -1}
	switch e.Kind {
	case tarsafe.Dir:
		if old != nil && old.ino.kind == tarsafe.Dir {
			// A directory over a directory keeps its contents; its
			// metadata, extended attributes included, are the entry's
			// (the OCI image spec's rule, and umoci's; Docker keeps
			// attributes the entry lacks).
			n.kids, n.ino, n.hidden = old.kids, t.newInode(e, loc), old.hidden
		} else {
			n.kids, n.ino = map[string]*node{}, t.newInode(e, loc)
		}
	case tarsafe.Hardlink:
		// tarsafe.Classify has refused a hardlink to itself.
		n.ino = t.find(e.Link).ino
		n.ino.shared = true
		if n.ino.kind != tarsafe.Symlink {
			t.setOwnerMode(n.ino, e.Header)
		}
	default:
		n.ino = t.newInode(e, loc)
	}
	parent.kids[base] = n
	return nil
}

// hideLower removes what layers below k put under d, keeping what layer k
// itself wrote there, and the directories that lead to it (Docker's and
// the OCI spec's opaque rule). A directory whose lower contents layer k
// removed already is not walked again: what is below it now, layer k
// wrote.
func hideLower(d *node, k int32) {
	if d.hidden == k {
		return
	}
	d.hidden = k
	for name, c := range d.kids {
		switch {
		case !wrote(c, k):
			delete(d.kids, name)
		case c.kids != nil:
			hideLower(c, k)
		}
	}
}

// wrote reports whether layer k wrote d or anything below it.
func wrote(d *node, k int32) bool { return d.touched == k }

func (t *tree) intern(s string) string {
	if v, ok := t.names[s]; ok {
		return v
	}
	t.names[s] = s
	return s
}

func (t *tree) newInode(e tarsafe.Entry, loc location) *inode {
	h := e.Header
	ino := &inode{kind: e.Kind}
	t.setOwnerMode(ino, h)
	x := extra{xattrs: xattrs(h)}
	switch e.Kind {
	case tarsafe.Symlink:
		x.link = h.Linkname
	case tarsafe.Char, tarsafe.Block:
		x.devmajor, x.devminor = h.Devmajor, h.Devminor
	case tarsafe.Regular:
		ino.content = loc
	}
	if x.link != "" || x.devmajor != 0 || x.devminor != 0 || x.xattrs != nil {
		ino.extra = &x
	}
	return ino
}

// setOwnerMode copies what Docker sets on a path from its header: mode
// bits, owner, modification time (to the second).
func (t *tree) setOwnerMode(ino *inode, h *tar.Header) {
	ino.mode = uint32(h.Mode & 0o7777)
	ino.uid, ino.gid = h.Uid, h.Gid
	ino.uname, ino.gname = t.intern(h.Uname), t.intern(h.Gname)
	ino.mtime = h.ModTime.Unix()
}

// checkOwner refuses an entry whose uid or gid is no Linux id
// (tarsafe.CheckOwner), and on a 32-bit architecture (386, arm), whose
// int is 32 bits, one past 2147483647 (4294967294, the largest Linux id,
// read as -2), which such a build cannot write back: flattened there, the
// image had -2 for its owner.
func checkOwner(h *tar.Header) error {
	if err := tarsafe.CheckOwner(h); err != nil {
		return err
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"uid", h.Uid}, {"gid", h.Gid}} {
		if id.v < 0 {
			return fmt.Errorf("%s %d is past %d, the largest a 32-bit build of tar-merge holds: %w", id.name, uint32(id.v), math.MaxInt32, errdefs.ErrInvalidInput)
		}
	}
	return nil
}

const xattrPrefix = "SCHILY.xattr."

func xattrs(h *tar.Header) map[string]string {
	var out map[string]string
	for k, v := range h.PAXRecords {
		if strings.HasPrefix(k, xattrPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
