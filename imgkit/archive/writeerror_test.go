package archive

import (
	"errors"
	"strings"
	"testing"
)

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

var errFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

// TestMemberWriteErrorNamedOnce: a write that fails in a blob's or a
// layer's member says "writing MEMBER" once, wherever it fails (the
// header, the bytes, the padding). manifest-gen --format oci > /dev/full
// said "writing blobs/sha256/…: writing blobs/sha256/…: …".
func TestMemberWriteErrorNamedOnce(t *testing.T) {
	const digest = "sha256:a5351a9abc420d764c63f4ef45938e5df775c6fc12f9a87bfb0dd29f249857cc"
	name := "blobs/sha256/" + strings.TrimPrefix(digest, "sha256:")
	// 1024 bytes: the two directory headers. Then the blob's header
	// (fails at once), its bytes (after 512), its padding (after 512+10).
	for _, after := range []int{1024, 1024 + 512, 1024 + 512 + 10} {
		err := NewLayoutWriter(&failAfter{after}).Blob(digest, 10, strings.NewReader("0123456789"))
		if err == nil || strings.Count(err.Error(), "writing "+name) != 1 || !errors.Is(err, errFull) {
			t.Errorf("blob, failing after %d bytes: %v, want %q named once, wrapping %v", after, err, name, errFull)
		}
	}
	for _, after := range []int{0, 512, 512 + 10} {
		_, err := NewWriter(&failAfter{after}).AddLayer(10, strings.NewReader("0123456789"))
		if err == nil || strings.Count(err.Error(), "writing 000/layer.tar") != 1 || !errors.Is(err, errFull) {
			t.Errorf("layer, failing after %d bytes: %v, want %q named once, wrapping %v", after, err, "000/layer.tar", errFull)
		}
	}
}
