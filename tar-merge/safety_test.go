package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/imgkit/tarw"
	"dockertools.dev/testkit"
)

// layer is a test layer: a mktar spec, or raw bytes when a spec cannot
// express the attack.
type layer struct {
	spec string
	raw  []byte
}

func specLayer(lines ...string) layer { return layer{spec: strings.Join(lines, "\n") + "\n"} }

func (l layer) bytes(t *testing.T) []byte {
	if l.raw != nil {
		return l.raw
	}
	var buf bytes.Buffer
	if err := testkit.MakeTar(strings.NewReader(l.spec), &buf, testkit.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imageOfLayers writes the layers and an image of them, dir/img.tar, into
// dir, and returns the image's path.
func imageOfLayers(t *testing.T, dir string, layers []layer, opts testkit.ImageOptions) string {
	var files []string
	for i, l := range layers {
		f := filepath.Join(dir, "layer"+string(rune('0'+i))+".tar")
		if err := os.WriteFile(f, l.bytes(t), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	img := filepath.Join(dir, "img.tar")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testkit.MakeImage(f, files, opts); err != nil {
		t.Fatal(err)
	}
	return img
}

// rawHeader returns a tar holding one header h and then body, with no
// end-of-archive marker: a header that lies about what follows.
func rawHeader(t *testing.T, h *tar.Header, body []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), body...)
}

// truncated is a valid layer cut in the middle of a file's data.
func truncated(t *testing.T) []byte {
	full := specLayer("f 0644 0:0 big size=100000").bytes(t)
	return full[:512+50000]
}

// unknownType is a layer whose one entry has type flag 'V' (a GNU volume
// header): the header's checksum is recomputed after the flag changes.
func unknownType(t *testing.T) []byte {
	b := specLayer("f 0644 0:0 vol \"\"").bytes(t)
	b[156] = 'V'
	var sum int64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	copy(b[148:156], []byte(octal6(sum)+"\x00 "))
	return b
}

// sparseLayer is a layer of one sparse file of size bytes (PAX 1.0) whose
// map claims claimed bytes of data at its start while it stores stored.
func sparseLayer(t *testing.T, name string, size, claimed, stored int64) []byte {
	b, err := tarw.Python.AppendSparse(nil, &tarw.Header{Name: name, Type: tarw.TypeReg, Mode: 0o644, Size: size}, tarw.Sparse{Data: []tarw.Fragment{{Offset: 0, Length: stored}}})
	if err != nil {
		t.Fatal(err)
	}
	if claimed != stored {
		b = bytes.Replace(b, []byte(fmt.Sprintf("\n0\n%d\n", stored)), []byte(fmt.Sprintf("\n0\n%d\n", claimed)), 1)
	}
	b = tarw.AppendPadding(append(b, make([]byte, stored)...), stored)
	return tarw.AppendEnd(b, int64(len(b)))
}

func octal6(v int64) string {
	s := ""
	for i := 0; i < 6; i++ {
		s = string(rune('0'+v%8)) + s
		v /= 8
	}
	return s
}

// flattenImage builds an image of layers in dir and runs tar-merge
// --flatten -o out on it.
func flattenImage(t *testing.T, dir string, layers []layer, opts testkit.ImageOptions, allowDevices bool) (string, error) {
	img := imageOfLayers(t, dir, layers, opts)
	out := filepath.Join(dir, "out", "rootfs.tar")
	os.Mkdir(filepath.Dir(out), 0o755)
	c := &command{Flatten: true, Output: out, Compressor: "none", Images: []string{img}, AllowDevices: allowDevices, MaxExpanded: tarsafe.DefaultMaxExpanded}
	var stderr bytes.Buffer
	err := c.Run(context.Background(), &cli.IO{Stdout: &bytes.Buffer{}, Stderr: &stderr, Tool: "tar-merge"})
	return out, err
}

func TestUnsafeLayersAreRefused(t *testing.T) {
	base := specLayer("d 0755 0:0 etc/", "f 0644 0:0 etc/passwd \"root\"")
	for _, tc := range []struct {
		name   string
		layers []layer
		opts   testkit.ImageOptions
		want   error
		msg    string // what the error must say after "layer N sha256:…: "
	}{
		{"DotDotEscape", []layer{base, specLayer("f 0644 0:0 ../../etc/passwd \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 2 sha256:[0-9a-f]{12}: unsafe entry "\.\./\.\./etc/passwd": leaves the root`},
		{"AbsoluteDotDot", []layer{specLayer("f 0644 0:0 /../etc/passwd \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 1 sha256:[0-9a-f]{12}: unsafe entry "/\.\./etc/passwd": leaves the root`},
		{"SymlinkAbsoluteAsParent", []layer{base, specLayer("l 0777 0:0 evil /etc"), specLayer("f 0644 0:0 evil/passwd \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 3 sha256:[0-9a-f]{12}: unsafe entry "evil/passwd": its parent "evil" is a symlink`},
		{"SymlinkRelativeAsParent", []layer{specLayer("l 0777 0:0 up ../../../../tmp", "f 0644 0:0 up/x \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 1 sha256:[0-9a-f]{12}: unsafe entry "up/x": its parent "up" is a symlink`},
		{"SymlinkInsideAsParent", []layer{base, specLayer("l 0777 0:0 e etc", "f 0644 0:0 e/shadow \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `unsafe entry "e/shadow": its parent "e" is a symlink`},
		{"HardlinkOutside", []layer{specLayer("h 0644 0:0 x ../../etc/shadow")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 1 sha256:[0-9a-f]{12}: unsafe entry "x": hardlink to "\.\./\.\./etc/shadow", outside the root`},
		{"HardlinkNotYetSeen", []layer{specLayer("h 0644 0:0 x later", "f 0644 0:0 later \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `unsafe entry "x": hardlink to "later", which does not exist \(yet\)`},
		{"HardlinkThroughSymlink", []layer{base, specLayer("l 0777 0:0 e /etc", "h 0644 0:0 x e/passwd")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `unsafe entry "x": hardlink to "e/passwd", which does not exist`},
		{"HardlinkWhitedOut", []layer{base, specLayer("f 0644 0:0 etc/.wh.passwd \"\"", "h 0644 0:0 x etc/passwd")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 2 sha256:[0-9a-f]{12}: unsafe entry "x": hardlink to "etc/passwd", which does not exist`},
		{"WhiteoutOutsideItsDirectory", []layer{base, specLayer("f 0644 0:0 etc/.wh... \"\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 2 sha256:[0-9a-f]{12}: unsafe entry "etc/\.wh\.\.\.": whiteout names "\.\.", outside its directory`},
		{"WhiteoutOfItsOwnDirectory", []layer{base, specLayer("f 0644 0:0 etc/.wh.. \"\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `unsafe entry "etc/\.wh\.\.": whiteout names "\.", outside its directory`},
		{"WhiteoutDotDotAsParent", []layer{base, specLayer("f 0644 0:0 .wh.../x \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 2 sha256:[0-9a-f]{12}: unsafe entry "\.wh\.\.\./x": its parent "\.wh\.\.\." is named like a whiteout`},
		{"WhiteoutAsParent", []layer{base, specLayer("d 0755 0:0 ok/", "f 0644 0:0 ok/.wh.file/x \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 2 sha256:[0-9a-f]{12}: unsafe entry "ok/\.wh\.file/x": its parent "ok/\.wh\.file" is named like a whiteout`},
		{"OpaqueAsParent", []layer{base, specLayer("d 0755 0:0 d/", "f 0644 0:0 d/.wh..wh..opq/x \"x\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 2 sha256:[0-9a-f]{12}: unsafe entry "d/\.wh\.\.wh\.\.opq/x": its parent "d/\.wh\.\.wh\.\.opq" is named like a whiteout`},
		{"WhiteoutThroughSymlink", []layer{base, specLayer("l 0777 0:0 e /etc"), specLayer("f 0644 0:0 e/.wh.passwd \"\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 3 sha256:[0-9a-f]{12}: unsafe entry "e/\.wh\.passwd": its parent "e" is a symlink`},
		{"OpaqueThroughSymlink", []layer{base, specLayer("l 0777 0:0 e /etc"), specLayer("f 0644 0:0 e/.wh..wh..opq \"\"")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `unsafe entry "e/\.wh\.\.wh\.\.opq": its parent "e" is a symlink`},
		{"CharDevice", []layer{specLayer("d 0755 0:0 dev/", "c 0666 0:0 dev/mem 1:1")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 1 sha256:[0-9a-f]{12}: unsafe entry "dev/mem": character device 1:1`},
		{"BlockDevice", []layer{specLayer("b 0660 0:0 sda 8:0")},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `unsafe entry "sda": block device 8:0`},
		{"AbsurdHeaderSize", []layer{layer{raw: rawHeader(t, &tar.Header{Name: "huge", Typeflag: tar.TypeReg, Size: 1 << 45, Mode: 0o644}, make([]byte, 4096))}},
			testkit.ImageOptions{}, errdefs.ErrInvalidInput, `layer 1 sha256:[0-9a-f]{12}: entry "huge": size 35184372088832 is absurd`},
		{"TruncatedLayer", []layer{base, layer{raw: truncated(t)}},
			testkit.ImageOptions{LayerCompress: "gzip"}, errdefs.ErrInvalidInput, `layer 2 sha256:[0-9a-f]{12}: truncated in or after entry "big"`},
		{"DigestMismatch", []layer{base, specLayer("f 0644 0:0 a \"a\"")},
			testkit.ImageOptions{BadDiffID: 2}, errdefs.ErrDigestMismatch, `layer 2 sha256:000000000000: content of "001/layer.tar" hashes to sha256:[0-9a-f]{64}, not the diff_id`},
		{"DigestMismatchOCI", []layer{base, specLayer("f 0644 0:0 a \"a\"")},
			testkit.ImageOptions{OCI: true, BadDiffID: 1, LayerCompress: "zstd"}, errdefs.ErrDigestMismatch, `layer 1 sha256:000000000000: content of "blobs/sha256/[0-9a-f]{64}" hashes to`},
		{"SparseBomb", []layer{base, layer{raw: sparseLayer(t, "big", 1<<40, 512, 512)}},
			testkit.ImageOptions{}, errdefs.ErrTooLarge, `^layer 2 sha256:[0-9a-f]{12}: entry "big": expands past 68719476736 bytes \(--max-expanded-bytes\)$`},
		{"SparseMapLies", []layer{layer{raw: sparseLayer(t, "liar", 4096, 999, 512)}},
			testkit.ImageOptions{}, errdefs.ErrInvalidInput, `^layer 1 sha256:[0-9a-f]{12}: entry "liar": sparse file \(PAX 1\.0\): its map holds 999 bytes of data, but it stores 512$`},
		{"XzDictionaryBomb", []layer{base, layer{raw: testkit.XzStream(4, testkit.XzBlock{Dict: 40, Data: specLayer("f 0644 0:0 a \"a\"").bytes(t)})}},
			testkit.ImageOptions{}, errdefs.ErrTooLarge, `^layer 2 sha256:[0-9a-f]{12}: decompressing "001/layer.tar": an xz block needs a dictionary of more than 134217728 bytes: too large$`},
		{"UnknownTypeFlag", []layer{layer{raw: unknownType(t)}},
			testkit.ImageOptions{}, errdefs.ErrUnsafeEntry, `layer 1 sha256:[0-9a-f]{12}: unsafe entry "vol": unknown type flag 'V'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, err := flattenImage(t, dir, tc.layers, tc.opts, false)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.want)
			}
			if !matches(tc.msg, err.Error()) {
				t.Fatalf("error %q does not match %q", err, tc.msg)
			}
			// Every refusal names its layer first, whatever else it says.
			if !matches(`^layer [1-9][0-9]* sha256:[0-9a-f]{12}: `, err.Error()) {
				t.Fatalf("error %q does not start with the layer", err)
			}
			left, _ := os.ReadDir(filepath.Dir(out))
			if len(left) != 0 {
				t.Fatalf("the failed run left %d files, first %s", len(left), left[0].Name())
			}
		})
	}
}

func TestDevicesAllowedOnRequest(t *testing.T) {
	dir := t.TempDir()
	out, err := flattenImage(t, dir, []layer{specLayer("d 0755 0:0 dev/", "c 0666 0:0 dev/null 1:3")}, testkit.ImageOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	var list bytes.Buffer
	if err := testkit.ListTar(f, &list, testkit.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), "c 0666 0:0 1,3 ./dev/null\n") {
		t.Fatalf("no device in the output:\n%s", list.String())
	}
}

func matches(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
