package storefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
)

const h = "0123456789abcdfghijklmnpqrsvwxyz"

// bothWays runs f with openat2, with the component walk that stands in
// for it on kernels without it, and with that walk as it runs off Linux
// (no O_PATH): all must give the same results.
func bothWays(t *testing.T, f func(t *testing.T)) {
	for _, way := range []struct {
		name               string
		noOpenat, portable bool
	}{{"openat2", false, false}, {"walk", true, false}, {"portable", true, true}} {
		t.Run(way.name, func(t *testing.T) {
			was := noOpenat2.Load()
			noOpenat2.Store(way.noOpenat)
			defer noOpenat2.Store(was)
			defer setPortable(way.portable)()
			f(t)
		})
	}
}

// tree makes the files of spec under dir: "d NAME" a directory, "f NAME
// TEXT" a file, "l NAME TARGET" a symlink.
func tree(t *testing.T, dir string, spec ...string) {
	t.Helper()
	for _, line := range spec {
		f := strings.SplitN(line, " ", 3)
		name := filepath.Join(dir, f[1])
		var err error
		switch f[0] {
		case "d":
			err = os.MkdirAll(name, 0o755)
		case "f":
			err = os.WriteFile(name, []byte(f[2]), 0o644)
		case "l":
			err = os.Symlink(f[2], name)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// same reports whether the open fd is the file at name.
func same(t *testing.T, fd int, name string) bool {
	t.Helper()
	var a, b unix.Stat_t
	if err := unix.Fstat(fd, &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(name, &b); err != nil {
		t.Fatal(err)
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// TestOpenDirInRoot: the store directory is found as a process chrooted to
// the root would find it, whatever symlinks the root holds.
func TestOpenDirInRoot(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		work := t.TempDir()
		outside := filepath.Join(work, "outside")
		tree(t, work, "d outside/store", "f outside/store/secret s3cret")
		for _, c := range []struct {
			name string
			spec []string
			dir  string
			want string // the directory opened, under the root; "" for an error
			err  error
		}{
			{"Plain", []string{"d nix/store"}, "/nix/store", "nix/store", nil},
			{"StoreDirSymlinkAbsolute", []string{"d nix", "l nix/store " + outside + "/store", "d " + outside[1:] + "/store"}, "/nix/store", outside[1:] + "/store", nil},
			{"StoreDirSymlinkAbsoluteMissing", []string{"d nix", "l nix/store " + outside + "/store"}, "/nix/store", "", unix.ENOENT},
			{"StoreDirSymlinkDotDot", []string{"d nix", "l nix/store ../../../../../../../../outside/store", "d outside/store"}, "/nix/store", "outside/store", nil},
			{"NixSymlink", []string{"l nix /big/nix", "d big/nix/store"}, "/nix/store", "big/nix/store", nil},
			{"RelativeSymlinkInside", []string{"d real/store", "d nix", "l nix/store ../real/store"}, "/nix/store", "real/store", nil},
			{"DotDotInDir", []string{"d outside"}, "/../../outside", "outside", nil},
			{"Loop", []string{"d nix", "l nix/store store"}, "/nix/store", "", unix.ELOOP},
			{"NotADirectory", []string{"d nix", "f nix/store x"}, "/nix/store", "", unix.ENOTDIR},
			{"StoreDirSymlinkToSlash", []string{"d nix", "l nix/store /../.."}, "/nix/store", ".", nil},
			{"FortySymlinks", linkChain(40), "/nix/store", "nix/real", nil},
			{"FortyOneSymlinks", linkChain(41), "/nix/store", "", unix.ELOOP},
			{"NUL", []string{"d nix/store"}, "/nix\x00/store", "", unix.EINVAL},
		} {
			t.Run(c.name, func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "root")
				tree(t, root, append([]string{"d ."}, c.spec...)...)
				fd, err := OpenDirInRoot(root, c.dir)
				if c.want == "" {
					if !errors.Is(err, c.err) {
						t.Fatalf("err = %v, want %v", err, c.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(fd)
				if !same(t, fd, filepath.Join(root, c.want)) {
					t.Errorf("opened something else than %s under the root", c.want)
				}
			})
		}
	})
}

// linkChain is a tree in which /nix/store leads to the directory
// /nix/real through n symlinks, the kernel's limit being 40.
func linkChain(n int) []string {
	spec, to := []string{"d nix/real"}, "real"
	for i := 1; i < n; i++ {
		spec = append(spec, fmt.Sprintf("l nix/l%d %s", i, to))
		to = fmt.Sprintf("l%d", i)
	}
	return append(spec, "l nix/store "+to)
}

// beneathStore makes a store with a symlink out of it (-evil), one inside
// a store path (-x/link), and what they lead to, and returns the store,
// the directory outside it and an open descriptor of the store, closed
// when the test ends.
func beneathStore(t *testing.T) (store, outside string, dirfd int) {
	t.Helper()
	work := t.TempDir()
	outside = filepath.Join(work, "outside")
	store = filepath.Join(work, "store")
	tree(t, work, "d outside", "f outside/secret s3cret",
		"d store/"+h+"-x/sub", "f store/"+h+"-x/sub/file ok", "l store/"+h+"-x/link sub",
		"l store/"+h+"-evil "+outside)
	dirfd, err := unix.Open(store, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(dirfd) })
	return store, outside, dirfd
}

// TestOpenBeneath: below a store path nothing is followed.
func TestOpenBeneath(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		store, outside, dirfd := beneathStore(t)
		for _, c := range []struct {
			name  string
			rel   string
			flags int
			err   error
		}{
			{"Plain", h + "-x/sub/file", unix.O_RDONLY, nil},
			{"Directory", h + "-x/sub", unix.O_RDONLY | unix.O_DIRECTORY, nil},
			{"SymlinkInMiddle", h + "-evil/secret", unix.O_RDONLY, unix.ELOOP},
			{"SymlinkInsideInMiddle", h + "-x/link/file", unix.O_RDONLY, unix.ELOOP},
			{"SymlinkAtEnd", h + "-evil", unix.O_RDONLY, unix.ELOOP},
			{"SymlinkAtEndDirectory", h + "-evil", unix.O_RDONLY | unix.O_DIRECTORY, unix.ELOOP},
			{"DotDot", h + "-x/../../outside/secret", unix.O_RDONLY, unix.EXDEV},
			{"Absolute", outside + "/secret", unix.O_RDONLY, unix.EXDEV},
			{"DotDotStayingBelow", h + "-x/sub/..", unix.O_RDONLY | unix.O_DIRECTORY, unix.EXDEV},
			{"Empty", "", unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOENT},
			{"PastPathMax", strings.Repeat("x/", 2048), unix.O_RDONLY | unix.O_DIRECTORY, unix.ENAMETOOLONG},
			{"JustBelowPathMax", h + "-x/sub" + strings.Repeat("/.", 2026) + "/file", unix.O_RDONLY, nil}, // 4095 bytes
		} {
			t.Run(c.name, func(t *testing.T) {
				fd, err := OpenBeneath(dirfd, c.rel, c.flags)
				if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				if err == nil {
					defer unix.Close(fd)
					if !same(t, fd, filepath.Join(store, c.rel)) {
						t.Errorf("opened something else than %s", c.rel)
					}
				}
			})
		}
	})
}

// TestOpener: files opened in walk order are the files below the base; a
// directory that became a symlink after it was listed is refused, and a
// directory the Opener holds open keeps being the one it opened.
func TestOpener(t *testing.T) {
	work := t.TempDir()
	outside := filepath.Join(work, "outside")
	base := filepath.Join(work, "base")
	tree(t, work, "d outside/sub", "f outside/sub/a s3cret", "f outside/sub/b s3cret",
		"d base/p/sub", "f base/p/sub/a one", "f base/p/sub/b two", "d base/p/other", "f base/p/other/c three",
		"l base/p/link other")
	basefd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(basefd)
	o := NewOpener(basefd)
	defer o.Close()
	read := func(rel string) (string, error) {
		fd, err := o.Open(rel, unix.O_RDONLY)
		if err != nil {
			return "", err
		}
		defer unix.Close(fd)
		b := make([]byte, 64)
		n, err := unix.Read(fd, b)
		return string(b[:max(n, 0)]), err
	}
	steps := []struct {
		name, rel, want string
		err             error
		then            func()
	}{
		{"First", "p/sub/a", "one", nil, nil},
		// sub is open: replacing it now changes nothing for its next file.
		{"HeldOpen", "p/sub/b", "two", nil, func() {
			must(t, os.Rename(filepath.Join(base, "p/sub"), filepath.Join(base, "p/sub.old")))
			must(t, os.Symlink(filepath.Join(outside, "sub"), filepath.Join(base, "p/sub")))
		}},
		{"Sibling", "p/other/c", "three", nil, nil},
		// Opened again after the swap: the symlink is refused.
		{"SwappedDirectory", "p/sub/a", "", unix.ELOOP, nil},
		{"SymlinkInMiddle", "p/link/c", "", unix.ELOOP, nil},
		{"SymlinkAtEnd", "p/link", "", unix.ELOOP, nil},
		{"DotDot", "p/../../outside/sub/a", "", unix.EXDEV, nil},
		{"Dot", "./p/./other/c", "three", nil, nil},
	}
	for _, s := range steps {
		got, err := read(s.rel)
		if !errors.Is(err, s.err) || (s.err == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.err)
		}
		if got != s.want {
			t.Errorf("%s: read %q, want %q", s.name, got, s.want)
		}
		if s.then != nil {
			s.then()
		}
	}
	var pe *os.PathError
	if _, err := read("p/sub/a"); !errors.As(err, &pe) || pe.Path != "p/sub" {
		t.Errorf("the error names %v, want the directory p/sub", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPathName: a plan entry is a top-level store path, nothing deeper.
func TestPathName(t *testing.T) {
	for _, c := range []struct {
		name, p string
		want    string
		err     error
	}{
		{"TopLevel", "/nix/store/" + h + "-hello-2.12", h + "-hello-2.12", nil},
		{"NameCharacters", "/nix/store/" + h + "-a+b-c._?=D9", h + "-a+b-c._?=D9", nil},
		{"Deeper", "/nix/store/" + h + "-evil/shadow", "", errdefs.ErrInvalidInput},
		{"Outside", "/etc/shadow", "", errdefs.ErrOutsideStore},
		{"PrefixOnly", "/nix/storefoo/" + h + "-x", "", errdefs.ErrOutsideStore},
		{"StoreDirItself", "/nix/store", "", errdefs.ErrOutsideStore},
		{"ShortHash", "/nix/store/aaa-x", "", errdefs.ErrInvalidInput},
		{"NotBase32", "/nix/store/" + strings.Replace(h, "0", "e", 1) + "-x", "", errdefs.ErrInvalidInput},
		{"NoName", "/nix/store/" + h + "-", "", errdefs.ErrInvalidInput},
		{"BadCharacter", "/nix/store/" + h + "-a b", "", errdefs.ErrInvalidInput},
		{"TooLong", "/nix/store/" + h + "-" + strings.Repeat("n", MaxNameLen+1), "", errdefs.ErrInvalidInput},
		{"DotDot", "/nix/store/" + h + "-x/../../../etc", "", errdefs.ErrInvalidInput},
		{"Links", "/nix/store/.links", "", errdefs.ErrInvalidInput},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := PathName("/nix/store", c.p)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) || got != c.want {
				t.Fatalf("PathName(%q) = %q, %v; want %q, %v", c.p, got, err, c.want, c.err)
			}
		})
	}
}

// TestOpenListedDir: descending into a directory that is no longer the one
// listed is refused, whatever took its place.
func TestOpenListedDir(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(dir, outside string) error
		err    error
	}{
		{"Listed", func(dir, outside string) error { return nil }, nil},
		{"SwappedForSymlink", func(dir, outside string) error {
			return errors.Join(os.Rename(dir, dir+".old"), os.Symlink(outside, dir))
		}, unix.ELOOP},
		{"SwappedForDirectory", func(dir, outside string) error {
			return errors.Join(os.Rename(dir, dir+".old"), os.Mkdir(dir, 0o755))
		}, ErrReplaced},
		{"SwappedForFile", func(dir, outside string) error {
			return errors.Join(os.Rename(dir, dir+".old"), os.WriteFile(dir, nil, 0o644))
		}, unix.ENOTDIR},
		{"Vanished", func(dir, outside string) error { return os.Remove(dir) }, unix.ENOENT},
	} {
		t.Run(c.name, func(t *testing.T) {
			work := t.TempDir()
			tree(t, work, "d outside", "d p/sub")
			parent, err := unix.Open(filepath.Join(work, "p"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
			must(t, err)
			defer unix.Close(parent)
			var st unix.Stat_t
			must(t, unix.Fstatat(parent, "sub", &st, unix.AT_SYMLINK_NOFOLLOW))
			must(t, c.change(filepath.Join(work, "p", "sub"), filepath.Join(work, "outside")))
			fd, err := OpenListedDir(parent, "sub", st.Ino)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err == nil {
				unix.Close(fd)
			}
		})
	}
}
