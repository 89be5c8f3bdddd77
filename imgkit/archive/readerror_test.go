package archive

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// errSource is what the archive's source fails with (an I/O error).
var errSource = errors.New("source failed")

// TestSpoolReadErrorKept: a source that fails while an archive on stdin
// is copied into the temporary file is reported as its own error, not as
// the archive's fault: it was "decompressing: source failed: invalid
// input", its cause lost, as layer streams' were before readFailed.
func TestSpoolReadErrorKept(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarOf(t, "x", strings.Repeat("layer ", 1<<18)))
	zw.Close()
	for name, in := range map[string][]byte{"gzip": gz.Bytes(), "uncompressed": tarOf(t, "x", string(make([]byte, 1<<20)))} {
		src := io.MultiReader(bytes.NewReader(in[:len(in)/2]), &failing{})
		_, err := Open("-", src)
		if !errors.Is(err, errSource) || errors.Is(err, errdefs.ErrInvalidInput) {
			t.Errorf("%s: got %v, want the source's error, not invalid input", name, err)
		}
	}
}

type failing struct{}

func (*failing) Read([]byte) (int, error) { return 0, errSource }
