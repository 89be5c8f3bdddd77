package tarw

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// sparseArchive is an archive of one sparse file of size bytes whose data
// fragments hold "a", "b", … repeated, then a plain file "after".
func sparseArchive(t *testing.T, name string, size int64, frags []Fragment, xattrs map[string]string) (archive, content []byte) {
	t.Helper()
	content = make([]byte, size)
	var data []byte
	for i, fr := range frags {
		chunk := bytes.Repeat([]byte{byte('a' + i)}, int(fr.Length))
		copy(content[fr.Offset:], chunk)
		data = append(data, chunk...)
	}
	h := &Header{Name: name, Type: TypeReg, Mode: 0o640, Uid: 1000, Gid: 100, Uname: "u", Gname: "g", Size: size, Mtime: 1}
	s := Sparse{Data: Align(frags, size), Records: xattrs}
	b, err := Python.AppendSparse(nil, h, s)
	if err != nil {
		t.Fatal(err)
	}
	wide, err := io.ReadAll(Widen(frags, s.Data, bytes.NewReader(data)))
	if err != nil || int64(len(wide)) != s.Stored() {
		t.Fatalf("Widen gave %d bytes (%v), want %d", len(wide), err, s.Stored())
	}
	b = append(b, wide...)
	b = AppendPadding(b, s.Stored())
	after := &Header{Name: "after", Type: TypeReg, Mode: 0o644, Size: 2}
	b, _ = Python.AppendHeader(b, after)
	b = append(b, "ok"...)
	b = AppendPadding(b, 2)
	return AppendEnd(b, int64(len(b))), content
}

var sparseCases = []struct {
	name  string
	size  int64
	frags []Fragment
}{
	{"DataThenHole", 1 << 20, []Fragment{{0, 4096}}},
	{"HoleThenData", 1 << 20, []Fragment{{1<<20 - 10, 10}}},
	{"Unaligned", 100000, []Fragment{{0, 3}, {512, 512}, {1030, 5}, {9000, 1}, {99990, 10}}},
	{"Aligned", 1 << 16, []Fragment{{4096, 4096}, {1 << 15, 1 << 15}}},
	{"EmptyFragments", 4096, []Fragment{{0, 0}, {1024, 0}, {2048, 10}, {4096, 0}}},
	{"AllHole", 5000, nil},
	{"Empty", 0, nil},
}

// TestSparseReadBack reads AppendSparse's entries with archive/tar: the
// real name, the apparent size, the content with its holes as zeros, and
// the entry after it.
func TestSparseReadBack(t *testing.T) {
	for _, c := range sparseCases {
		t.Run(c.name, func(t *testing.T) {
			b, want := sparseArchive(t, "./dir/"+c.name, c.size, c.frags, map[string]string{"SCHILY.xattr.user.k": "v\x00w"})
			tr := tar.NewReader(bytes.NewReader(b))
			hdr, err := tr.Next()
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Name != "./dir/"+c.name || hdr.Size != c.size || hdr.Uid != 1000 || hdr.Uname != "u" || hdr.Mode != 0o640 {
				t.Errorf("header %q size %d uid %d uname %q mode %o", hdr.Name, hdr.Size, hdr.Uid, hdr.Uname, hdr.Mode)
			}
			if v := hdr.PAXRecords["SCHILY.xattr.user.k"]; v != "v\x00w" {
				t.Errorf("xattr %q", v)
			}
			got, err := io.ReadAll(tr)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("content differs (%v)", err)
			}
			if hdr, err := tr.Next(); err != nil || hdr.Name != "after" {
				t.Fatalf("next entry: %v %v", hdr, err)
			}
		})
	}
}

// TestSparseGNUTarExtracts has GNU tar extract the entries: same content,
// and the file is sparse on disk.
func TestSparseGNUTarExtracts(t *testing.T) {
	testkit.Need(t, "gnutar")
	for _, c := range sparseCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			b, want := sparseArchive(t, "f", c.size, c.frags, nil)
			arch := filepath.Join(dir, "a.tar")
			if err := os.WriteFile(arch, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("tar", "-C", dir, "-xf", arch).CombinedOutput()
			if err != nil {
				t.Fatalf("tar: %v: %s", err, out)
			}
			got, err := os.ReadFile(filepath.Join(dir, "f"))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("GNU tar extracted other content (%v)", err)
			}
			if _, err := os.Stat(filepath.Join(dir, sparseDir)); err == nil {
				t.Errorf("GNU tar extracted the ustar name: it did not see a sparse file")
			}
		})
	}
}

func TestSparseRefused(t *testing.T) {
	reg := Header{Name: "f", Type: TypeReg, Mode: 0o644, Size: 100}
	for _, c := range []struct {
		name string
		f    Format
		h    Header
		s    Sparse
	}{
		{"GNUFormat", GNU, reg, Sparse{}},
		{"NotAFile", Python, Header{Name: "d", Type: TypeDir}, Sparse{}},
		{"PastTheEnd", Python, reg, Sparse{Data: []Fragment{{90, 20}}}},
		{"OutOfOrder", Python, reg, Sparse{Data: []Fragment{{50, 10}, {0, 10}}}},
		{"Overlapping", Python, reg, Sparse{Data: []Fragment{{0, 10}, {5, 10}}}},
		{"NegativeOffset", Python, reg, Sparse{Data: []Fragment{{-1, 1}}}},
		{"NotAligned", Python, Header{Name: "f", Type: TypeReg, Size: 2000}, Sparse{Data: []Fragment{{10, 512}}}},
		{"EndsInsideABlock", Python, Header{Name: "f", Type: TypeReg, Size: 2000}, Sparse{Data: []Fragment{{0, 100}}}},
		{"RecordFromTheHeader", Python, reg, Sparse{Records: map[string]string{"path": "x"}}},
		{"SparseRecord", Python, reg, Sparse{Records: map[string]string{"GNU.sparse.map": "0,1"}}},
		{"KeyWithEquals", Python, reg, Sparse{Records: map[string]string{"a=b": "x"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.f.AppendSparse([]byte("keep"), &c.h, c.s)
			if !errors.Is(err, ErrHeader) {
				t.Errorf("err = %v, want ErrHeader", err)
			}
			if string(b) != "keep" {
				t.Errorf("dst changed on error")
			}
		})
	}
}

func TestAlign(t *testing.T) {
	got := Align([]Fragment{{0, 3}, {512, 512}, {1030, 5}, {5000, 0}, {9000, 1}, {99990, 10}}, 100000)
	want := []Fragment{{0, 1536}, {8704, 512}, {99840, 160}}
	if len(got) != len(want) {
		t.Fatalf("Align = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Align = %v, want %v", got, want)
		}
	}
}

// The map GNU tar would write for the same fragments: decimal, one number
// per line, NUL-padded, with the closing empty fragment at the size.
func TestSparseMapBytes(t *testing.T) {
	got := appendSparseMap(nil, []Fragment{{0, 4096}, {1 << 30, 0}})
	want := "2\n0\n4096\n1073741824\n0\n"
	if len(got) != BlockSize || !strings.HasPrefix(string(got), want) || strings.Trim(string(got[len(want):]), "\x00") != "" {
		t.Errorf("map %q", strings.TrimRight(string(got), "\x00"))
	}
}
