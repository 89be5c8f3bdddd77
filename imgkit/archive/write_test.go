package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriterHeaders checks what tarls does not show: every member has
// mtime 1, owner 0:0 without names, mode 0644, and the layers keep their
// bytes.
func TestWriterHeaders(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var layers []string
	for _, l := range []string{"first", "second layer"} {
		name, err := w.AddLayer(int64(len(l)), strings.NewReader(l))
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, name)
	}
	if err := w.AddImage([]byte(`{}`), []string{"n:t"}, layers); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range headers(t, buf.Bytes()) {
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

func TestWriterShortLayer(t *testing.T) {
	w := NewWriter(io.Discard)
	if _, err := w.AddLayer(10, strings.NewReader("short")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
}

// TestWriterHugeLayerHeader: a layer of 8 GiB or more does not fit a
// ustar header; the archive then uses a PAX size record, which docker and
// skopeo read.
func TestWriterHugeLayerHeader(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	const size = 9 << 30
	if err := w.header(LayerMember(0), tar.TypeReg, 0o644, size); err != nil {
		t.Fatal(err)
	}
	w.tw.Flush() // the header only: the 9 GiB of data are not written
	h, err := tar.NewReader(&buf).Next()
	if err != nil || h.Size != size || h.Name != "000/layer.tar" {
		t.Fatalf("header %+v, %v", h, err)
	}
}

// TestWriterRoundTrip: Open reads what Writer writes, two images sharing
// a layer written once: their tags, layers (verified) and repositories.
func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var members, diffIDs []string
	for _, l := range []string{"shared layer", "top layer"} {
		name, err := w.AddLayer(int64(len(l)), strings.NewReader(l))
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, name)
		diffIDs = append(diffIDs, digestOf([]byte(l)))
	}
	config := func(ids ...string) []byte {
		return []byte(`{"rootfs":{"type":"layers","diff_ids":["` + strings.Join(ids, `","`) + `"]}}`)
	}
	if err := w.AddImage(config(diffIDs[0]), []string{"localhost:5000/base:1"}, members[:1]); err != nil {
		t.Fatal(err)
	}
	if err := w.AddImage(config(diffIDs...), []string{"app:2", "app:latest"}, members); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a := openBytes(t, buf.Bytes())
	var got []string
	for _, img := range a.Images {
		var layers []string
		for _, l := range img.Layers {
			if err := l.CopyUncompressed(func(size int64, r io.Reader) error {
				_, err := io.CopyN(io.Discard, r, size)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			layers = append(layers, l.Member)
		}
		got = append(got, strings.Join(img.RepoTags, ",")+" "+strings.Join(layers, ","))
	}
	want := []string{"localhost:5000/base:1 000/layer.tar", "app:2,app:latest 000/layer.tar,001/layer.tar"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("images %q, want %q", got, want)
	}
	repos := map[string]map[string]string{"app": {"2": "001", "latest": "001"}, "localhost:5000/base": {"1": "000"}}
	if fmt.Sprint(a.Repositories) != fmt.Sprint(repos) {
		t.Errorf("repositories %v, want %v", a.Repositories, repos)
	}
}

// TestWriterFileToFileSameBytes: layers copied from files into a file
// behind a bufio.Writer (the path the kernel copies, see members) give
// the bytes of the in-memory path, with a small file written between
// them so that the tar.Writer's padding and the raw members interleave.
func TestWriterFileToFileSameBytes(t *testing.T) {
	dir := t.TempDir()
	layers := []string{"first", strings.Repeat("x", 513), ""}
	write := func(out io.Writer, open func(i int) io.Reader) {
		w := NewWriter(out)
		var names []string
		for i, l := range layers {
			name, err := w.AddLayer(int64(len(l)), open(i))
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
			if i == 0 {
				if err := w.AddImage([]byte(`{"a":1}`), []string{"a:1"}, names); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.AddImage([]byte(`{}`), []string{"n:t"}, names); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var want bytes.Buffer
	write(&want, func(i int) io.Reader { return strings.NewReader(layers[i]) })
	out, err := os.Create(filepath.Join(dir, "out.tar"))
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(out)
	write(bw, func(i int) io.Reader {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, []byte(layers[i]), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	})
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("file path wrote %d bytes, in-memory %d, and they differ", len(got), want.Len())
	}
}

// TestWriterAlignsLayers: the bytes of every layer member start at a
// multiple of LayerAlign, for layers of assorted sizes, as Open indexes
// them; the other members have no padding (no PAX records), and the
// layers read back whole.
func TestWriterAlignsLayers(t *testing.T) {
	sizes := []int{1, 511, 512, 3584, 4096, 4097, 70000, 0, 1<<20 + 3}
	f, err := os.Create(filepath.Join(t.TempDir(), "image.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := NewWriter(f)
	var layers []string
	for i, size := range sizes {
		name, err := w.AddLayer(int64(size), bytes.NewReader(bytes.Repeat([]byte{byte('a' + i)}, size)))
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, name)
	}
	if err := w.AddImage([]byte(`{"rootfs":{}}`), []string{"n:t"}, layers); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers(t, data) {
		if !strings.HasSuffix(h.Name, "/layer.tar") && len(h.PAXRecords) != 0 {
			t.Errorf("%s: PAX records %v", h.Name, h.PAXRecords)
		}
	}
	a := &Archive{f: f, size: int64(len(data))}
	if err := a.index(); err != nil {
		t.Fatal(err)
	}
	for i, size := range sizes {
		m := a.members[layers[i]]
		if m == nil || m.size != int64(size) {
			t.Fatalf("%s: member %+v", layers[i], m)
		}
		if m.off%LayerAlign != 0 {
			t.Errorf("%s (%d bytes): data at offset %d, not a multiple of %d", m.name, size, m.off, LayerAlign)
		}
		got, err := io.ReadAll(a.section(m))
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte('a' + i)}, size)) {
			t.Errorf("%s: read %d bytes, %v", m.name, len(got), err)
		}
	}
}
