package layerstream

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

var testRef = Ref{
	DiffID: "sha256:" + strings.Repeat("a", 64),
	Size:   10240,
	Blobs:  []Blob{{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: "sha256:" + strings.Repeat("b", 64), Size: 321}},
}

// buildWithRef writes "one", a reference (through WriteRef, or through a
// LayerWriter closed without bytes when lazy), then "three".
func buildWithRef(t *testing.T, lazy bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if _, err := w.WriteLayer(3, LayerInfo{}, strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	info := LayerInfo{Paths: []string{"/s/b"}}
	if lazy {
		lw, err := w.BeginLayer(0)
		if err != nil {
			t.Fatal(err)
		}
		info.DiffID, info.Size, info.Blobs = testRef.DiffID, testRef.Size, testRef.Blobs
		if _, err := lw.Close(info); err != nil {
			t.Fatal(err)
		}
	} else if _, err := w.WriteRef(testRef, info); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteLayer(5, LayerInfo{}, strings.NewReader("three")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRefRoundTrip(t *testing.T) {
	eager, lazy := buildWithRef(t, false), buildWithRef(t, true)
	if !bytes.Equal(eager, lazy) {
		t.Fatal("WriteRef and a LayerWriter closed as a reference wrote different streams")
	}
	r := NewReader(bytes.NewReader(eager), Options{Verify: true})
	var refs []*Ref
	var sizes []int64
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(l); l.Ref != nil && len(b) != 0 {
			t.Fatalf("a reference layer gave %d bytes", len(b))
		}
		refs = append(refs, l.Ref)
		sizes = append(sizes, l.Size)
	}
	if refs[0] != nil || refs[2] != nil || refs[1] == nil || refs[1].DiffID != testRef.DiffID || sizes[1] != testRef.Size {
		t.Fatalf("refs %v sizes %v", refs, sizes)
	}
	tr := r.Trailer()
	if tr.Version != RefVersion || len(tr.Layers[1].Blobs) != 1 || tr.Layers[1].Paths[0] != "/s/b" || tr.Layers[0].Blobs != nil {
		t.Fatalf("trailer %+v", tr)
	}
	if b, ok := refs[1].Blob(testRef.Blobs[0].MediaType); !ok || b != testRef.Blobs[0] {
		t.Fatalf("Blob: %v %v", b, ok)
	}
}

func TestStreamWithoutRefsStaysVersion1(t *testing.T) {
	_, r, err := readAll(build(t, []string{"a"}, ""), false)
	if err != nil || r.Trailer().Version != Version {
		t.Fatalf("%v %+v", err, r.Trailer())
	}
}

func TestWriteRefRefuses(t *testing.T) {
	for name, ref := range map[string]Ref{
		"NoBlobs":      {DiffID: testRef.DiffID, Size: 1},
		"BadDiffID":    {DiffID: "sha256:xyz", Size: 1, Blobs: testRef.Blobs},
		"BadBlob":      {DiffID: testRef.DiffID, Size: 1, Blobs: []Blob{{MediaType: "m", Digest: "md5:1"}}},
		"NegativeSize": {DiffID: testRef.DiffID, Size: -1, Blobs: testRef.Blobs},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewWriter(io.Discard).WriteRef(ref, LayerInfo{}); !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Fatalf("got %v", err)
			}
		})
	}
	// Bytes written, then Blobs at Close: a layer, not a reference; the
	// blobs are dropped.
	w := NewWriter(io.Discard)
	info, err := w.WriteLayer(1, LayerInfo{Blobs: testRef.Blobs}, strings.NewReader("x"))
	if err != nil || info.Blobs != nil {
		t.Fatalf("%+v %v", info, err)
	}
}

func TestReaderRefusesRefs(t *testing.T) {
	good := buildWithRef(t, false)
	edit := func(member string, f func([]byte) []byte) []byte {
		return rewrite(t, good, func(h *tar.Header, b []byte) (*tar.Header, []byte) {
			if h.Name == member {
				return h, f(b)
			}
			return h, b
		})
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"RefInVersion1", edit(TrailerMember, replace(`"version":2`, `"version":1`))},
		{"TrailerSaysNotRef", edit(TrailerMember, func(b []byte) []byte {
			i := bytes.Index(b, []byte(`,"blobs"`))
			j := bytes.Index(b[i:], []byte("}]")) + i + 2
			return append(append([]byte{}, b[:i]...), b[j:]...)
		})},
		{"OtherDiffID", edit(RefMemberName(1), replace(`"sha256:aaaa`, `"sha256:cccc`))},
		{"OtherBlob", edit(RefMemberName(1), replace(`"size":321`, `"size":322`))},
		{"NotJSON", edit(RefMemberName(1), func([]byte) []byte { return []byte("{") })},
		{"UnknownField", edit(RefMemberName(1), replace(`{"diff_id"`, `{"x":1,"diff_id"`))},
		{"NoBlobs", edit(RefMemberName(1), func([]byte) []byte {
			return []byte(`{"diff_id":"` + testRef.DiffID + `","size":10240,"blobs":[]}`)
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := readAll(c.data, false); !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
