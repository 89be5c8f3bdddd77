package rootfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

// Record is what one path of a directory looked like.
type Record struct {
	Path         string // clean, relative to the root; "" is the root
	Type         uint32 // st_mode & S_IFMT
	Mode         uint32 // st_mode & 07777
	Uid, Gid     uint32 // on disk
	WantUid      uint32 // the owner the layer asked for (Uid unless it could not be given)
	WantGid      uint32
	Size         int64
	Mtime, Ctime int64 // nanoseconds
	Ino          uint64
	Rdev         uint64
	Link         string // symlink target
}

// IsDir reports whether the record is a directory.
func (r *Record) IsDir() bool { return r.Type == unix.S_IFDIR }

// Snapshot is a directory's state at one moment, keyed by path.
type Snapshot struct {
	recs     map[string]*Record
	children map[string][]string // directory → names of its entries
}

// Lookup returns the record of path p, or nil.
func (s *Snapshot) Lookup(p string) *Record { return s.recs[p] }

// Children returns the names of the entries of directory p.
func (s *Snapshot) Children(p string) []string { return s.children[p] }

// Len is the number of paths, the root included.
func (s *Snapshot) Len() int { return len(s.recs) }

func newSnapshot() *Snapshot {
	return &Snapshot{recs: map[string]*Record{}, children: map[string][]string{}}
}

func (s *Snapshot) add(r *Record) {
	s.recs[r.Path] = r
	if r.Path != "" {
		dir, name := splitPath(r.Path)
		s.children[dir] = append(s.children[dir], name)
	}
}

