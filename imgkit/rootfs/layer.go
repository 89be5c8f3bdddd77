package rootfs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/imgkit/tarw"
)

// DefaultMtime is the time of every entry nixpkgs' buildImage packs
// (tar --mtime=@$SOURCE_DATE_EPOCH, 1980-01-01T00:00:00Z).
const DefaultMtime = 315532800

// LayerOptions choose what WriteLayer packs.
type LayerOptions struct {
	// Snapshot, when not nil, limits the layer to what changed since it
	// was taken, deletions written as whiteouts. Nil packs every entry.
	Snapshot *Snapshot
	// ForceOwner gives every entry of the directory Uid:Gid (buildImage's
	// tar --owner --group); otherwise owners come from disk.
	ForceOwner bool
	Uid, Gid   int64
	// Mtime is every entry's modification time, in seconds.
	Mtime int64
	// Exclude lists clean relative paths left out with everything below
	// them (mount points the caller made).
	Exclude []string
	// StorePaths are logical store paths (/nix/store/…) whose files follow
	// the directory's, owned by 0:0, read at StoreRoot+path; the store
	// directory's parents are added as 0755 directories when the
	// directory lacks them. A path the directory has already is skipped.
	StorePaths []string
	StoreRoot  string
	// Warnf, when not nil, is told about left-out sockets.
	Warnf func(format string, args ...any)
}

// item is one member of the layer.
type item struct {
	rel   string // clean relative path; "" is the root
	phys  string // where the bytes are; "" for entries without data
	rec   *Record
	owner [2]int64
	// inDir marks an entry of the directory (not of a store path): in a
	// change layer, entries of the directory that share an inode are
	// written as hardlinks.
	inDir bool
}

// WriteLayer writes dir as one layer tar to w (see the package doc).
func WriteLayer(ctx context.Context, w io.Writer, dir string, opts LayerOptions) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	c := &collector{root: root, opts: opts, seen: map[string]*item{}, exclude: map[string]bool{}}
	for _, x := range opts.Exclude {
		clean, ok := cleanRel(x)
		if !ok || clean == "" {
			return fmt.Errorf("exclude %q: want a path below the root: %w", x, errdefs.ErrInvalidInput)
		}
		c.exclude[clean] = true
	}
	rec, err := recordOf(root, "")
	if err != nil {
		return err
	}
	if !rec.IsDir() {
		return fmt.Errorf("%q is not a directory: %w", dir, errdefs.ErrInvalidInput)
	}
	if err := c.visit(ctx, rec, false); err != nil {
		return err
	}
	if err := c.storePaths(ctx); err != nil {
		return err
	}
	sort.Slice(c.items, func(i, j int) bool { return memberLess(c.items[i].rel, c.items[j].rel) })
	return c.write(ctx, w)
}

// memberLess orders paths as GNU tar --sort=name emits them: each
// directory before its entries, entries by name in byte order. Comparing
// the paths with "/" below every other byte gives exactly that.
func memberLess(a, b string) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x == '/' {
			return true
		}
		if y == '/' {
			return false
		}
		return x < y
	}
	return len(a) < len(b)
}

type collector struct {
	root    string
	opts    LayerOptions
	items   []*item
	seen    map[string]*item
	exclude map[string]bool
}

func (c *collector) phys(rel string) string {
	if rel == "" {
		return c.root
	}
	return c.root + "/" + rel
}

func (c *collector) add(it *item) {
	c.items = append(c.items, it)
	c.seen[it.rel] = it
}

// owner decides an entry's owner: forced, or from disk, or the snapshot's
// wanted owner when the one on disk is still the snapshot's.
func (c *collector) owner(now, old *Record) [2]int64 {
	switch {
	case c.opts.ForceOwner:
		return [2]int64{c.opts.Uid, c.opts.Gid}
	case old != nil && old.Uid == now.Uid && old.Gid == now.Gid:
		return [2]int64{int64(old.WantUid), int64(old.WantGid)}
	}
	return [2]int64{int64(now.Uid), int64(now.Gid)}
}

