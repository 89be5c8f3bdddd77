package rootfs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/testkit"
)

// TestBrokenLayersAreInvalidInput: a layer that is not a whole tar is
// invalid input for Unpack and StorePaths, named where it breaks, like
// tar-merge says it (FuzzUnpack found a layer of one byte, "0", refused
// with a bare "unexpected EOF").
func TestBrokenLayersAreInvalidInput(t *testing.T) {
	var whole bytes.Buffer
	must(t, testkit.MakeTar(strings.NewReader(spec("d 0755 0:0 etc/", "f 0644 0:0 etc/big size=4000")), &whole, testkit.TarOptions{Format: "ustar"}))
	corrupt := bytes.Clone(whole.Bytes())
	corrupt[512+148] ^= 1 // the second header's checksum
	for _, tc := range []struct {
		name  string
		layer []byte
		msg   string
	}{
		{"OneByte", []byte("0"), "truncated at its first entry"},
		{"TruncatedInAHeader", whole.Bytes()[:512+100], `truncated in or after entry "etc/"`},
		{"TruncatedInData", whole.Bytes()[:3*512], "the layer ends 512 bytes into a file of 4000"},
		{"CorruptHeader", corrupt, `corrupt tar header in or after entry "etc/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "layer.tar")
			must(t, os.WriteFile(file, tc.layer, 0o644))
			img := openImage(t, dir, []string{file})
			root := filepath.Join(dir, "root")
			must(t, os.Mkdir(root, 0o700))
			_, err := Unpack(context.Background(), img, root, UnpackOptions{})
			if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Unpack: %v, want invalid input saying %q", err, tc.msg)
			}
			if strings.HasPrefix(tc.msg, "the layer ends") {
				return // StorePaths does not read file data
			}
			_, err = StorePaths(context.Background(), img, "/nix/store", tarsafe.Options{})
			if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("StorePaths: %v, want invalid input saying %q", err, tc.msg)
			}
		})
	}
}
