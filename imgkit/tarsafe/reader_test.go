package tarsafe

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

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarw"
	"dockertools.dev/testkit"
)

// sparseFile makes a sparse file of size bytes on disk holding data runs
// of 4 KiB every stride bytes, then "tail" at its end; it returns the
// content.
func sparseFile(t *testing.T, p string, size, stride int64) []byte {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off := stride; off+4096 < size-8192; off += stride {
		if _, err := f.WriteAt(bytes.Repeat([]byte{byte(off / stride)}, 4096), off); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteAt([]byte("tail"), size-4); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gnuTar archives names of dir with GNU tar and the extra flags.
func gnuTar(t *testing.T, dir string, flags []string, names ...string) []byte {
	t.Helper()
	args := append([]string{"-C", dir, "--sparse", "--owner=0", "--group=0", "--numeric-owner", "-cf", "-"}, flags...)
	out, err := exec.Command("tar", append(args, names...)...).Output()
	if err != nil {
		t.Fatalf("tar %v: %v", flags, err)
	}
	return out
}

// readAll reads every entry of a layer with Reader, putting a sparse
// file's stored bytes where its map says: name -> content.
func readAll(t *testing.T, layer []byte, opts Options) map[string][]byte {
	t.Helper()
	r := NewReader(bytes.NewReader(layer), opts)
	got := map[string][]byte{}
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frags := r.Sparse()
		if frags == nil {
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			got[hdr.Name] = b
			continue
		}
		b := make([]byte, hdr.Size)
		for _, fr := range frags {
			if _, err := io.ReadFull(r, b[fr.Offset:fr.Offset+fr.Length]); err != nil {
				t.Fatalf("%s: fragment %v: %v", hdr.Name, fr, err)
			}
		}
		if n, _ := r.Read(make([]byte, 1)); n != 0 {
			t.Fatalf("%s: stores more than its map", hdr.Name)
		}
		got[hdr.Name] = b
		// Coming back to the entry from its header offset, as
		// tar-merge's second pass does, gives the same map.
		again := NewReader(bytes.NewReader(layer[r.HeaderOffset():]), opts)
		if h2, err := again.Next(); err != nil || h2.Name != hdr.Name || len(again.Sparse()) != len(frags) || r.DataOffset()-r.HeaderOffset() != again.DataOffset() {
			t.Fatalf("%s: read again from its header offset: %v %v", hdr.Name, h2, err)
		}
	}
	if err := r.Finish(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestReaderSparseFormats reads a sparse file GNU tar wrote in each
// sparse format archive/tar knows, followed by a plain file: the content
// comes out right, holes are never read, the next entry is in its place.
func TestReaderSparseFormats(t *testing.T) {
	testkit.Need(t, "gnutar")
	dir := t.TempDir()
	// 30 data runs: the old GNU format needs two extension blocks.
	big := sparseFile(t, filepath.Join(dir, "big"), 4<<20, 128<<10)
	if err := os.WriteFile(filepath.Join(dir, "after"), []byte("after\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"GNU", []string{"--format=gnu"}},
		{"PAX0.0", []string{"--format=posix", "--sparse-version=0.0"}},
		{"PAX0.1", []string{"--format=posix", "--sparse-version=0.1"}},
		{"PAX1.0", []string{"--format=posix", "--sparse-version=1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layer := gnuTar(t, dir, tc.flags, "big", "after")
			got := readAll(t, layer, Options{})
			if !bytes.Equal(got["big"], big) {
				t.Errorf("big: other content")
			}
			if string(got["after"]) != "after\n" {
				t.Errorf("after: %q", got["after"])
			}
		})
	}
}

// TestReaderReadsTarwSparse reads what tarw.AppendSparse writes.
func TestReaderReadsTarwSparse(t *testing.T) {
	frags := []tarw.Fragment{{Offset: 0, Length: 512}, {Offset: 1 << 20, Length: 1024}, {Offset: 3 << 20, Length: 100}}
	size := int64(3<<20 + 100)
	want := make([]byte, size)
	var data []byte
	for i, fr := range frags {
		b := bytes.Repeat([]byte{byte('a' + i)}, int(fr.Length))
		copy(want[fr.Offset:], b)
		data = append(data, b...)
	}
	b, err := tarw.Python.AppendSparse(nil, &tarw.Header{Name: "s", Type: tarw.TypeReg, Mode: 0o644, Size: size}, tarw.Sparse{Data: frags})
	if err != nil {
		t.Fatal(err)
	}
	b = tarw.AppendPadding(append(b, data...), int64(len(data)))
	b = tarw.AppendEnd(b, int64(len(b)))
	if got := readAll(t, b, Options{}); !bytes.Equal(got["s"], want) {
		t.Errorf("other content")
	}
}

// TestReaderBound: what a layer expands to (its bytes, and its sparse
// files' holes) is bounded; the error names the entry and the flag.
func TestReaderBound(t *testing.T) {
	plain := func(name string, size int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(size)})
		tw.Write(make([]byte, size))
		tw.Close()
		return buf.Bytes()
	}
	sparse := func(name string, size int64) []byte {
		b, err := tarw.Python.AppendSparse(nil, &tarw.Header{Name: name, Type: tarw.TypeReg, Mode: 0o644, Size: size}, tarw.Sparse{})
		if err != nil {
			t.Fatal(err)
		}
		return tarw.AppendEnd(b, int64(len(b)))
	}
	flag := errdefs.Bound{Max: 1 << 20, Flag: "--max-expanded-bytes"}
	for _, tc := range []struct {
		name  string
		layer []byte
		bound errdefs.Bound
		msg   string // "" when the layer is within the bound
	}{
		{"SparseBomb", sparse("big", 1<<40), flag, `entry "big": expands past 1048576 bytes (--max-expanded-bytes)`},
		{"SparseBombDefault", sparse("big", 1<<40), errdefs.Bound{}, `entry "big": expands past 68719476736 bytes`},
		{"SparseWithin", sparse("fine", 1<<19), flag, ""},
		{"DataPastTheBound", plain("zeros", 2<<20), flag, `entry "zeros": expands past 1048576 bytes (--max-expanded-bytes)`},
		{"BytesAfterTheEnd", append(plain("small", 10), make([]byte, 2<<20)...), flag, `after its last entry: expands past 1048576 bytes (--max-expanded-bytes)`},
		{"ExactlyTheBound", plain("exact", 1<<19), errdefs.Bound{Max: int64(len(plain("exact", 1<<19)))}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.layer), Options{Expanded: tc.bound})
			var err error
			for err == nil {
				if _, err = r.Next(); err == nil {
					_, err = io.Copy(io.Discard, r)
				}
			}
			if err == io.EOF {
				err = r.Finish()
			}
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrTooLarge) || !strings.HasSuffix(err.Error(), tc.msg) {
				t.Fatalf("error %v, want one wrapping ErrTooLarge ending %q", err, tc.msg)
			}
		})
	}
}

