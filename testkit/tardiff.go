package testkit

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	"dockertools.dev/imgkit/compress"
)

// fsEntry is what DiffRootfs and CompareTrees compare of one path.
type fsEntry struct {
	typ      string // f d l c b p (a hardlink counts as the file it shares)
	mode     int64
	uid, gid int
	link     string // symlink target
	dev      string
	sum      string // of a regular file's content
	group    string // the first path of its hardlink group, "" when alone
	mtime    int64  // seconds
	xattrs   map[string]string
}

func (e fsEntry) String() string {
	s := fmt.Sprintf("%s %04o %d:%d", e.typ, e.mode, e.uid, e.gid)
	switch {
	case e.typ == "l":
		s += " -> " + e.link
	case e.dev != "":
		s += " " + e.dev
	case e.typ == "f":
		s += " " + e.sum[:12]
	}
	return s
}

// Tree is a root filesystem as a canonical listing: each path (clean,
// relative, the root left out) with its type, permission bits, owner,
// content hash, link target, device numbers, hardlink group, modification
// time and extended attributes. ReadTarTree and ReadDirTree make one from
// a tar or a directory, so that trees made by different unpackers compare.
type Tree map[string]fsEntry

// ReadTarTree reads a filesystem tar (any compression) into a Tree.
func ReadTarTree(r io.Reader) (Tree, error) {
	dr, _, err := compress.NewReader(r)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	out := Tree{}
	links := map[string]string{} // hardlink path → target path
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := cleanRel(hdr.Name)
		if name == "" {
			continue
		}
		e := fsEntry{typ: typeLetter(hdr), mode: hdr.Mode & 0o7777, uid: hdr.Uid, gid: hdr.Gid, mtime: hdr.ModTime.Unix()}
		for k, v := range hdr.PAXRecords {
			if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				if e.xattrs == nil {
					e.xattrs = map[string]string{}
				}
				e.xattrs[x] = v
			}
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			e.link = hdr.Linkname
		case tar.TypeChar, tar.TypeBlock:
			e.dev = fmt.Sprintf("%d,%d", hdr.Devmajor, hdr.Devminor)
		case tar.TypeLink:
			links[name] = cleanRel(hdr.Linkname)
			continue
		case tar.TypeReg, tar.TypeGNUSparse:
			// A sparse file is a file; tar.Reader fills its holes.
			e.typ = "f"
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return nil, err
			}
			e.sum = hex.EncodeToString(h.Sum(nil))
		}
		out[name] = e
	}
	for name, target := range links {
		for hops := 0; hops < len(links); hops++ {
			next, ok := links[target]
			if !ok {
				break
			}
			target = next
		}
		e, ok := out[target]
		if !ok {
			return nil, fmt.Errorf("hardlink %q to %q, which is not in the tar", name, target)
		}
		group := target
		if e.group != "" {
			group = e.group
		}
		e.group = group
		out[target] = e
		e.group = group
		out[name] = e
	}
	out.nameGroups()
	return out, nil
}

// nameGroups names each hardlink group by its smallest member, whichever
// entry the tar stored the content under or whichever path a directory
// walk met first.
func (t Tree) nameGroups() {
	rename := map[string]string{}
	for name, e := range t {
		if e.group == "" {
			continue
		}
		if cur, ok := rename[e.group]; !ok || name < cur {
			rename[e.group] = name
		}
	}
	for name, e := range t {
		if e.group != "" {
			e.group = rename[e.group]
			t[name] = e
		}
	}
}

func cleanRel(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// DockerCreateAdds lists what `docker create` adds to every container's
// root filesystem (its init layer), so that `docker export` shows it though
// the image lacks it: the mount points and files Docker fills at run time.
// Docker adds each only where the image has nothing at that path.
var DockerCreateAdds = []string{
	".dockerenv",
	"dev", "dev/console", "dev/pts", "dev/shm",
	"etc", "etc/hostname", "etc/hosts", "etc/mtab", "etc/resolv.conf",
	"proc", "sys",
}

// DiffRootfs compares two filesystem tars by path: type, mode, owner,
// symlink target, device numbers, file content and hardlink grouping (not
// mtimes or user names). A path of b missing from a is not a difference
// when it is in absentOK (such as DockerCreateAdds). It returns the
// differences, one line each, sorted.
func DiffRootfs(a, b io.Reader, absentOK []string) ([]string, error) {
	ta, err := ReadTarTree(a)
	if err != nil {
		return nil, err
	}
	tb, err := ReadTarTree(b)
	if err != nil {
		return nil, err
	}
	return CompareTrees(ta, tb, CompareOptions{AbsentOK: absentOK}), nil
}
