package rootfs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/testkit"
)

// sparseLayer has GNU tar (PAX 1.0 sparse) archive a file "big" of size
// bytes that holds "data" at 1 MiB and holes elsewhere.
func sparseLayer(t *testing.T, dir string, size int64) string {
	t.Helper()
	testkit.Need(t, "gnutar")
	src := filepath.Join(dir, "src")
	must(t, os.MkdirAll(src, 0o755))
	f, err := os.Create(filepath.Join(src, "big"))
	must(t, err)
	must(t, f.Truncate(size))
	_, err = f.WriteAt([]byte("data"), 1<<20)
	must(t, err)
	must(t, f.Close())
	layer := filepath.Join(dir, "layer.tar")
	out, err := exec.Command("tar", "-C", src, "--sparse", "--format=posix", "--owner=0", "--group=0", "--numeric-owner", "-cf", layer, "big").CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	return layer
}

// imageWith writes an image of the layer files with opts and opens it.
func imageWith(t *testing.T, dir string, layers []string, opts testkit.ImageOptions) *archive.Image {
	t.Helper()
	f, err := os.CreateTemp(dir, "image*.tar")
	must(t, err)
	must(t, testkit.MakeImage(f, layers, opts))
	f.Close()
	a, err := archive.Open(f.Name(), nil)
	must(t, err)
	t.Cleanup(func() { a.Close() })
	return a.Images[0]
}

// TestUnpackKeepsHoles: a sparse file of 1 GiB is unpacked with its
// apparent size and its data, and with holes: a few blocks on disk.
func TestUnpackKeepsHoles(t *testing.T) {
	dir := t.TempDir()
	img := imageWith(t, dir, []string{sparseLayer(t, dir, 1<<30)}, testkit.ImageOptions{})
	root := filepath.Join(dir, "root")
	must(t, os.Mkdir(root, 0o755))
	if _, err := Unpack(context.Background(), img, root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	must(t, unix.Stat(filepath.Join(root, "big"), &st))
	if st.Size != 1<<30 {
		t.Errorf("size %d, want %d", st.Size, 1<<30)
	}
	if st.Blocks*512 > 1<<20 {
		t.Errorf("%d bytes on disk: the holes were written", st.Blocks*512)
	}
	f, err := os.Open(filepath.Join(root, "big"))
	must(t, err)
	defer f.Close()
	got := make([]byte, 8)
	_, err = f.ReadAt(got, 1<<20-2)
	must(t, err)
	if !bytes.Equal(got, []byte("\x00\x00data\x00\x00")) {
		t.Errorf("content around the data: %q", got)
	}
}

// TestUnpackRefusesBombs: a sparse file, or a compressed file, past the
// bound stops the unpacking with an error naming the layer and the entry,
// and leaves no part of that file.
func TestUnpackRefusesBombs(t *testing.T) {
	bound := tarsafe.Options{Expanded: errdefs.Bound{Max: 64 << 20, Flag: "--max-expanded-bytes"}}
	for _, tc := range []struct {
		name  string
		layer func(t *testing.T, dir string) string
		opts  testkit.ImageOptions
		entry string
	}{
		{"SparseBomb", func(t *testing.T, dir string) string { return sparseLayer(t, dir, 1<<30) }, testkit.ImageOptions{}, "big"},
		{"DecompressionBomb", func(t *testing.T, dir string) string {
			return layerFile(t, dir, spec("f 0644 0:0 zeros zeros=100000000"))
		}, testkit.ImageOptions{OCI: true, LayerCompress: "zstd"}, "zeros"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			img := imageWith(t, dir, []string{tc.layer(t, dir)}, tc.opts)
			root := filepath.Join(dir, "root")
			must(t, os.Mkdir(root, 0o755))
			_, err := Unpack(context.Background(), img, root, UnpackOptions{Tarsafe: bound})
			want := `entry "` + tc.entry + `": expands past 67108864 bytes (--max-expanded-bytes)`
			if !errors.Is(err, errdefs.ErrTooLarge) || !strings.HasPrefix(err.Error(), "layer 1 sha256:") || !strings.HasSuffix(err.Error(), want) {
				t.Fatalf("error %v, want one naming layer 1 and ending %q", err, want)
			}
			if _, err := os.Lstat(filepath.Join(root, tc.entry)); err == nil {
				t.Errorf("%s was left behind", tc.entry)
			}
		})
	}
}
