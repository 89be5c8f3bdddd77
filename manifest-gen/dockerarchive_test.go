package main

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// TestArchiveHeaders checks what tarls does not show: every member has
// mtime 1, owner 0:0 without names, mode 0644, and the layers keep their
// bytes.
func TestArchiveHeaders(t *testing.T) {
	var buf bytes.Buffer
	a := newDockerArchive(&buf)
	for _, l := range []string{"first", "second layer"} {
		if err := a.addLayer(int64(len(l)), strings.NewReader(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.finish([]byte(`{}`), func(string) (string, string) { return "n", "t" }); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(time.Unix(1, 0)) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Mode != 0o644 || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: header %+v", h.Name, h)
		}
	}
	want := "000/layer.tar 001/layer.tar 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a.json manifest.json repositories"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("members %s, want %s", got, want)
	}
}

func TestArchiveShortLayer(t *testing.T) {
	a := newDockerArchive(io.Discard)
	if err := a.addLayer(10, strings.NewReader("short")); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
}

// TestArchiveHugeLayerHeader: a layer of 8 GiB or more does not fit a
// ustar header; the archive then uses a PAX size record, which docker and
// skopeo read.
func TestArchiveHugeLayerHeader(t *testing.T) {
	var buf bytes.Buffer
	a := newDockerArchive(&buf)
	const size = 9 << 30
	if err := a.header(layerMember(0), size); err != nil {
		t.Fatal(err)
	}
	a.tw.Flush() // the header only: the 9 GiB of data are not written
	h, err := tar.NewReader(&buf).Next()
	if err != nil || h.Size != size || h.Name != "000/layer.tar" {
		t.Fatalf("header %+v, %v", h, err)
	}
}
