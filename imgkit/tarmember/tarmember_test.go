package tarmember

import (
	"archive/tar"
	"bytes"
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
