package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/imgkit/tarw"
)

// UnpackOptions adjust Unpack.
type UnpackOptions struct {
	// Tarsafe relaxes the entry rules (devices are refused by default).
	Tarsafe tarsafe.Options
	// Debugf, when not nil, receives a line per layer.
	Debugf func(format string, args ...any)
}

// Unpack applies img's layers, bottom first, onto dir, which must exist
// (normally empty), and returns the snapshot of the result. Every layer's
// bytes are verified against its diff_id; an unsafe entry stops it.
//
// An owner the process cannot give (an id not mapped in its user
// namespace) is recorded in the snapshot as wanted, and the path keeps the
// process's own. Directory modes and times are applied last, deepest
// first, so a read-only directory can still be filled.
func Unpack(ctx context.Context, img *archive.Image, dir string, opts UnpackOptions) (*Snapshot, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	u := &unpacker{root: root, want: map[string][2]uint32{}, dirs: map[string]*tar.Header{}, links: map[uint64][]string{}, fileWant: map[uint64]fileOwner{}, opts: opts}
	// An image's root is 0755 root:root unless a layer says otherwise, as
	// in Docker; a temporary directory is 0700.
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, err
	}
	u.chown(root, "", 0, 0)
	for i, l := range img.Layers {
		if err := u.layer(ctx, l); err != nil {
			return nil, fmt.Errorf("layer %d %s: %w", i+1, shortDigest(l.DiffID), err)
		}
		if opts.Debugf != nil {
			opts.Debugf("layer %d %s applied", i+1, shortDigest(l.DiffID))
		}
	}
	if err := u.finishDirs(); err != nil {
		return nil, err
	}
	u.fileOwners()
	return Take(root, u.want)
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19] + "…"
	}
	return d
}

type unpacker struct {
	root    string
	want    map[string][2]uint32   // owners that could not be given
	dirs    map[string]*tar.Header // directory metadata, applied last
	written map[string]bool        // paths the current layer wrote
	// cleared are the directories whose lower contents the current
	// layer removed already (opaque): all below them now, it wrote.
	cleared map[string]bool
	// links are the paths each regular file (by inode) was written or
	// linked at; one since removed or replaced stays listed, and
	// fileOwners checks each.
	links map[uint64][]string
	// fileWant is the owner a hardlink entry gave a regular file (by
	// inode), which every path of it wants (see sameOwner).
	fileWant map[uint64]fileOwner
	opts     UnpackOptions
	buf      []byte
}

func (u *unpacker) phys(p string) string {
	if p == "" {
		return u.root
	}
	return u.root + "/" + p
}

func (u *unpacker) layer(ctx context.Context, l *archive.Layer) error {
	r, err := l.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	u.written, u.cleared = map[string]bool{}, map[string]bool{}
	tr := tarsafe.NewReader(r, u.opts.Tarsafe)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		e, err := tarsafe.Classify(hdr, u.opts.Tarsafe)
		if err != nil {
			return err
		}
		if e.Kind == tarsafe.Ignored {
			continue
		}
		if err := tarsafe.CheckPlace(e, tarsafe.DirView(u.root)); err != nil {
			return err
		}
		if err := u.apply(e, tr); err != nil {
			var te *tarsafe.Error
			if errors.As(err, &te) {
				return err // it names the entry
			}
			return fmt.Errorf("entry %s: %w", errdefs.Quote(hdr.Name), errdefs.CutPaths(err))
		}
	}
	// The digest is checked when the reader reaches its end.
	if err := tr.Finish(); err != nil {
		return err
	}
	return nil
}

