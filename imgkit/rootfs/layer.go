package rootfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
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
	src   *storefs.Opener
	at    string // where the bytes are: at, below src's base; src nil for entries without data
	rec   *Record
	owner [2]int64
	// inDir marks an entry of the directory (not of a store path): in a
	// change layer, entries of the directory that share an inode are
	// written as hardlinks.
	inDir bool
}

// WriteLayer writes dir as one layer tar to w (see the package doc). dir
// is taken as given, but nothing below it is followed: each directory is
// opened relative to its parent as it was listed and every file through an
// imgkit/storefs.Opener. The store paths are read below their store
// directory, resolved inside StoreRoot as a chroot to it would, the same
// way.
func WriteLayer(ctx context.Context, w io.Writer, dir string, opts LayerOptions) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	c := &collector{root: root, opts: opts, seen: map[string]*item{}, exclude: map[string]bool{}, stores: map[string]*storeDir{}}
	defer c.close()
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
	if c.rootFd, err = storefs.OpenListedDir(unix.AT_FDCWD, root, rec.Ino); err != nil {
		return fmt.Errorf("%q: %w", dir, errors.Unwrap(err))
	}
	c.rootSrc = storefs.NewOpener(c.rootFd)
	dirs := storefs.NewDirPath(c.rootFd, unix.O_RDONLY)
	err = c.visit(ctx, rec, false, dirs, ".")
	dirs.Close()
	if err != nil {
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
	rootFd  int
	rootSrc *storefs.Opener // the directory's files
	opts    LayerOptions
	items   []*item
	seen    map[string]*item
	exclude map[string]bool
	stores  map[string]*storeDir // by logical store directory
}

// storeDir is a store directory, open inside StoreRoot.
type storeDir struct {
	fd  int
	dir string // its path in the layer, "nix/store"
	src *storefs.Opener
}

func (c *collector) close() {
	if c.rootSrc != nil {
		c.rootSrc.Close()
		unix.Close(c.rootFd)
	}
	for _, s := range c.stores {
		s.src.Close()
		unix.Close(s.fd)
	}
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
// directory or without a snapshot), and what is below it. rec is the
// entry name of the deepest directory of dirs, which holds a bounded
// window of the directories above it open however deep the tree.
func (c *collector) visit(ctx context.Context, rec *Record, whole bool, dirs *storefs.DirPath, name string) error {
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
		// A layer's reader takes it for a whiteout: the file would be
		// missing, and it would hide a lower layer's file (or empty a
		// directory, .wh..wh..opq). layer-pack refuses it in every layer.
		if strings.HasPrefix(path.Base(rec.Path), ".wh.") {
			return fmt.Errorf("%q: a file named .wh.* would be a whiteout in the image: %w", "/"+rec.Path, errdefs.ErrUnsafeEntry)
		}
		c.add(&item{rel: rec.Path, src: c.rootSrc, at: c.at(rec.Path), rec: rec, owner: c.owner(rec, old), inDir: true})
	}
	if !rec.IsDir() {
		return nil
	}
	fd, names, err := listDir(dirs, name, rec, "")
	if err != nil {
		return err
	}
	defer dirs.Pop()
	present := make(map[string]*Record, len(names))
	var kept []string
	for _, n := range names {
		rel := joinPath(rec.Path, n)
		if c.exclude[rel] {
			continue
		}
		r, err := recordAt(fd, n, rel)
		if err != nil {
			return err
		}
		present[n] = r
		kept = append(kept, n)
	}
	opaque := false
	if snap != nil && !whole && old != nil && old.IsDir() {
		opaque = c.lowerChanges(rec, old, present)
	}
	for _, n := range kept {
		if err := c.visit(ctx, present[n], whole || opaque, dirs, n); err != nil {
			return err
		}
	}
	return nil
}

