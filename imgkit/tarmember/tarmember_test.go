package tarmember

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSameBytesAsTarWriter: members written around the tar.Writer (Begin,
// Out, End), mixed with members written through it, give the bytes a
// tar.Writer alone gives: headers plain and needing a PAX record (a long
// name with no '/' to split it at), sizes on and off the block.
func TestSameBytesAsTarWriter(t *testing.T) {
	type member struct {
		name   string
		data   string
		direct bool
	}
	members := []member{
		{"small.json", `{"a":1}`, false},
		{"layers/000.tar", strings.Repeat("x", 512), true},
		{strings.Repeat("n", 150), "long name", true},
		{"layers/002.tar", strings.Repeat("y", 1000), true},
		{"between", "", false},
		{"layers/003.tar", "", true},
	}
	header := func(m member) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: m.name, Size: int64(len(m.data)), Mode: 0o644, ModTime: time.Unix(1, 0)}
	}
	var want bytes.Buffer
	tw := tar.NewWriter(&want)
	for _, m := range members {
		if err := tw.WriteHeader(header(m)); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(m.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	var got bytes.Buffer
	w := NewWriter(&got)
	for _, m := range members {
		if !m.direct {
			if err := w.Tar.WriteHeader(header(m)); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Tar.Write([]byte(m.data)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.Begin(header(m)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Out().Write([]byte(m.data)); err != nil {
			t.Fatal(err)
		}
		if err := w.End(int64(len(m.data))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Tar.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("%d bytes, different from the tar.Writer's %d", got.Len(), want.Len())
	}
}

// TestAlignedMemberOffsets: with Align set, every member written with
// Begin starts its bytes at a multiple of Align, whatever came before
// (members of assorted sizes, small members through the tar.Writer), the
// padding is a PAX comment a reader skips, the members' bytes and the
// small members' headers are as without Align, and a member already on
// the boundary gets no padding.
func TestAlignedMemberOffsets(t *testing.T) {
	type member struct {
		name   string
		size   int
		direct bool
	}
	var members []member
	for i, size := range []int{0, 1, 511, 512, 513, 3072, 3584, 4095, 4096, 4097, 5000, 1<<20 + 7} {
		members = append(members,
			member{fmt.Sprintf("%03d/layer.tar", i), size, true},
			member{fmt.Sprintf("%03d.json", i), i * 300, false})
	}
	data := func(m member) []byte { return bytes.Repeat([]byte{m.name[2]}, m.size) }
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Align = 4096
	for _, m := range members {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: m.name, Size: int64(m.size), Mode: 0o644, ModTime: time.Unix(1, 0)}
		if !m.direct {
			if err := w.Tar.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Tar.Write(data(m)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		before := out.Len()
		if err := w.Begin(hdr); err != nil {
			t.Fatal(err)
		}
		if padded := out.Len()-before > BlockSize; padded == ((before+BlockSize)%4096 == 0) {
			t.Errorf("%s at %d: %d header bytes", m.name, before, out.Len()-before)
		}
		if _, err := w.Out().Write(data(m)); err != nil {
			t.Fatal(err)
		}
		if err := w.End(int64(m.size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Tar.Close(); err != nil {
		t.Fatal(err)
	}

	sr := bytes.NewReader(out.Bytes())
	tr := tar.NewReader(sr)
	for _, m := range members {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("before %s: %v", m.name, err)
		}
		off := sr.Size() - int64(sr.Len())
		if hdr.Name != m.name || hdr.Size != int64(m.size) || hdr.Mode != 0o644 || !hdr.ModTime.Equal(time.Unix(1, 0)) {
			t.Errorf("header %+v, want %s of %d bytes", hdr, m.name, m.size)
		}
		if m.direct && off%4096 != 0 {
			t.Errorf("%s (%d bytes): data at offset %d, not a multiple of 4096", m.name, m.size, off)
		}
		if !m.direct && len(hdr.PAXRecords) != 0 {
			t.Errorf("%s: small member with PAX records %v", m.name, hdr.PAXRecords)
		}
		got, err := io.ReadAll(tr)
		if err != nil || !bytes.Equal(got, data(m)) {
			t.Errorf("%s: %d bytes read (%v), want %d", m.name, len(got), err, m.size)
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Fatalf("after the members: %v", err)
	}
}

// TestAlignedHugeMemberHeader: a member of 8 GiB or more already has a PAX
// header (its size); the padding goes beside that record, and both read
// back.
func TestAlignedHugeMemberHeader(t *testing.T) {
	const size = 9 << 30
	for _, before := range []int{0, 1, 100, 4000} {
		var out bytes.Buffer
		w := NewWriter(&out)
		w.Align = 4096
		if err := w.Tar.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "small", Size: int64(before), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		w.Tar.Write(make([]byte, before))
		if err := w.Begin(&tar.Header{Typeflag: tar.TypeReg, Name: "000/layer.tar", Size: size, Mode: 0o644, ModTime: time.Unix(1, 0)}); err != nil {
			t.Fatal(err)
		}
		if out.Len()%4096 != 0 {
			t.Errorf("after %d bytes of a small member: the header ends at %d", before, out.Len())
		}
		tr := tar.NewReader(&out)
		tr.Next()
		h, err := tr.Next() // the header only: the 9 GiB are not written
		if err != nil || h.Size != size || h.Name != "000/layer.tar" {
			t.Fatalf("header %+v, %v", h, err)
		}
	}
}
