package archive

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
)

// endless is an endless run of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// TestSpoolReadsNoFurtherThanTheTar: a piped archive is spooled as far as
// its tar goes: garbage where a header should be is refused there, and
// what follows the end of the archive is not copied. Before, the first
// block alone was checked and the rest copied into $TMPDIR to its end,
// which an endless input never reached before the disk was full. Here the
// inputs are cut at 64 MiB, and no more than a few MiB may be read.
func TestSpoolReadsNoFurtherThanTheTar(t *testing.T) {
	tarball := tarOf(t, "x", "content")
	header := tarball[:1024] // a header and its data's block, no end
	for _, tc := range []struct {
		name    string
		in      io.Reader
		invalid bool
	}{
		{"garbage after the first member", io.MultiReader(bytes.NewReader(header), endless('x')), true},
		{"zeros after the end of the archive", io.MultiReader(bytes.NewReader(tarball), endless(0)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &cli.CountingReader{R: io.LimitReader(tc.in, 64<<20)}
			a, err := Open("-", src)
			if a != nil {
				a.Close()
			}
			if src.N > 20<<20 {
				t.Errorf("%d bytes read, past the tar", src.N)
			}
			if tc.invalid && !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Errorf("got %v, want invalid input", err)
			}
		})
	}
}