func (u *unpacker) apply(e tarsafe.Entry, data *tarsafe.Reader) error {
	switch e.Kind {
	case tarsafe.Whiteout:
		if u.written[e.Path] {
			// A whiteout hides lower layers only: what this layer wrote
			// at the path or below it stays, what lower layers put
			// below it goes (as tar-merge and StorePaths have it). The
			// path itself may be a symlink: it is never followed.
			var st unix.Stat_t
			if unix.Lstat(u.phys(e.Path), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				return u.opaque(e.Path)
			}
			return nil
		}
		return u.remove(e.Path)
	case tarsafe.Opaque:
		return u.opaque(e.Path)
	}
	// chown(2) takes 32 bits of an id: 4294967301 became 5.
	if err := tarsafe.CheckOwner(e.Header); err != nil {
		return err
	}
	p := u.phys(e.Path)
	if e.Path != "" {
		if err := mkdirParents(filepath.Dir(p)); err != nil {
			return err
		}
	}
	var st unix.Stat_t
	exists := unix.Lstat(p, &st) == nil
	if exists && !(e.Kind == tarsafe.Dir && st.Mode&unix.S_IFMT == unix.S_IFDIR) {
		if err := u.remove(e.Path); err != nil {
			return err
		}
	}
	h := e.Header
	u.markWritten(e.Path)
	delete(u.want, e.Path)
	switch e.Kind {
	case tarsafe.Dir:
		if !exists || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := os.Mkdir(p, 0o700); err != nil {
				return err
			}
		}
		u.chown(p, e.Path, h.Uid, h.Gid)
		u.dirs[e.Path] = h
		return setXattrs(p, h, exists && st.Mode&unix.S_IFMT == unix.S_IFDIR)
	case tarsafe.Regular:
		if err := u.writeFile(p, data, h.Size, data.Sparse()); err != nil {
			return err
		}
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		u.links[st.Ino] = append(u.links[st.Ino], e.Path)
		delete(u.fileWant, st.Ino) // a new file, whatever its inode was
	case tarsafe.Symlink:
		if err := os.Symlink(e.Link, p); err != nil {
			return err
		}
		u.chown(p, e.Path, h.Uid, h.Gid)
		if err := setXattrs(p, h, false); err != nil {
			return err
		}
		return setTime(p, h.ModTime)
	case tarsafe.Hardlink:
		if err := os.Link(u.phys(e.Link), p); err != nil {
			return err
		}
		if err := unix.Lstat(p, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return err // a link to a symlink changes nothing of it, as in Docker
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			u.links[st.Ino] = append(u.links[st.Ino], e.Path)
		}
		// The header's owner, mode and time apply to the file all its
		// paths share, as Docker applies them (and tar-merge --flatten).
		before, ok := u.want[e.Link]
		if fo, set := u.fileWant[st.Ino]; set && st.Mode&unix.S_IFMT == unix.S_IFREG {
			before, ok = fo.owner, fo.wanted
		}
		if !ok {
			before = [2]uint32{st.Uid, st.Gid}
		}
		err := u.setMeta(p, e.Path, h)
		if before != [2]uint32{uint32(h.Uid), uint32(h.Gid)} && st.Mode&unix.S_IFMT == unix.S_IFREG {
			// The file's owner changed: what every other path of it
			// wants changes too.
			u.sameOwner(e.Path, st.Ino)
		}
		return err
	case tarsafe.Fifo:
		if err := unix.Mkfifo(p, 0o600); err != nil {
			return &os.PathError{Op: "mkfifo", Path: p, Err: err}
		}
	case tarsafe.Char, tarsafe.Block:
		typ := uint32(unix.S_IFCHR)
		if e.Kind == tarsafe.Block {
			typ = unix.S_IFBLK
		}
		dev := unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor))
		if err := mknod(unix.Mknod, p, typ|0o600, dev); err != nil {
			return &os.PathError{Op: "mknod", Path: p, Err: err}
		}
	default:
		return fmt.Errorf("unexpected %s", e.Kind)
	}
	if err := u.setMeta(p, e.Path, h); err != nil {
		return err
	}
	// After the owner: chown drops security.capability.
	return setXattrs(p, h, false)
}

// mkdirParents makes dir and its missing parents: directories a layer
// names no entry for (etc of etc/passwd). Each is 0755, as tar-merge
// --flatten and umoci make them (Docker makes them 0600), whatever the
// umask or a default ACL of the root would give it:
// the snapshot records the mode on disk, and layer-pack --changes packs it
// when a script changes the directory.
func mkdirParents(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) || d == filepath.Dir(d) {
			return err
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range missing {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// setMeta gives the file p (rel in the image) the owner, mode and time of
// its header.
func (u *unpacker) setMeta(p, rel string, h *tar.Header) error {
	// chown clears set-id bits, so the mode comes after it.
	u.chown(p, rel, h.Uid, h.Gid)
	mode := uint32(h.Mode) & 0o7777
	if err := os.Chmod(p, os.FileMode(mode&0o777)|setIDBits(mode)); err != nil {
		return err
	}
	return setTime(p, h.ModTime)
}

func setIDBits(mode uint32) os.FileMode {
	var m os.FileMode
	if mode&unix.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if mode&unix.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if mode&unix.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}

func setTime(p string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimes", Path: p, Err: err}
	}
	return nil
}

// writeFile creates p with size bytes of data; a sparse file gets its
// fragments at their offsets and holes elsewhere (the file is extended to
// its size without writing them). A file cut short by an error is
// removed, so what is left of a refused layer is whole entries.
func (u *unpacker) writeFile(p string, data io.Reader, size int64, frags []tarw.Fragment) (err error) {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
		}
	}()
	if u.buf == nil {
		u.buf = make([]byte, 1<<20)
	}
	if frags == nil {
		frags = []tarw.Fragment{{Offset: 0, Length: size}}
	}
	for _, fr := range frags {
		if _, err := f.Seek(fr.Offset, io.SeekStart); err != nil {
			return err
		}
		n, err := io.CopyBuffer(f, io.LimitReader(data, fr.Length), u.buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if n != fr.Length {
			return fmt.Errorf("the layer ends %d bytes into a file of %d: %w", fr.Offset+n, size, errdefs.ErrInvalidInput)
		}
	}
	return f.Truncate(size)
}

// markWritten records that this layer wrote p, and so its parents (an
// opaque marker of the same layer keeps them).
func (u *unpacker) markWritten(p string) {
	for {
		if u.written[p] {
			return // and its parents, marked with it
		}
		u.written[p] = true
		if p == "" {
			return
		}
		p, _ = splitPath(p)
	}
}

