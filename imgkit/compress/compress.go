// Package compress recognises and undoes the compressions image archives
// arrive in (gzip, zstd, xz, bzip2), and writes the ones we produce. What
// a decoder holds is bounded whatever the input declares: a zstd window
// (MaxZstdWindow) or an xz block's dictionary (MaxXzDict, xz.go reads the
// xz container itself to check each block) past 128 MiB is refused.
package compress

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"dockertools.dev/imgkit/errdefs"
)

// Kind names a compression.
type Kind string

// The compressions we recognise. None is an uncompressed stream.
const (
	None  Kind = "none"
	Gzip  Kind = "gzip"
	Zstd  Kind = "zstd"
	Xz    Kind = "xz"
	Bzip2 Kind = "bzip2"
)

var magics = []struct {
	kind  Kind
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{Xz, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Bzip2, []byte("BZh")},
}

// Detect names the compression whose magic number starts prefix.
func Detect(prefix []byte) Kind {
	for _, m := range magics {
		if bytes.HasPrefix(prefix, m.magic) {
			return m.kind
		}
	}
	return None
}

// NewReader returns a reader of r's decompressed bytes, recognising the
// compression from its first bytes. Close releases decoder resources; it
// does not close r.
func NewReader(r io.Reader) (io.ReadCloser, Kind, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	prefix, err := br.Peek(6)
	if err != nil && err != io.EOF {
		return nil, None, err
	}
	kind := Detect(prefix)
	rc, err := Decompress(br, kind)
	return rc, kind, err
}

// Decompress returns a reader of r decompressed as kind.
func Decompress(r io.Reader, kind Kind) (io.ReadCloser, error) {
	switch kind {
	case None:
		return io.NopCloser(r), nil
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, decodeError(Gzip, err)
		}
		return zr, nil
	case Zstd:
		return NewZstdReader(r)
	case Xz:
		return NewXzReader(r)
	case Bzip2:
		return io.NopCloser(bzip2.NewReader(r)), nil
	}
	return nil, fmt.Errorf("unknown compression %q: %w", kind, errdefs.ErrInvalidInput)
}

// MaxZstdWindow is the largest zstd window accepted (the history a frame
// may refer back to, which the decoder holds in memory): 128 MiB, what the
// reference zstd decoder accepts without --memory and the most zstd --long
// or --ultra -22 write. The library's default, 512 MiB, let a layer of a
// few kilobytes take half a gigabyte while it was read, for each layer
// read at once.
const MaxZstdWindow = 128 << 20

// NewZstdReader returns a zstd decoder of r with opts, refusing a frame
// whose window passes MaxZstdWindow with an error wrapping
// errdefs.ErrTooLarge. Close releases the decoder; it does not close r.
func NewZstdReader(r io.Reader, opts ...zstd.DOption) (io.ReadCloser, error) {
	opts = append([]zstd.DOption{zstd.WithDecoderMaxWindow(MaxZstdWindow)}, opts...)
	zr, err := zstd.NewReader(r, opts...)
	if err != nil {
		return nil, decodeError(Zstd, err)
	}
	return zstdReader{zr.IOReadCloser()}, nil
}

type zstdReader struct{ io.ReadCloser }

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.ReadCloser.Read(p)
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		err = fmt.Errorf("a zstd frame needs a window of more than %d bytes: %w", MaxZstdWindow, errdefs.ErrTooLarge)
	case err != nil && strings.HasPrefix(err.Error(), zstdInvalid):
		// The decoder's verdicts on its input ("invalid input: magic
		// number mismatch") as errdefs.ErrInvalidInput, said once:
		// a caller adding it said "invalid input" twice.
		err = fmt.Errorf("%s: %w", strings.TrimPrefix(err.Error(), zstdInvalid), errdefs.ErrInvalidInput)
	}
	return n, err
}

// zstdInvalid begins the zstd decoder's errors about its input.
const zstdInvalid = "invalid input: "

// decodeError is err, a decoder of kind's refusal of its input's first
// bytes, as "KIND: cause" wrapping errdefs.ErrInvalidInput. The decoders'
// own messages may name their format ("gzip: invalid header") or the
// verdict ("invalid input: magic number mismatch"), which is said once:
// a layer that was not gzip was "gzip: gzip: invalid header".
func decodeError(kind Kind, err error) error {
	cause := strings.TrimPrefix(strings.TrimPrefix(err.Error(), string(kind)+": "), zstdInvalid)
	return fmt.Errorf("%s: %s: %w", kind, cause, errdefs.ErrInvalidInput)
}

// Bounded returns a reader of r that fails with b.Past() (wrapping
// errdefs.ErrTooLarge) once more than b.Max bytes came through it; b.Max
// of 0 or less sets no bound. Put it after a decompressor: a few kilobytes
// of gzip or zstd can expand to terabytes.
func Bounded(r io.Reader, b errdefs.Bound) io.Reader {
	if b.Max <= 0 {
		return r
	}
	return &bounded{r: r, b: b}
}

type bounded struct {
	r io.Reader
	b errdefs.Bound
	n int64
}

func (l *bounded) Read(p []byte) (int, error) {
	// Read at most one byte past the bound: enough to know it was
	// passed when the stream goes on.
	room := l.b.Max - l.n + 1
	if room <= 0 {
		return 0, l.b.Past()
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.b.Max {
		return n, l.b.Past()
	}
	return n, err
}