// TestReaderRefusesLyingMaps: a map that does not account for the bytes
// the entry stores would have the next header read from the wrong place.
func TestReaderRefusesLyingMaps(t *testing.T) {
	b, err := tarw.Python.AppendSparse(nil, &tarw.Header{Name: "liar", Type: tarw.TypeReg, Mode: 0o644, Size: 4096}, tarw.Sparse{Data: []tarw.Fragment{{Offset: 0, Length: 512}}})
	if err != nil {
		t.Fatal(err)
	}
	b = tarw.AppendEnd(append(b, make([]byte, 512)...), int64(len(b)+512))
	// The map says "0 512"; make it "0 999", as long, within the size.
	i := bytes.Index(b, []byte("\n0\n512\n"))
	copy(b[i:], "\n0\n999\n")
	r := NewReader(bytes.NewReader(b), Options{})
	_, err = r.Next()
	if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), `entry "liar": sparse file (PAX 1.0): its map holds 999 bytes of data, but it stores 512`) {
		t.Fatalf("error %v", err)
	}
}

// TestReaderIgnoresGodebugInsecurePath: with GODEBUG=tarinsecurepath=0 in
// the environment archive/tar refuses absolute names, which every store
// layer has; the Reader reads them as without it (Classify decides).
func TestReaderIgnoresGodebugInsecurePath(t *testing.T) {
	t.Setenv("GODEBUG", "tarinsecurepath=0")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "/nix/store/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a", Typeflag: tar.TypeReg, Mode: 0o444, Size: 1},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Write([]byte("a"))
	tw.Close()
	if _, err := tar.NewReader(bytes.NewReader(buf.Bytes())).Next(); !errors.Is(err, tar.ErrInsecurePath) {
		t.Fatalf("archive/tar does not see the setting (err %v): the test proves nothing", err)
	}
	r := NewReader(bytes.NewReader(buf.Bytes()), Options{})
	var names []string
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		names = append(names, hdr.Name)
	}
	if len(names) != 2 {
		t.Errorf("read %q, want both entries", names)
	}
}
