package tarw

import (
	"bytes"
	"testing"
)

// TestPaddingIsZeros: the padding after file data and the end of an archive
// (up to two blocks and a record's padding, more than a block) are exactly
// as many NUL bytes as the tar needs, appended after what dst holds,
// whatever the spare capacity of dst held before.
func TestPaddingIsZeros(t *testing.T) {
	for _, c := range []struct {
		name   string
		append func([]byte) []byte
		want   int
	}{
		{"padding of 1 byte", func(b []byte) []byte { return AppendPadding(b, 1) }, BlockSize - 1},
		{"padding of a block", func(b []byte) []byte { return AppendPadding(b, BlockSize) }, 0},
		{"padding of 1000 bytes", func(b []byte) []byte { return AppendPadding(b, 1000) }, 24},
		{"end after one block", func(b []byte) []byte { return AppendEnd(b, BlockSize) }, 10240 - BlockSize},
		{"end after a record", func(b []byte) []byte { return AppendEnd(b, 10240) }, 10240},
	} {
		dirty := bytes.Repeat([]byte{0xff}, 3*10240)
		got := c.append(dirty[:3])
		if len(got) != 3+c.want {
			t.Errorf("%s: %d bytes appended, want %d", c.name, len(got)-3, c.want)
			continue
		}
		if !bytes.Equal(got[:3], []byte{0xff, 0xff, 0xff}) || !bytes.Equal(got[3:], make([]byte, c.want)) {
			t.Errorf("%s: appended bytes are not all NUL, or what dst held changed", c.name)
		}
	}
}