// splitPath splits a clean relative path into its directory ("" for the
// root) and its last name.
func splitPath(p string) (string, string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// recordOf stats the path p (relative) at phys without following a
// symlink.
func recordOf(phys, p string) (*Record, error) {
	return recordAt(unix.AT_FDCWD, phys, p)
}

// recordAt stats the path p (relative), the entry name of the open
// directory dirfd, without following a symlink.
func recordAt(dirfd int, name, p string) (*Record, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	r := &Record{
		Path: p, Type: uint32(st.Mode) & unix.S_IFMT, Mode: uint32(st.Mode) & 0o7777,
		Uid: st.Uid, Gid: st.Gid, WantUid: st.Uid, WantGid: st.Gid,
		Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
		Ino: st.Ino, Rdev: uint64(st.Rdev),
	}
	if r.Type == unix.S_IFLNK {
		link, err := storefs.Readlinkat(dirfd, name)
		if err != nil {
			return nil, err
		}
		r.Link = link
	}
	return r, nil
}

// Take records every path under root. want, when not nil, gives the owner
// a path was meant to have where it differs from the one on disk.
func Take(root string, want map[string][2]uint32) (*Snapshot, error) {
	s := newSnapshot()
	err := filepath.WalkDir(root, func(phys string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, phys)
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		r, err := recordOf(phys, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if o, ok := want[r.Path]; ok {
			r.WantUid, r.WantGid = o[0], o[1]
		}
		s.add(r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording %q: %w", root, err)
	}
	return s, nil
}

// snapshotMagic starts a snapshot file; the number is its version.
const snapshotMagic = "dockertools rootfs snapshot 1"

// WriteTo writes the snapshot as text: a first line naming the format,
// then one line per path in sorted order, each field separated by a
// space, the path and link target Go-quoted (so any byte survives):
//
//	PATH TYPE MODE UID GID WANTUID WANTGID SIZE MTIME CTIME INO RDEV LINK
//
// The numbers are decimal; TYPE and MODE octal.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	n := int64(0)
	count := func(k int, err error) error { n += int64(k); return err }
	if err := count(fmt.Fprintln(bw, snapshotMagic)); err != nil {
		return n, err
	}
	for _, p := range slices.Sorted(maps.Keys(s.recs)) {
		r := s.recs[p]
		if err := count(fmt.Fprintf(bw, "%s %o %o %d %d %d %d %d %d %d %d %d %s\n",
			strconv.Quote(r.Path), r.Type, r.Mode, r.Uid, r.Gid, r.WantUid, r.WantGid,
			r.Size, r.Mtime, r.Ctime, r.Ino, r.Rdev, strconv.Quote(r.Link))); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// ReadSnapshot reads what WriteTo wrote.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	br := bufio.NewReader(r)
	s := newSnapshot()
	line, err := br.ReadString('\n')
	if strings.TrimSuffix(line, "\n") != snapshotMagic {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, fmt.Errorf("not a snapshot (the first line is not %q): %w", snapshotMagic, errdefs.ErrInvalidInput)
	}
	for n := 2; ; n++ {
		line, err := br.ReadString('\n')
		if line == "" && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		rec, perr := parseRecord(strings.TrimSuffix(line, "\n"))
		if perr != nil {
			return nil, fmt.Errorf("snapshot line %d: %v: %w", n, perr, errdefs.ErrInvalidInput)
		}
		if _, dup := s.recs[rec.Path]; dup {
			return nil, fmt.Errorf("snapshot line %d: %q appears twice: %w", n, rec.Path, errdefs.ErrInvalidInput)
		}
		s.add(rec)
	}
	if s.recs[""] == nil {
		return nil, fmt.Errorf("snapshot has no root directory: %w", errdefs.ErrInvalidInput)
	}
	for dir := range s.children {
		if r := s.recs[dir]; r == nil || !r.IsDir() {
			return nil, fmt.Errorf("snapshot lists entries of %q, which is not a directory in it: %w", dir, errdefs.ErrInvalidInput)
		}
	}
	return s, nil
}

func parseRecord(line string) (*Record, error) {
	path, rest, err := cutQuoted(line)
	if err != nil {
		return nil, err
	}
	if clean, ok := cleanRel(path); !ok || clean != path {
		return nil, fmt.Errorf("path %q is not clean and relative", path)
	}
	fields := strings.SplitN(strings.TrimPrefix(rest, " "), " ", 12)
	if len(fields) != 12 {
		return nil, fmt.Errorf("want 13 fields")
	}
	link, tail, err := cutQuoted(fields[11])
	if err != nil || tail != "" {
		return nil, fmt.Errorf("bad link target field")
	}
	r := &Record{Path: path, Link: link}
	var err2 error
	num := func(i, base, bits int) uint64 {
		v, err := strconv.ParseUint(fields[i], base, bits)
		if err != nil && err2 == nil {
			err2 = fmt.Errorf("field %d: %v", i+2, err)
		}
		return v
	}
	snum := func(i int) int64 {
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil && err2 == nil {
			err2 = fmt.Errorf("field %d: %v", i+2, err)
		}
		return v
	}
	r.Type, r.Mode = uint32(num(0, 8, 32)), uint32(num(1, 8, 32))&0o7777
	r.Uid, r.Gid = uint32(num(2, 10, 32)), uint32(num(3, 10, 32))
	r.WantUid, r.WantGid = uint32(num(4, 10, 32)), uint32(num(5, 10, 32))
	r.Size, r.Mtime, r.Ctime = snum(6), snum(7), snum(8)
	r.Ino, r.Rdev = num(9, 10, 64), num(10, 10, 64)
	if err2 != nil {
		return nil, err2
	}
	if path == "" && !r.IsDir() {
		return nil, fmt.Errorf("the root is not a directory")
	}
	return r, nil
}

// cutQuoted splits a Go-quoted string off the start of s.
func cutQuoted(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("want a quoted string: %v", err)
	}
	v, err := strconv.Unquote(q)
	return v, s[len(q):], err
}

// cleanRel cleans a relative path; ok is false when it is absolute or
// leaves the root.
func cleanRel(p string) (string, bool) {
	if p == "" {
		return "", true
	}
	if strings.HasPrefix(p, "/") {
		return "", false
	}
	c := filepath.ToSlash(filepath.Clean(p))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	if c == "." {
		c = ""
	}
	return c, true
}

// ReadSnapshotFile reads a snapshot file, which open opens (nil:
// os.Open; a tool passes its cli.IO's OpenNamed, whose reads of a FIFO
// that stalls end when the tool is interrupted).
func ReadSnapshotFile(open func(string) (io.ReadCloser, error), name string) (*Snapshot, error) {
	if open == nil {
		open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	f, err := open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("snapshot %q: %w", name, errdefs.ErrNotFound)
		}
		return nil, err
	}
	defer f.Close()
	s, err := ReadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %q: %w", name, err)
	}
	return s, nil
}
