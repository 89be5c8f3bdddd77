package layerstream

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

func build(t *testing.T, layers []string, config string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i, l := range layers {
		if _, err := w.WriteLayer(int64(len(l)), LayerInfo{Paths: []string{"/p" + string(rune('a'+i))}}, strings.NewReader(l)); err != nil {
			t.Fatal(err)
		}
	}
	if config != "" {
		if err := w.Config([]byte(config)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(data []byte, verify bool) ([]string, *Reader, error) {
	r := NewReader(bytes.NewReader(data), Options{Verify: verify})
	var got []string
	for {
		l, err := r.Next()
		if err == io.EOF {
			return got, r, nil
		}
		if err != nil {
			return got, r, err
		}
		b, err := io.ReadAll(l)
		if err != nil {
			return got, r, err
		}
		got = append(got, string(b))
	}
}

func TestRoundTrip(t *testing.T) {
	data := build(t, []string{"one", "", "three"}, `{"a":1}`)
	if !bytes.Equal(data, build(t, []string{"one", "", "three"}, `{"a":1}`)) {
		t.Fatal("the same layers gave different bytes")
	}
	got, r, err := readAll(data, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "one||three" {
		t.Fatalf("layers %q", got)
	}
	tr := r.Trailer()
	if len(tr.Layers) != 3 || tr.Layers[0].DiffID != "sha256:7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed" || tr.Layers[2].Paths[0] != "/pc" {
		t.Fatalf("trailer %+v", tr)
	}
	if string(r.Config()) != `{"a":1}` {
		t.Fatalf("config %q", r.Config())
	}
}

func TestWriterRefusesWrongSize(t *testing.T) {
	w := NewWriter(io.Discard)
	if _, err := w.WriteLayer(5, LayerInfo{}, strings.NewReader("abc")); !errors.Is(err, errdefs.ErrChanged) {
		t.Fatalf("short layer: %v", err)
	}
	w = NewWriter(io.Discard)
	lw, _ := w.BeginLayer(2)
	if _, err := lw.Write([]byte("abc")); !errors.Is(err, errdefs.ErrChanged) {
		t.Fatalf("long layer: %v", err)
	}
}

// rewrite rebuilds a stream applying edit to each member.
func rewrite(t *testing.T, data []byte, edit func(h *tar.Header, body []byte) (*tar.Header, []byte)) []byte {
	tr := tar.NewReader(bytes.NewReader(data))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		body, _ := io.ReadAll(tr)
		h, body = edit(h, body)
		if h == nil {
			continue
		}
		h.Size = int64(len(body))
		tw.WriteHeader(h)
		tw.Write(body)
	}
	tw.Close()
	return out.Bytes()
}

func TestReaderRefuses(t *testing.T) {
	good := build(t, []string{"one", "two"}, "")
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"Empty", nil, errdefs.ErrInvalidInput},
		{"NoTrailer", rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == TrailerMember {
				return nil, nil
			}
			return h, b
		}), errdefs.ErrInvalidInput},
		{"TamperedLayer", rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == MemberName(1) {
				return h, []byte("TWO")
			}
			return h, b
		}), errdefs.ErrDigestMismatch},
		{"WrongSize", rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == MemberName(1) {
				return h, []byte("three")
			}
			return h, b
		}), errdefs.ErrInvalidInput},
		{"OutOfOrder", rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == MemberName(0) {
				h.Name = MemberName(1)
			} else if h.Name == MemberName(1) {
				h.Name = MemberName(0)
			}
			return h, b
		}), errdefs.ErrInvalidInput},
		{"StrangeMember", rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == MemberName(0) {
				h.Name = "../etc/passwd"
			}
			return h, b
		}), errdefs.ErrInvalidInput},
		{"BadTrailer", rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == TrailerMember {
				return h, []byte("{")
			}
			return h, b
		}), errdefs.ErrInvalidInput},
		{"Truncated", good[:1024+512], errdefs.ErrInvalidInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := readAll(c.data, true)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestBeginLayerHashed: a layer whose digest the caller computed elsewhere
// makes the same stream as one hashed as it passes; a digest that is no
// sha256 is refused.
func TestBeginLayerHashed(t *testing.T) {
	want := build(t, []string{"abc", "defg"}, "")
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i, l := range []string{"abc", "defg"} {
		lw, err := w.BeginLayerHashed(int64(len(l)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lw.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(l))
		info := LayerInfo{Paths: []string{"/p" + string(rune('a'+i))}, DiffID: "sha256:" + hex.EncodeToString(sum[:])}
		if _, err := lw.Close(info); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("the stream differs from one hashed as it passed:\n%q\nwant\n%q", buf.Bytes(), want)
	}
	lw, err := NewWriter(io.Discard).BeginLayerHashed(1)
	if err != nil {
		t.Fatal(err)
	}
	lw.Write([]byte("x"))
	if _, err := lw.Close(LayerInfo{DiffID: "sha256:12"}); !errors.Is(err, errdefs.ErrInvalidInput) {
		t.Fatalf("Close with a bad digest: %v, want ErrInvalidInput", err)
	}
}
