package tarw

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"dockertools.dev/testkit"
)

// gnuMtime is the mtime nixpkgs gives GNU tar (SOURCE_DATE_EPOCH).
const gnuMtime = 315532800

// TestGNUMatchesGNUTar writes, for files made on disk, the headers GNU tar
// 1.34 writes for them (tar --no-recursion --numeric-owner, names in the
// given order) and compares the whole archive.
func TestGNUMatchesGNUTar(t *testing.T) {
	testkit.Need(t, "gnutar")
	dir := t.TempDir()
	long := strings.Repeat("long-directory-", 5)
	var names []string
	mk := func(name string, make func(p string) error) {
		t.Helper()
		if err := make(filepath.Join(dir, name)); err != nil {
			t.Fatalf("making %s: %v", name, err)
		}
		names = append(names, "./"+name)
	}
	file := func(content string) func(string) error {
		return func(p string) error { return os.WriteFile(p, []byte(content), 0o644) }
	}
	mk("a", file("hello\n"))
	mk("hardlink-to-a", func(p string) error { return os.Link(filepath.Join(dir, "a"), p) })
	mk(long, func(p string) error { return os.Mkdir(p, 0o755) })
	mk(long+"/"+strings.Repeat("f", 30), file(strings.Repeat("x", 700)))
	mk(strings.Repeat("e", 98), file(""))  // "./" + 98 = exactly 100 bytes
	mk(strings.Repeat("g", 99), file("9")) // 101 bytes
	mk("dir-of-99", func(p string) error { return os.Mkdir(p, 0o700) })
	mk("dir-of-99/"+strings.Repeat("h", 87), func(p string) error { return os.Mkdir(p, 0o755) }) // 100 with the slash
	mk("long-target", func(p string) error { return os.Symlink(strings.Repeat("t", 150), p) })
	mk(long+"/"+strings.Repeat("s", 40)+"-long-both", func(p string) error { return os.Symlink("/nix/store/"+strings.Repeat("z", 120), p) })
	mk("ünïcödé", func(p string) error { return os.Symlink("zïel", p) })
	mk("fifo", func(p string) error { return syscall.Mkfifo(p, 0o640) })
	mk("setuid", func(p string) error {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			return err
		}
		return os.Chmod(p, 0o4755)
	})
	if os.Geteuid() == 0 {
		mk("null", func(p string) error { return syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3) })
		mk("big-uid", func(p string) error {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				return err
			}
			return os.Lchown(p, 3000000, 5) // beyond 7 octal digits: base-256
		})
	}

	cmd := exec.Command("tar", "--no-recursion", "--numeric-owner", "--mtime", "@315532800", "-cf", "-", "-T", "-")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(strings.Join(names, "\n") + "\n")
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("tar: %v", err)
	}

	var got bytes.Buffer
	tw := NewWriter(&got, GNU)
	inodes := map[uint64]string{}
	for _, name := range names {
		h, data := statHeader(t, filepath.Join(dir, name), name)
		if h.Type == TypeReg {
			// Without --hard-dereference GNU tar stores later links to an
			// inode as hardlinks to the first.
			st, _ := os.Lstat(filepath.Join(dir, name))
			ino := st.Sys().(*syscall.Stat_t).Ino
			if first, ok := inodes[ino]; ok {
				h.Type, h.Linkname, h.Size, data = TypeLink, first, 0, nil
			}
			inodes[ino] = name
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		i := firstDiff(got.Bytes(), want)
		t.Fatalf("archive differs from GNU tar's at offset %d (block %d, byte %d); lengths %d and %d",
			i, i/BlockSize, i%BlockSize, got.Len(), len(want))
	}
}

// statHeader is the header GNU tar --numeric-owner writes for the file at
// path (mtime forced), and its data.
func statHeader(t *testing.T, path, name string) (Header, []byte) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	h := Header{Name: name, Mode: int64(st.Mode & 0o7777), Uid: int64(st.Uid), Gid: int64(st.Gid), Mtime: gnuMtime}
	var data []byte
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		h.Type, h.Size = TypeReg, st.Size
		var err error
		if data, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	case syscall.S_IFDIR:
		h.Type = TypeDir
	case syscall.S_IFLNK:
		h.Type = TypeSymlink
		target, err := os.Readlink(path)
		if err != nil {
			t.Fatal(err)
		}
		h.Linkname = target
	case syscall.S_IFIFO:
		h.Type = TypeFifo
	case syscall.S_IFCHR:
		h.Type = TypeChar
		h.Devmajor, h.Devminor = int64(st.Rdev>>8&0xfff), int64(st.Rdev&0xff)
	default:
		t.Fatalf("%s: unexpected file type", path)
	}
	return h, data
}

