package compress

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// zstdFrame is one zstd frame holding data as a raw block, whose header
// declares a window of 1<<windowLog bytes (RFC 8878, 3.1.1): a few bytes
// that make a decoder hold that much history.
func zstdFrame(windowLog int, data []byte) []byte {
	f := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, byte(windowLog-10) << 3}
	h := 1 | len(data)<<3 // last block, raw
	f = append(f, byte(h), byte(h>>8), byte(h>>16))
	return append(f, data...)
}

// TestZstdWindowBound: a frame declaring a window above MaxZstdWindow
// (512 MiB, the library's default limit) is refused as too large; one of
// 128 MiB, the most zstd --long writes, is read.
func TestZstdWindowBound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		windowLog int
		fail      bool
	}{
		{"128MiB", 27, false},
		{"256MiB", 28, true},
		{"512MiB", 29, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, kind, err := NewReader(bytes.NewReader(zstdFrame(tc.windowLog, []byte("hello"))))
			if err != nil || kind != Zstd {
				t.Fatalf("NewReader: %v, %s", err, kind)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			switch {
			case tc.fail && (!errors.Is(err, errdefs.ErrTooLarge) || err.Error() != "a zstd frame needs a window of more than 134217728 bytes: too large"):
				t.Fatalf("read %q, %v; want the window refused", got, err)
			case !tc.fail && (err != nil || string(got) != "hello"):
				t.Fatalf("read %q, %v", got, err)
			}
		})
	}
}
