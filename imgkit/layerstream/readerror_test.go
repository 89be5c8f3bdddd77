package layerstream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// errSource is what a source fails with: an I/O error, or the cancelled
// context of a tool's ContextReader (SIGINT, SIGTERM, SIGHUP).
var errSource = errors.New("source failed")

// failingAt reads data up to off bytes, then fails with errSource.
type failingAt struct {
	r   *bytes.Reader
	off int64
}

func (f *failingAt) Read(p []byte) (int, error) {
	left := f.off - (f.r.Size() - int64(f.r.Len()))
	if left <= 0 {
		return 0, errSource
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	return f.r.Read(p)
}

// TestReadErrorsKept: a source that fails at any point of a stream (a
// member's header, its padding, the config, a reference, the trailer) is
// reported as its own error, which the caller can tell (a cancelled read
// is "interrupted"), not as a malformed stream: a signal at the wrong
// moment made manifest-gen say "layer stream: context canceled: invalid
// input".
func TestReadErrorsKept(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if _, err := w.WriteLayer(3, LayerInfo{Paths: []string{"/pa"}}, bytes.NewReader([]byte("abc"))); err != nil {
		t.Fatal(err)
	}
	ref := Ref{DiffID: "sha256:" + string(bytes.Repeat([]byte("a"), 64)), Size: 5,
		Blobs: []Blob{{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: "sha256:" + string(bytes.Repeat([]byte("b"), 64)), Size: 5}}}
	if _, err := w.WriteRef(ref, LayerInfo{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Config([]byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for off := int64(0); off < int64(len(data)); off++ {
		// A small buffer of its own: the Reader's default takes 1 MiB.
		r := NewReader(bufio.NewReaderSize(&failingAt{r: bytes.NewReader(data), off: off}, 16), Options{Verify: true})
		var err error
		for err == nil {
			var l *Layer
			if l, err = r.Next(); err == nil {
				_, err = io.Copy(io.Discard, l)
			}
		}
		if !errors.Is(err, errSource) || errors.Is(err, errdefs.ErrInvalidInput) {
			t.Fatalf("source failing after %d of %d bytes: got %v, want the source's error, not invalid input", off, len(data), err)
		}
	}
}