// TestNumberFields pins the encodings of numbers at the field limits.
func TestNumberFields(t *testing.T) {
	for _, c := range []struct {
		name string
		v    int64
		n    int
		want string
	}{
		{"OctalFits", 0o7777777, 8, "7777777\x00"},
		{"Base256Uid", 3000000, 8, "\x80\x00\x00\x00\x00\x2d\xc6\xc0"},
		{"Base256Size8GiB", 8 << 30, 12, "\x80\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00"},
		{"Base256Negative", -1, 12, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"},
	} {
		t.Run(c.name, func(t *testing.T) {
			field := make([]byte, c.n)
			if !putGNUNumber(field, c.v) {
				t.Fatal("reported not representable")
			}
			if string(field) != c.want {
				t.Errorf("got %q, want %q", field, c.want)
			}
		})
	}
	if putGNUNumber(make([]byte, 8), 1<<56) {
		t.Error("2^56 in an 8-byte field: reported representable")
	}
}

// TestWriterSizes checks that the Writer refuses data that does not match
// the header and pads archives to whole records.
func TestWriterSizes(t *testing.T) {
	for _, c := range []struct {
		name  string
		data  string
		fails bool
	}{
		{"Exact", "abc", false},
		{"Short", "ab", true},
		{"Long", "abcd", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := NewWriter(&buf, Python)
			err := tw.WriteHeader(&Header{Name: "/f", Type: TypeReg, Mode: 0o644, Size: 3})
			if err == nil {
				_, err = io.WriteString(tw, c.data)
			}
			if err == nil {
				err = tw.Close()
			}
			if c.fails != (err != nil) {
				t.Fatalf("err = %v, want failure %v", err, c.fails)
			}
			if !c.fails && (buf.Len() != RecordSize || tw.Offset() != RecordSize) {
				t.Errorf("archive of %d bytes (offset %d), want %d", buf.Len(), tw.Offset(), RecordSize)
			}
		})
	}
}

// TestEndLen checks the record padding at its boundaries.
func TestEndLen(t *testing.T) {
	for _, c := range []struct{ off, want int64 }{
		{0, RecordSize},
		{RecordSize - 2*BlockSize, 2 * BlockSize},
		{RecordSize - BlockSize, RecordSize + BlockSize},
		{RecordSize, RecordSize},
	} {
		if got := EndLen(c.off); got != c.want {
			t.Errorf("EndLen(%d) = %d, want %d", c.off, got, c.want)
		}
	}
}

// TestHeaderRefused lists headers neither format can hold.
func TestHeaderRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		h    Header
	}{
		{"EmptyName", Header{Type: TypeReg}},
		{"NULInName", Header{Name: "a\x00b", Type: TypeReg}},
		{"DirectoryWithData", Header{Name: "d", Type: TypeDir, Size: 1}},
		{"UnknownType", Header{Name: "x", Type: 'Z'}},
		{"NegativeSize", Header{Name: "x", Type: TypeReg, Size: -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range []Format{Python, GNU} {
				if _, err := f.AppendHeader(nil, &c.h); err == nil {
					t.Errorf("%v: accepted", f)
				}
			}
		})
	}
}

// TestPythonLess pins pathlib's order, which differs from byte order only
// for bytes that are not UTF-8.
func TestPythonLess(t *testing.T) {
	sorted := []string{".hidden", "B", "a", "x", "x-z", "ünï", "\xf5raw", "\ue000private"}
	for i := range sorted {
		for j := range sorted {
			if got := PythonLess(sorted[i], sorted[j]); got != (i < j) {
				t.Errorf("PythonLess(%q, %q) = %v", sorted[i], sorted[j], got)
			}
		}
	}
	if !GNULess("\ue000private", "\xf5raw") {
		t.Error("GNULess is not byte order")
	}
}