// at is where the directory's entry rel is read, below its base.
func (c *collector) at(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// listDir opens the directory name of the deepest directory of dirs,
// which must still be the one rec describes, as the deepest (the caller
// pops it), and returns its descriptor, valid until the next change of
// dirs, with its entry names, sorted. below is the path in the layer of
// dirs' base (dirErr); errors name the directory.
func listDir(dirs *storefs.DirPath, name string, rec *Record, below string) (int, []string, error) {
	err := dirs.Push(name, rec.Ino)
	fd := -1
	if err == nil {
		if fd, err = dirs.Fd(); err != nil {
			dirs.Pop()
		}
	}
	if err != nil {
		return -1, nil, dirErr(err, below)
	}
	names, err := storefs.ReadDirNames(fd)
	if err != nil {
		dirs.Pop()
		return -1, nil, fmt.Errorf("%q: %w", "/"+rec.Path, err)
	}
	sort.Strings(names)
	return fd, names, nil
}

// dirErr marks an error of opening a directory of the walk, or one above
// it again (storefs.DirPath), as a change when the directory is not the
// one listed, and names the directory that failed, which may be far above
// the one the walk was opening: by its path in the layer, below being
// that of the DirPath's base ("" for the tree's root, whose walk starts
// at ".").
func dirErr(err error, below string) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	err = pe.Err
	if errors.Is(err, storefs.ErrReplaced) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		err = fmt.Errorf("%w: %w", err, errdefs.ErrChanged)
	}
	return fmt.Errorf("%q: %w", path.Join("/", below, pe.Path), err)
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
			c.add(&item{rel: rec.Path, src: c.rootSrc, at: c.at(rec.Path), rec: rec, owner: c.owner(rec, old)})
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
		sd, err := c.storeDir(path.Dir(p))
		if err == nil {
			name := path.Base(p)
			dirs := storefs.NewDirPath(sd.fd, unix.O_RDONLY)
			err = c.storeTree(ctx, sd, dirs, name, name, rel)
			dirs.Close()
		}
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
		if st, err := storefs.StatBeneath(c.rootFd, d); err == nil {
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				return fmt.Errorf("%q is not a directory, but store paths go below it: %w", "/"+d, errdefs.ErrInvalidInput)
			}
			if c.opts.Snapshot != nil {
				continue // the lower layers have it
			}
		} else if errors.Is(err, unix.ELOOP) {
			return fmt.Errorf("%q is not a directory, but store paths go below it: %w", "/"+d, errdefs.ErrInvalidInput)
		}
		c.add(&item{rel: d, rec: &Record{Path: d, Type: unix.S_IFDIR, Mode: 0o755}})
	}
	return nil
}

// storeDir opens the logical store directory dir inside StoreRoot, once.
func (c *collector) storeDir(dir string) (*storeDir, error) {
	if sd := c.stores[dir]; sd != nil {
		return sd, nil
	}
	root := c.opts.StoreRoot
	if root == "" {
		root = "/"
	}
	fd, err := storefs.OpenDirInRoot(root, dir)
	if err != nil {
		return nil, err
	}
	sd := &storeDir{fd: fd, dir: strings.TrimPrefix(dir, "/"), src: storefs.NewOpener(fd)}
	c.stores[dir] = sd
	return sd, nil
}

// storeTree adds the file name of the deepest directory of dirs, at below
// the store directory sd and rel in the layer, and everything below it; a
// path the directory has already is left to it.
func (c *collector) storeTree(ctx context.Context, sd *storeDir, dirs *storefs.DirPath, name, at, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	parent, err := dirs.Fd()
	if err != nil {
		return dirErr(err, sd.dir)
	}
	rec, err := recordAt(parent, name, rel)
	if err != nil {
		return err
	}
	if c.seen[rel] == nil {
		c.add(&item{rel: rel, src: sd.src, at: at, rec: rec})
	}
	if !rec.IsDir() {
		return nil
	}
	_, names, err := listDir(dirs, name, rec, sd.dir)
	if err != nil {
		return err
	}
	defer dirs.Pop()
	for _, n := range names {
		if err := c.storeTree(ctx, sd, dirs, n, at+"/"+n, rel+"/"+n); err != nil {
			return err
		}
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

// copyData copies a regular file's bytes; it must still be the file
// recorded, and the size recorded.
func copyData(w io.Writer, it *item, buf []byte) error {
	fd, err := it.src.Open(it.at, unix.O_RDONLY)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return fmt.Errorf("%q vanished or became a symlink while being packed: %w", "/"+it.rel, errdefs.ErrChanged)
		}
		return fmt.Errorf("reading %q: %w", "/"+it.rel, errors.Unwrap(err))
	}
	f := os.NewFile(uintptr(fd), it.at) // closes fd
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != it.rec.Ino || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%q was replaced while being packed: %w", "/"+it.rel, errdefs.ErrChanged)
	}
	n, err := io.CopyBuffer(w, io.LimitReader(f, it.rec.Size), buf)
	if err != nil {
		return fmt.Errorf("reading %q: %w", "/"+it.rel, err)
	}
	if m, _ := f.Read(buf[:1]); n != it.rec.Size || m > 0 {
		return fmt.Errorf("%q changed size while being packed: %w", "/"+it.rel, errdefs.ErrChanged)
	}
	return nil
}
