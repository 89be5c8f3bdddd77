package compress

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"dockertools.dev/imgkit/errdefs"
)

// UnmarshalText reads a flag value naming a compression NewWriter writes
// (the tools' --compressor and --layer-compression are Kinds, parsed by
// kong through this method): none, gz (nixpkgs' name) or gzip, zstd.
func (k *Kind) UnmarshalText(text []byte) error {
	switch string(text) {
	case "none":
		*k = None
	case "gz", "gzip":
		*k = Gzip
	case "zstd":
		*k = Zstd
	default:
		return fmt.Errorf("%q is not one of none, gz (gzip), zstd", text)
	}
	return nil
}

// zstdConcurrency is fixed so the encoder's setup never depends on the
// machine. (klauspost's stream encoder gives the same bytes at any
// concurrency, but its README reserves the right to change that default.)
const zstdConcurrency = 2

// NewWriter returns a deterministic compressor writing to w: the same input
// gives the same bytes on any machine, whatever the sizes of the Write
// calls. gzip has no file name, no modification time and OS byte 255
// (unknown), at the default level; zstd uses the default level, one frame
// with its content checksum. None passes bytes through. Close flushes the
// compressor; it does not close w.
//
// The bytes are stable for one version of klauspost/compress, not across
// versions, and differ from pigz's (nixpkgs' gz): compare uncompressed
// content, as reference §8 says.
func NewWriter(w io.Writer, kind Kind) (io.WriteCloser, error) {
	switch kind {
	case None:
		return nopCloser{w}, nil
	case Gzip:
		zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if err != nil {
			return nil, err
		}
		zw.Header = gzip.Header{OS: 255}
		return zw, nil
	case Zstd:
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(zstdConcurrency),
			zstd.WithEncoderCRC(true),
		)
	}
	return nil, fmt.Errorf("cannot write %s: %w", kind, errdefs.ErrInvalidInput)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Unwrap lets kcopy.CopyN write to w directly: None passes bytes through.
func (n nopCloser) Unwrap() io.Writer { return n.Writer }