// chown gives p its owner; when the id is not ours to give (EINVAL for an
// id outside the user namespace, EPERM without the capability), the path
// keeps the process's owner and the wanted one is recorded.
func (u *unpacker) chown(p, rel string, uid, gid int) {
	if err := os.Lchown(p, uid, gid); err != nil {
		u.want[rel] = [2]uint32{uint32(uid), uint32(gid)}
	}
}

// fileOwner is the owner wanted for every path of a regular file:
// wanted false when the file has the owner the layer gave it.
type fileOwner struct {
	owner  [2]uint32
	wanted bool
}

// sameOwner records that every path of the regular file ino wants the
// owner wanted for rel, one of its paths, whose entry changed the file's
// owner; fileOwners applies it to the paths once every layer is applied.
// Updating every path at each such entry (a walk of the tree, or of the
// file's paths) made a layer of many of them quadratic.
func (u *unpacker) sameOwner(rel string, ino uint64) {
	o, wanted := u.want[rel]
	u.fileWant[ino] = fileOwner{o, wanted}
}

// fileOwners gives every path that still is a regular file of fileWant
// the owner recorded for it.
func (u *unpacker) fileOwners() {
	for ino, fo := range u.fileWant {
		for _, q := range u.links[ino] {
			var st unix.Stat_t
			if unix.Lstat(u.phys(q), &st) != nil || st.Ino != ino || st.Mode&unix.S_IFMT != unix.S_IFREG {
				continue
			}
			if fo.wanted {
				u.want[q] = fo.owner
			} else {
				delete(u.want, q)
			}
		}
	}
}

// remove deletes rel and everything below it, and forgets their pending
// directory metadata and the owners they wanted: a path made there later
// (a directory a later entry implies) wants none of them.
func (u *unpacker) remove(rel string) error {
	if rel == "" {
		return u.opaque("")
	}
	return u.removeTree(rel)
}

// removeTree removes rel and what is below it, forgetting each path as
// it removes it: one walk of the subtree. Forgetting by scanning every
// path recorded at each removal made a layer that replaces many files
// whose owners are wanted (a user namespace) quadratic; forgetting by a
// walk of its own before os.RemoveAll read every removed directory twice.
// A directory's names are read whole and it is closed before what it
// holds is removed, so that a deep tree holds no descriptor per level.
func (u *unpacker) removeTree(rel string) error {
	delete(u.dirs, rel)
	delete(u.want, rel)
	p := u.phys(rel)
	// unlink removes anything but a directory (a symlink to one too),
	// and says EISDIR for a directory.
	err := unix.Unlink(p)
	switch {
	case err == nil || err == unix.ENOENT:
		return nil
	case err != unix.EISDIR:
		return &fs.PathError{Op: "unlinkat", Path: p, Err: err}
	}
	d, err := os.OpenFile(p, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := u.removeTree(joinPath(rel, name)); err != nil {
			return err
		}
	}
	if err := unix.Rmdir(p); err != nil && err != unix.ENOENT {
		return &fs.PathError{Op: "unlinkat", Path: p, Err: err}
	}
	return nil
}

// opaque removes what lower layers put below dir: every entry this layer
// has not written, as Docker does. A directory it cleared already is not
// read again: a layer may hold any number of opaque markers, and reading
// a deep tree again for each took hours.
func (u *unpacker) opaque(dir string) error {
	if u.cleared[dir] {
		return nil
	}
	u.cleared[dir] = true
	entries, err := os.ReadDir(u.phys(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, de := range entries {
		rel := joinPath(dir, de.Name())
		if !u.written[rel] {
			if err := u.remove(rel); err != nil {
				return err
			}
			continue
		}
		if de.IsDir() {
			if err := u.opaque(rel); err != nil {
				return err
			}
		}
	}
	return nil
}

// finishDirs applies directory modes and times, deepest first (a child's
// creation changes its parent's mtime), to directories that are still
// directories reached without a symlink.
func (u *unpacker) finishDirs() error {
	paths := make([]string, 0, len(u.dirs))
	for p := range u.dirs {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		di, dj := strings.Count(paths[i], "/"), strings.Count(paths[j], "/")
		if paths[i] == "" || paths[j] == "" {
			return paths[j] == "" && paths[i] != ""
		}
		if di != dj {
			return di > dj
		}
		return paths[i] < paths[j]
	})
	view := tarsafe.DirView(u.root)
	for _, p := range paths {
		if p != "" {
			if k, ok := view.Lookup(p); !ok || k != tarsafe.Dir {
				continue
			}
		}
		h := u.dirs[p]
		mode := uint32(h.Mode) & 0o7777
		if err := os.Chmod(u.phys(p), os.FileMode(mode&0o777)|setIDBits(mode)); err != nil {
			return err
		}
		if err := setTime(u.phys(p), h.ModTime); err != nil {
			return err
		}
	}
	return nil
}

// mknod calls unix.Mknod, whose device number is an int on Linux and a
// uint64 on FreeBSD (imgkit/cli's tests have the same).
func mknod[D int | uint64](mknod func(string, uint32, D) error, p string, mode uint32, dev uint64) error {
	return mknod(p, mode, D(dev))
}