// visit adds the path of rec, when it changed (always inside an opaque
// directory or without a snapshot), and what is below it.
func (c *collector) visit(ctx context.Context, rec *Record, whole bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	snap := c.opts.Snapshot
	var old *Record
	if snap != nil && !whole {
		old = snap.Lookup(rec.Path)
	}
	if snap == nil || whole || changed(old, rec) {
		if rec.Type == unix.S_IFSOCK {
			if c.opts.Warnf != nil {
				c.opts.Warnf("%q: socket ignored", "/"+rec.Path)
			}
			return nil
		}
		c.add(&item{rel: rec.Path, phys: c.phys(rec.Path), rec: rec, owner: c.owner(rec, old), inDir: true})
	}
	if !rec.IsDir() {
		return nil
	}
	entries, err := os.ReadDir(c.phys(rec.Path))
	if err != nil {
		return err
	}
	present := make(map[string]*Record, len(entries))
	var names []string
	for _, de := range entries {
		rel := joinPath(rec.Path, de.Name())
		if c.exclude[rel] {
			continue
		}
		r, err := recordOf(c.phys(rel), rel)
		if err != nil {
			return err
		}
		present[de.Name()] = r
		names = append(names, de.Name())
	}
	opaque := false
	if snap != nil && !whole && old != nil && old.IsDir() {
		opaque = c.lowerChanges(rec, old, present)
	}
	for _, name := range names {
		if err := c.visit(ctx, present[name], whole || opaque); err != nil {
			return err
		}
	}
	return nil
}

// lowerChanges adds the whiteouts for what was deleted below the
// directory rec (old in the snapshot), or its opaque marker; it reports
// whether the directory is now opaque, its whole subtree to be written.
func (c *collector) lowerChanges(rec, old *Record, present map[string]*Record) bool {
	lower := c.opts.Snapshot.Children(rec.Path)
	var deleted []string
	kept := false
	for _, name := range lower {
		rel := joinPath(rec.Path, name)
		if c.exclude[rel] {
			continue
		}
		now, ok := present[name]
		if !ok {
			deleted = append(deleted, name)
			continue
		}
		was := c.opts.Snapshot.Lookup(rel)
		if was.Type == now.Type && was.Ino == now.Ino {
			kept = true
		}
	}
	if len(lower) > 0 && (old.Ino != rec.Ino || (len(deleted) > 0 && !kept)) {
		if c.seen[rec.Path] == nil {
			c.add(&item{rel: rec.Path, phys: c.phys(rec.Path), rec: rec, owner: c.owner(rec, old)})
		}
		c.add(&item{rel: joinPath(rec.Path, tarsafe.WhiteoutOpaque)})
		return true
	}
	for _, name := range deleted {
		c.add(&item{rel: joinPath(rec.Path, tarsafe.WhiteoutPrefix+name)})
	}
	return false
}

// changed reports whether now differs from the snapshot's old record.
func changed(old, now *Record) bool {
	return old == nil || old.Type != now.Type || old.Mode != now.Mode || old.Uid != now.Uid ||
		old.Gid != now.Gid || old.Size != now.Size || old.Link != now.Link || old.Rdev != now.Rdev ||
		old.Ino != now.Ino || old.Mtime != now.Mtime || old.Ctime != now.Ctime
}

