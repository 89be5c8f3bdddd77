package rootfs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// FuzzReadSnapshot: a snapshot file ReadSnapshot accepts (layer-pack
// --changes reads one a run-as-root step left) has a root directory and
// only entries of directories, and writes back to bytes that read the
// same; anything refused is one line wrapping ErrInvalidInput.
func FuzzReadSnapshot(f *testing.F) {
	for _, fx := range testkit.FixturesNamed(f, "snap.txt") {
		f.Add(fx.Data)
	}
	for i, fx := range testkit.FixtureTars(f) {
		if i%8 != 0 {
			continue // a few snapshots of unpacked fixtures
		}
		a, err := archive.Open(testkit.LayerImage(f, fx.Data, nil), nil)
		if err != nil {
			f.Fatal(err)
		}
		root := filepath.Join(f.TempDir(), "root")
		if err := os.Mkdir(root, 0o700); err != nil {
			f.Fatal(err)
		}
		snap, err := Unpack(context.Background(), a.Images[0], root, UnpackOptions{})
		a.Close()
		if err != nil {
			continue
		}
		var b bytes.Buffer
		snap.WriteTo(&b)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		if r := s.Lookup(""); r == nil || !r.IsDir() {
			t.Fatal("accepted without a root directory")
		}
		var out bytes.Buffer
		if _, err := s.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		back, err := ReadSnapshot(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("written as\n%s\nit does not read back: %v", out.Bytes(), err)
		}
		var again bytes.Buffer
		back.WriteTo(&again)
		if !bytes.Equal(again.Bytes(), out.Bytes()) || back.Len() != s.Len() {
			t.Fatalf("written as\n%s\nthen as\n%s", out.Bytes(), again.Bytes())
		}
		for p := range s.recs {
			if p != "" {
				if dir, _ := splitPath(p); s.Lookup(dir) == nil || !s.Lookup(dir).IsDir() {
					t.Fatalf("%q accepted in %q, which is not a directory of the snapshot", p, dir)
				}
			}
		}
	})
}
