package compress

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestZstdWindow reads the window from frame headers: the largest of
// several frames, a skippable frame passed over, and MaxZstdWindow for
// bytes that are not zstd frames to their end.
func TestZstdWindow(t *testing.T) {
	enc := func(window int, data []byte) []byte {
		var b bytes.Buffer
		w, err := zstd.NewWriter(&b, zstd.WithWindowSize(window))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
		return b.Bytes()
	}
	data := bytes.Repeat([]byte("some layer bytes "), 100000)
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	small, big := enc(1<<16, data), enc(1<<22, data)
	for _, tc := range []struct {
		name string
		in   []byte
		want int64
	}{
		{"OneFrame", small, 1 << 16},
		{"LargestOfFrames", append(append(append([]byte{}, small...), skippable...), big...), 1 << 22},
		{"DeclaredAbove", zstdFrame(29, []byte("x")), MaxZstdWindow},
		{"Cut", big[:len(big)-1], MaxZstdWindow},
		{"TrailingBytes", append(append([]byte{}, small...), 0), MaxZstdWindow},
		{"NotZstd", []byte("hello, world"), MaxZstdWindow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ZstdWindow(bytes.NewReader(tc.in), int64(len(tc.in))); got != tc.want {
				t.Fatalf("ZstdWindow = %d, want %d", got, tc.want)
			}
		})
	}
}
