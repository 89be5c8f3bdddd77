package testkit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadDirTree reads the directory root (an unpacked image: umoci's rootfs,
// rootfs.Unpack's directory) into a Tree, as ReadTarTree reads a tar: paths
// that share an inode are one hardlink group; extended attributes are
// read without following symlinks.
func ReadDirTree(root string) (Tree, error) {
	out := Tree{}
	inodes := map[[2]uint64]string{} // device, inode → first path met
	var walk func(rel string) error
	walk = func(rel string) error {
		dir := filepath.Join(root, rel)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, de := range ents {
			name := strings.TrimPrefix(rel+"/"+de.Name(), "/")
			p := filepath.Join(root, name)
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				return fmt.Errorf("lstat %s: %w", p, err)
			}
			e := fsEntry{mode: int64(st.Mode & 0o7777), uid: int(st.Uid), gid: int(st.Gid), mtime: int64(st.Mtim.Sec)}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFDIR:
				e.typ = "d"
			case unix.S_IFLNK:
				e.typ = "l"
				if e.link, err = os.Readlink(p); err != nil {
					return err
				}
			case unix.S_IFREG:
				e.typ = "f"
				if e.sum, err = fileSum(p); err != nil {
					return err
				}
				if st.Nlink > 1 {
					key := [2]uint64{uint64(st.Dev), st.Ino}
					if first, ok := inodes[key]; ok {
						e.group = first
						g := out[first]
						g.group = first
						out[first] = g
					} else {
						inodes[key] = name
					}
				}
			case unix.S_IFCHR, unix.S_IFBLK:
				e.typ = map[uint32]string{unix.S_IFCHR: "c", unix.S_IFBLK: "b"}[uint32(st.Mode)&unix.S_IFMT]
				e.dev = fmt.Sprintf("%d,%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
			case unix.S_IFIFO:
				e.typ = "p"
			default:
				e.typ = "?"
			}
			if e.xattrs, err = lxattrs(p); err != nil {
				return err
			}
			out[name] = e
			if e.typ == "d" {
				if err := walk(name); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	out.nameGroups()
	return out, nil
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lxattrs returns the extended attributes of p itself, nil when it has none.
func lxattrs(p string) (map[string]string, error) {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err == unix.ENOTSUP || n == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the xattrs of %s: %w", p, err)
	}
	out := map[string]string{}
	for _, k := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00") {
		v := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, k, v)
		if err != nil {
			return nil, fmt.Errorf("reading xattr %s of %s: %w", k, p, err)
		}
		out[k] = string(v[:m])
	}
	return out, nil
}

// CompareOptions says what CompareTrees compares beyond type, permission
// bits, owner, content, link target, device numbers and hardlink groups.
type CompareOptions struct {
	// AbsentOK are paths that may be in the second tree and not in the
	// first (what docker create adds: DockerCreateAdds).
	AbsentOK []string
	// Mtimes compares the modification times of everything but
	// directories; DirMtimes those of directories too, except a
	// directory whose time is 0 in the first tree: one no layer
	// listed, whose time an unpacker sets to when it made it.
	Mtimes, DirMtimes bool
	// Xattrs selects the extended attributes compared; nil compares none.
	Xattrs func(name string) bool
	// ImpliedDirs lets the second tree make a directory that the first
	// gives time 0 (one no layer listed) as its unpacker's mkdir does:
	// with mode ImpliedDirMode when not 0 (Docker, 28 with vfs, makes
	// such directories 0600, where umoci, GNU tar and the project make
	// them 0755), and with the set-group-ID bit and any group (made in a
	// set-group-ID directory, it takes that bit and the directory's
	// group from the kernel: umoci and Docker set a directory's mode as
	// they reach its entry, the project at the end of the layers).
	ImpliedDirs    bool
	ImpliedDirMode int64
	// FileAndDirOwnersOnly compares the owners of regular files and
	// directories alone: umoci --rootless records the owners it cannot
	// give in a user.* attribute, which only those can have.
	FileAndDirOwnersOnly bool
}

// CompareTrees lists the differences between two trees, one line each,
// sorted: paths only in one of them, and paths that differ in what opts
// compares.
func CompareTrees(a, b Tree, opts CompareOptions) []string {
	var diffs []string
	for name, x := range a {
		y, ok := b[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("only in first: %s %s", name, x))
		default:
			if x.typ == "d" && x.mtime == 0 && y.typ == "d" && opts.ImpliedDirs {
				y = asImplied(x, y, opts.ImpliedDirMode)
			}
			if x.typ == y.typ && x.typ != "f" && x.typ != "d" && opts.FileAndDirOwnersOnly {
				y.uid, y.gid = x.uid, x.gid
			}
			if what := differs(x, y, opts); what != "" {
				diffs = append(diffs, fmt.Sprintf("differs: %s: %s (group %q%s) vs %s (group %q%s)", name,
					x, x.group, x.detail(what), y, y.group, y.detail(what)))
			}
		}
	}
	for name, y := range b {
		if _, ok := a[name]; !ok && !slices.Contains(opts.AbsentOK, name) {
			diffs = append(diffs, fmt.Sprintf("only in second: %s %s", name, y))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// differs names what opts compares and x and y do not share: "" (equal),
// "mtime", "xattrs" or "entry".
// asImplied returns y, an implied directory of the second tree, with what
// its unpacker's mkdir gave it (see CompareOptions.ImpliedDirs) taken
// from x.
func asImplied(x, y fsEntry, mode int64) fsEntry {
	if y.mode&0o2000 != 0 && x.mode&0o2000 == 0 {
		y.mode &^= 0o2000
		y.gid = x.gid
	}
	if mode != 0 && y.mode == mode {
		y.mode = x.mode
	}
	return y
}

func differs(x, y fsEntry, opts CompareOptions) string {
	if x.typ != y.typ || x.mode != y.mode || x.uid != y.uid || x.gid != y.gid || x.link != y.link ||
		x.dev != y.dev || x.sum != y.sum || x.group != y.group {
		return "entry"
	}
	if x.mtime != y.mtime && (x.typ != "d" && opts.Mtimes || x.typ == "d" && opts.DirMtimes && x.mtime != 0) {
		return "mtime"
	}
	if opts.Xattrs != nil && xattrString(x.xattrs, opts.Xattrs) != xattrString(y.xattrs, opts.Xattrs) {
		return "xattrs"
	}
	return ""
}

func (e fsEntry) detail(what string) string {
	switch what {
	case "mtime":
		return fmt.Sprintf(", mtime %d", e.mtime)
	case "xattrs":
		return ", xattrs " + xattrString(e.xattrs, func(string) bool { return true })
	}
	return ""
}

// xattrString lists the attributes keep selects, sorted, Go-quoted.
func xattrString(x map[string]string, keep func(string) bool) string {
	var kv []string
	for k, v := range x {
		if keep(k) {
			kv = append(kv, fmt.Sprintf("%s=%q", k, v))
		}
	}
	sort.Strings(kv)
	return "[" + strings.Join(kv, " ") + "]"
}

// StorePaths lists the paths directly below the store directory store
// ("nix/store"), as "/nix/store/NAME", sorted.
func (t Tree) StorePaths(store string) []string {
	var out []string
	for name := range t {
		if rest, ok := strings.CutPrefix(name, store+"/"); ok && !strings.Contains(rest, "/") {
			out = append(out, "/"+name)
		}
	}
	sort.Strings(out)
	return out
}

// Chown gives p in t the owner uid:gid: the one an unpacker in a user
// namespace could not give and recorded instead (rootfs.Snapshot).
func (t Tree) Chown(p string, uid, gid int) {
	if e, ok := t[p]; ok {
		e.uid, e.gid = uid, gid
		t[p] = e
	}
}

// UmociRootless returns t, read from a directory `umoci unpack --rootless`
// made, with the owners umoci recorded in each path's
// user.rootlesscontainers attribute (a protobuf: field 1 the uid, field 2
// the gid, 2^32-1 for "as on disk") given to it, and that attribute left
// out.
func (t Tree) UmociRootless() Tree {
	out := Tree{}
	for name, e := range t {
		if v, ok := e.xattrs["user.rootlesscontainers"]; ok {
			x := map[string]string{}
			for k, val := range e.xattrs {
				if k != "user.rootlesscontainers" {
					x[k] = val
				}
			}
			e.xattrs = x
			for b := []byte(v); len(b) > 1; {
				field := b[0] >> 3
				n, size := binary.Uvarint(b[1:])
				if size <= 0 {
					break
				}
				b = b[1+size:]
				switch {
				case n == 1<<32-1:
				case field == 1:
					e.uid = int(n)
				case field == 2:
					e.gid = int(n)
				}
			}
		}
		out[name] = e
	}
	return out
}