// storePaths adds the store paths' files, and the store directory's
// parents where the directory lacks them.
func (c *collector) storePaths(ctx context.Context) error {
	if len(c.opts.StorePaths) == 0 {
		return nil
	}
	storeRoot := c.opts.StoreRoot
	if storeRoot == "" {
		storeRoot = "/"
	}
	dirs := map[string]bool{}
	for _, p := range c.opts.StorePaths {
		rel, ok := cleanRel(strings.TrimPrefix(p, "/"))
		if !ok || rel == "" || !path.IsAbs(p) {
			return fmt.Errorf("store path %q: want an absolute path: %w", p, errdefs.ErrInvalidInput)
		}
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
		if c.seen[rel] != nil {
			continue
		}
		phys := filepath.Join(storeRoot, rel)
		err := filepath.WalkDir(phys, func(fp string, de os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			sub, _ := filepath.Rel(phys, fp)
			r := rel
			if sub != "." {
				r = rel + "/" + filepath.ToSlash(sub)
			}
			if c.seen[r] != nil {
				return nil
			}
			rec, err := recordOf(fp, r)
			if err != nil {
				return err
			}
			c.add(&item{rel: r, phys: fp, rec: rec})
			return nil
		})
		if err != nil {
			return fmt.Errorf("store path %q: %w", p, notFound(err))
		}
	}
	for d := range dirs {
		if it := c.seen[d]; it != nil {
			if it.rec == nil || !it.rec.IsDir() {
				return fmt.Errorf("%q is not a directory, but store paths go below it: %w", "/"+d, errdefs.ErrInvalidInput)
			}
			continue
		}
		var st unix.Stat_t
		if unix.Lstat(c.phys(d), &st) == nil {
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return fmt.Errorf("%q is not a directory, but store paths go below it: %w", "/"+d, errdefs.ErrInvalidInput)
			}
			if c.opts.Snapshot != nil {
				continue // the lower layers have it
			}
		}
		c.add(&item{rel: d, rec: &Record{Path: d, Type: unix.S_IFDIR, Mode: 0o755}})
	}
	return nil
}

func notFound(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("%v: %w", err, errdefs.ErrNotFound)
	}
	return err
}

// write emits the sorted items. In a change layer (with a snapshot), a
// regular file of the directory whose inode an earlier member has is
// written as a hardlink to that member, as docker commit keeps a link the
// run-as-root script made (making a link changes the first path's ctime,
// so both paths are in the layer). A whole tree is packed as nixpkgs'
// buildImage packs it, links dereferenced.
func (c *collector) write(ctx context.Context, w io.Writer) error {
	tw := tarw.NewWriter(w, tarw.GNU)
	buf := make([]byte, 1<<20)
	firstOf := map[uint64]string{} // inode → the member that has its bytes
	for _, it := range c.items {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := c.header(it)
		if c.opts.Snapshot != nil && it.inDir && h.Type == tarw.TypeReg && it.rec != nil {
			if first, ok := firstOf[it.rec.Ino]; ok {
				h.Type, h.Size, h.Linkname = tarw.TypeLink, 0, first
			} else {
				firstOf[it.rec.Ino] = h.Name
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Type == tarw.TypeReg && h.Size > 0 {
			if err := copyData(tw, it, buf); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

func (c *collector) header(it *item) *tarw.Header {
	name := "./" + it.rel
	h := &tarw.Header{Name: name, Mtime: c.opts.Mtime}
	if it.rec == nil { // a whiteout or opaque marker: an empty file
		h.Type = tarw.TypeReg
		return h
	}
	r := it.rec
	h.Mode, h.Uid, h.Gid = int64(r.Mode), it.owner[0], it.owner[1]
	switch r.Type {
	case unix.S_IFDIR:
		h.Type = tarw.TypeDir
		if it.rel == "" {
			h.Name = "./"
		}
	case unix.S_IFLNK:
		h.Type, h.Linkname = tarw.TypeSymlink, r.Link
	case unix.S_IFCHR, unix.S_IFBLK:
		h.Type = tarw.TypeChar
		if r.Type == unix.S_IFBLK {
			h.Type = tarw.TypeBlock
		}
		h.Devmajor, h.Devminor = int64(unix.Major(r.Rdev)), int64(unix.Minor(r.Rdev))
	case unix.S_IFIFO:
		h.Type = tarw.TypeFifo
	default:
		h.Type, h.Size = tarw.TypeReg, r.Size
	}
	return h
}

// copyData copies a regular file's bytes, which must still be the size
// recorded.
func copyData(w io.Writer, it *item, buf []byte) error {
	f, err := os.OpenFile(it.phys, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyBuffer(w, io.LimitReader(f, it.rec.Size), buf)
	if err != nil {
		return fmt.Errorf("reading %q: %w", "/"+it.rel, err)
	}
	if m, _ := f.Read(buf[:1]); n != it.rec.Size || m > 0 {
		return fmt.Errorf("%q changed size while being packed: %w", "/"+it.rel, errdefs.ErrChanged)
	}
	return nil
}
