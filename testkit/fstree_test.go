package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The differential test trusts CompareTrees to find what differs and to
// leave out only what its options say.
func TestCompareTrees(t *testing.T) {
	base := []string{
		"d 0755 0:0 d/ mtime=7 xattr.user.a=1",
		"f 0644 0:0 d/f \"f\" mtime=8",
		"d 0755 0:0 d/implied/ mtime=0",
		"p 0644 1000:1000 fifo mtime=9",
	}
	with := func(i int, line string) []string {
		out := append([]string(nil), base...)
		out[i] = line
		return out
	}
	all := func(string) bool { return true }
	for _, tc := range []struct {
		name string
		b    []string
		opts CompareOptions
		want string // a difference line must contain this; "" for none
	}{
		{"Same", base, CompareOptions{Mtimes: true, DirMtimes: true, Xattrs: all}, ""},
		{"MtimeIgnored", with(1, "f 0644 0:0 d/f \"f\" mtime=9"), CompareOptions{}, ""},
		{"MtimeCompared", with(1, "f 0644 0:0 d/f \"f\" mtime=9"), CompareOptions{Mtimes: true}, "differs: d/f"},
		{"DirMtimeIgnored", with(0, "d 0755 0:0 d/ mtime=9 xattr.user.a=1"), CompareOptions{Mtimes: true}, ""},
		{"DirMtimeCompared", with(0, "d 0755 0:0 d/ mtime=9 xattr.user.a=1"), CompareOptions{DirMtimes: true}, "differs: d:"},
		{"ImpliedDirMtimeIgnored", with(2, "d 0755 0:0 d/implied/ mtime=99"), CompareOptions{DirMtimes: true}, ""},
		{"XattrIgnored", with(0, "d 0755 0:0 d/ mtime=7"), CompareOptions{}, ""},
		{"XattrCompared", with(0, "d 0755 0:0 d/ mtime=7"), CompareOptions{Xattrs: all}, "differs: d:"},
		{"ImpliedDirModeCompared", with(2, "d 0600 0:0 d/implied/ mtime=0"), CompareOptions{ImpliedDirs: true}, "differs: d/implied"},
		{"ImpliedDirModeAllowed", with(2, "d 0600 0:0 d/implied/ mtime=0"), CompareOptions{ImpliedDirs: true, ImpliedDirMode: 0o600}, ""},
		{"ImpliedDirSetgidCompared", with(2, "d 2755 0:42 d/implied/ mtime=0"), CompareOptions{}, "differs: d/implied"},
		{"ImpliedDirSetgidAllowed", with(2, "d 2755 0:42 d/implied/ mtime=0"), CompareOptions{ImpliedDirs: true}, ""},
		{"ListedDirSetgidCompared", with(0, "d 2755 0:42 d/ mtime=7 xattr.user.a=1"), CompareOptions{ImpliedDirs: true}, "differs: d:"},
		{"FifoOwnerCompared", with(3, "p 0644 0:0 fifo mtime=9"), CompareOptions{}, "differs: fifo"},
		{"FifoOwnerIgnored", with(3, "p 0644 0:0 fifo mtime=9"), CompareOptions{FileAndDirOwnersOnly: true}, ""},
		{"FileOwnerStillCompared", with(1, "f 0644 1:0 d/f \"f\" mtime=8"), CompareOptions{FileAndDirOwnersOnly: true}, "differs: d/f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadTarTree(tarOf(t, base...))
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadTarTree(tarOf(t, tc.b...))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(CompareTrees(a, b, tc.opts), "\n")
			switch {
			case tc.want == "" && got != "":
				t.Fatalf("differences where there are none:\n%s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Fatalf("differences %q do not say %q", got, tc.want)
			}
		})
	}
}

// ReadDirTree reads a directory as ReadTarTree reads the tar of it:
// types, modes, owners, content, links, hardlink groups, times, xattrs.
func TestReadDirTree(t *testing.T) {
	root := t.TempDir()
	p := func(name string) string { return filepath.Join(root, name) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(p("d"), 0o750))
	must(os.WriteFile(p("d/f"), []byte("f"), 0o644))
	must(os.Link(p("d/f"), p("h")))
	must(os.Symlink("d/f", p("l")))
	must(unix.Mkfifo(p("fifo"), 0o600))
	must(unix.Lsetxattr(p("d/f"), "user.k", []byte("v"), 0))
	for _, name := range []string{"d/f", "d", "fifo"} {
		must(os.Chtimes(p(name), time.Unix(5, 0), time.Unix(5, 0)))
	}
	must(unix.Lutimes(p("l"), []unix.Timeval{{Sec: 5}, {Sec: 5}}))
	got, err := ReadDirTree(root)
	must(err)
	want, err := ReadTarTree(tarOf(t,
		"d 0750 0:0 d/ mtime=5",
		"f 0644 0:0 d/f \"f\" mtime=5 xattr.user.k=v",
		"h 0644 0:0 h d/f",
		"l 0777 0:0 l d/f mtime=5",
		"p 0600 0:0 fifo mtime=5"))
	must(err)
	uid, gid := os.Getuid(), os.Getgid()
	for name := range want {
		want.Chown(name, uid, gid)
	}
	if diffs := CompareTrees(want, got, CompareOptions{Mtimes: true, DirMtimes: true, Xattrs: func(string) bool { return true }}); len(diffs) > 0 {
		t.Fatalf("the directory reads otherwise than its tar:\n%s", strings.Join(diffs, "\n"))
	}
}

// UmociRootless reads back the owners umoci recorded.
func TestUmociRootless(t *testing.T) {
	tree, err := ReadTarTree(tarOf(t,
		`f 0644 0:0 a "" xattr.user.rootlesscontainers="\x08\xe8\x07\x10\xe8\x07"`,
		`f 0644 0:0 b "" xattr.user.rootlesscontainers="\x08\xff\xff\xff\xff\x0f\x10*" xattr.user.k=v`))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadTarTree(tarOf(t, `f 0644 1000:1000 a ""`, `f 0644 0:42 b "" xattr.user.k=v`))
	if err != nil {
		t.Fatal(err)
	}
	if diffs := CompareTrees(want, tree.UmociRootless(), CompareOptions{Xattrs: func(string) bool { return true }}); len(diffs) > 0 {
		t.Fatalf("%s", strings.Join(diffs, "\n"))
	}
}
