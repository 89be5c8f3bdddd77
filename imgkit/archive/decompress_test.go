package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// TestOpenCorruptZstdSaysItOnce: an archive whose zstd frame the decoder
// refuses is refused with the decoder's cause and "invalid input" once.
// Before, the decoder's own verdict ("invalid input: reserved block type
// encountered") had decompressError's after it: "decompressing: invalid
// input: reserved block type encountered: invalid input".
func TestOpenCorruptZstdSaysItOnce(t *testing.T) {
	f := filepath.Join(t.TempDir(), "image.tar.zst")
	if err := os.WriteFile(f, []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(f, nil)
	if !errors.Is(err, errdefs.ErrInvalidInput) || strings.Count(err.Error(), "invalid input") != 1 || !strings.HasSuffix(err.Error(), ": decompressing: reserved block type encountered: invalid input") {
		t.Fatalf("error %v, want the decoder's cause and invalid input once", err)
	}
}
