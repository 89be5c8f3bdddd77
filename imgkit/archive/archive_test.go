package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// layerSpecs are two small layers in mktar's spec language.
var layerSpecs = []string{
	"d 0755 0:0 etc/\nf 0644 0:0 etc/a \"one\"\n",
	"f 0644 0:0 etc/b \"two\"\nf 0600 1:1 big size=70000\n",
}

// fixtureLayers writes the layers as tar files in dir and returns their
// paths and bytes.
func fixtureLayers(t *testing.T, dir string) ([]string, [][]byte) {
	t.Helper()
	var files []string
	var data [][]byte
	for i, spec := range layerSpecs {
		var buf bytes.Buffer
		if err := testkit.MakeTar(strings.NewReader(spec), &buf, testkit.TarOptions{}); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("layer%d.tar", i))
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		data = append(data, buf.Bytes())
	}
	return files, data
}

func makeImage(t *testing.T, dir string, layers []string, opts testkit.ImageOptions) string {
	t.Helper()
	out := filepath.Join(dir, "image.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testkit.MakeImage(f, layers, opts); err != nil {
		t.Fatal(err)
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func TestOpenReadsEveryLayout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  testkit.ImageOptions
		stdin bool
		pipe  bool // stdin is a pipe, not the file
	}{
		{"docker", testkit.ImageOptions{Tags: []string{"app:1"}}, false, false},
		{"docker-gzip-archive", testkit.ImageOptions{Tags: []string{"app:1"}, Compress: "gzip"}, false, false},
		{"docker-zstd-archive", testkit.ImageOptions{Tags: []string{"app:1"}, Compress: "zstd"}, false, false},
		{"docker-xz-archive-stdin", testkit.ImageOptions{Tags: []string{"app:1"}, Compress: "xz"}, true, false},
		{"docker-stdin", testkit.ImageOptions{Tags: []string{"app:1"}}, true, false},
		{"docker-stdin-pipe", testkit.ImageOptions{Tags: []string{"app:1"}}, true, true},
		{"docker-gzip-layers", testkit.ImageOptions{Tags: []string{"app:1"}, LayerCompress: "gzip"}, false, false},
		{"oci", testkit.ImageOptions{OCI: true, Tags: []string{"app:1"}}, false, false},
		{"oci-gzip-layers", testkit.ImageOptions{OCI: true, Tags: []string{"app:1"}, LayerCompress: "gzip"}, false, false},
		{"oci-zstd-layers-gzip-archive", testkit.ImageOptions{OCI: true, Tags: []string{"app:1"}, LayerCompress: "zstd", Compress: "gzip"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("TMPDIR", t.TempDir())
			files, data := fixtureLayers(t, dir)
			file := makeImage(t, dir, files, tc.opts)
			name, stdin := file, io.Reader(nil)
			if tc.stdin {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				name, stdin = "-", f
				if tc.pipe {
					pr, pw, err := os.Pipe()
					if err != nil {
						t.Fatal(err)
					}
					defer pr.Close()
					go func() { io.Copy(pw, f); pw.Close() }()
					stdin = pr
				}
			}
			a, err := Open(name, stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			// The spool file is unlinked at once: nothing is left in TMPDIR.
			if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
				t.Errorf("TMPDIR holds %d files", len(left))
			}
			if f, ok := stdin.(*os.File); ok && !tc.pipe && tc.opts.Compress == "" {
				// Read in place: stdin's offset is left alone.
				if off, _ := f.Seek(0, io.SeekCurrent); off != 0 {
					t.Errorf("stdin moved to %d", off)
				}
			}
			img, err := a.Find("app", "1")
			if err != nil {
				t.Fatal(err)
			}
			if len(img.Layers) != len(data) {
				t.Fatalf("%d layers, want %d", len(img.Layers), len(data))
			}
			if img.ConfigDigest != sha(img.ConfigBytes) {
				t.Errorf("ConfigDigest %s is not the config's digest", img.ConfigDigest)
			}
			for i, l := range img.Layers {
				if l.DiffID != sha(data[i]) {
					t.Errorf("layer %d: DiffID %s, want %s", i, l.DiffID, sha(data[i]))
				}
				got := readLayer(t, l)
				if !bytes.Equal(got, data[i]) {
					t.Errorf("layer %d: Open gives %d bytes that differ from the layer's %d", i, len(got), len(data[i]))
				}
				n, err := l.UncompressedSize()
				if err != nil || n != int64(len(data[i])) {
					t.Errorf("layer %d: UncompressedSize = %d, %v; want %d", i, n, err, len(data[i]))
				}
			}
		})
	}
}

func readLayer(t *testing.T, l *Layer) []byte {
	t.Helper()
	r, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLayerDigestMismatch(t *testing.T) {
	for _, oci := range []bool{false, true} {
		t.Run(fmt.Sprint("oci=", oci), func(t *testing.T) {
			dir := t.TempDir()
			files, _ := fixtureLayers(t, dir)
			file := makeImage(t, dir, files, testkit.ImageOptions{OCI: oci, BadDiffID: 2})
			a, err := Open(file, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			img, _ := a.Find("", "")
			readLayer(t, img.Layers[0])
			r, err := img.Layers[1].Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := io.ReadAll(r); !errors.Is(err, errdefs.ErrDigestMismatch) {
				t.Fatalf("reading a layer with a wrong diff_id: %v, want a digest mismatch", err)
			}
		})
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	files, _ := fixtureLayers(t, dir)
	file := makeImage(t, dir, files, testkit.ImageOptions{Tags: []string{"busybox:latest", "localhost:5000/app:v2"}})
	a, err := Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, tc := range []struct {
		name, tag string
		found     bool
	}{
		{"", "", true},
		{"busybox", "", true},
		{"busybox", "latest", true},
		{"busybox:latest", "", true},
		{"library/busybox", "latest", true},
		{"docker.io/library/busybox", "latest", true},
		{"index.docker.io/busybox", "", true},
		{"localhost:5000/app", "v2", true},
		{"localhost:5000/app:v2", "", true},
		{"", "v2", true},
		{"localhost:5000/app", "", false},
		{"busybox", "1.36", false},
		{"other/busybox", "latest", false},
	} {
		_, err := a.Find(tc.name, tc.tag)
		if tc.found && err != nil {
			t.Errorf("Find(%q, %q): %v", tc.name, tc.tag, err)
		}
		if !tc.found {
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("Find(%q, %q) = %v, want not found", tc.name, tc.tag, err)
			} else if !strings.Contains(err.Error(), `"busybox:latest"`) {
				t.Errorf("Find(%q, %q): the error does not list the tags: %v", tc.name, tc.tag, err)
			}
		}
	}
}

// member is a tar entry of a hand-made archive.
type tarMember struct {
	name, body, link string
	typ              byte
	size             int64 // header size when it must lie about the body
}

func writeArchive(t *testing.T, members []tarMember) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: m.name, Typeflag: typ, Linkname: m.link, Mode: 0o644, Size: int64(len(m.body))}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, m.body)
	}
	tw.Close()
	file := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// openBytes writes an archive's bytes to a file and opens it, closed
// when the test ends.
func openBytes(t *testing.T, data []byte) *Archive {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// headers lists a tar's member headers.
func headers(t *testing.T, data []byte) []*tar.Header {
	t.Helper()
	var hs []*tar.Header
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hs
		}
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
}

func TestOpenRefusesMalformedArchives(t *testing.T) {
	layer := "layer bytes"
	cfg := fmt.Sprintf(`{"rootfs":{"type":"layers","diff_ids":[%q]}}`, sha([]byte(layer)))
	cfgName := strings.TrimPrefix(sha([]byte(cfg)), "sha256:") + ".json"
	manifest := func(config string, layers ...string) string {
		return fmt.Sprintf(`[{"Config":%q,"RepoTags":["a:1"],"Layers":["%s"]}]`, config, strings.Join(layers, `","`))
	}
	for _, tc := range []struct {
		name    string
		members []tarMember
		want    error
		msg     string
	}{
		{"NotATar", []tarMember{}, errdefs.ErrInvalidInput, "no manifest.json"},
		{"NoManifest", []tarMember{{name: "l.tar", body: layer}}, errdefs.ErrInvalidInput, "no manifest.json"},
		{"ManifestNotJSON", []tarMember{{name: "manifest.json", body: "[{"}}, errdefs.ErrInvalidInput, "manifest.json"},
		{"EmptyManifest", []tarMember{{name: "manifest.json", body: "[]"}}, errdefs.ErrInvalidInput, "no image"},
		{"MissingLayer", []tarMember{
			{name: cfgName, body: cfg}, {name: "manifest.json", body: manifest(cfgName, "l.tar")},
		}, errdefs.ErrInvalidInput, `"l.tar"`},
		{"MissingConfig", []tarMember{
			{name: "l.tar", body: layer}, {name: "manifest.json", body: manifest(cfgName, "l.tar")},
		}, errdefs.ErrInvalidInput, cfgName},
		{"DiffIDCountMismatch", []tarMember{
			{name: "l.tar", body: layer}, {name: cfgName, body: cfg}, {name: "manifest.json", body: manifest(cfgName, "l.tar", "l.tar")},
		}, errdefs.ErrInvalidInput, "1 diff_ids for 2 layers"},
		{"ConfigDigestMismatch", []tarMember{
			{name: "l.tar", body: layer}, {name: strings.Repeat("a", 64) + ".json", body: cfg},
			{name: "manifest.json", body: manifest(strings.Repeat("a", 64)+".json", "l.tar")},
		}, errdefs.ErrDigestMismatch, "hashes to"},
		{"LinkLoop", []tarMember{
			{name: "l.tar", typ: tar.TypeSymlink, link: "m.tar"}, {name: "m.tar", typ: tar.TypeSymlink, link: "l.tar"},
			{name: cfgName, body: cfg}, {name: "manifest.json", body: manifest(cfgName, "l.tar")},
		}, errdefs.ErrInvalidInput, "too many levels"},
		{"OCIIndexNamesMissingBlob", []tarMember{
			{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`},
			{name: "index.json", body: fmt.Sprintf(`{"manifests":[{"mediaType":%q,"digest":"sha256:%s","size":2}]}`, mediaOCIManifest, strings.Repeat("b", 64))},
		}, errdefs.ErrInvalidInput, "does not hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeArchive(t, tc.members)
			a, err := Open(file, nil)
			if err == nil {
				a.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Open: %v; want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestOpenAbsurdSize(t *testing.T) {
	// A header claiming far more bytes than the file holds.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeReg, Size: 1 << 40, Mode: 0o644})
	buf.Write(make([]byte, 1024))
	file := filepath.Join(t.TempDir(), "a.tar")
	os.WriteFile(file, buf.Bytes(), 0o644)
	_, err := Open(file, nil)
	if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "more than the archive holds") {
		t.Fatalf("Open: %v", err)
	}
}

func TestDuplicateLayerAsLink(t *testing.T) {
	// docker save and nixpkgs store a layer listed twice as a link.
	layer := "layer bytes"
	cfg := fmt.Sprintf(`{"rootfs":{"type":"layers","diff_ids":[%q,%q]}}`, sha([]byte(layer)), sha([]byte(layer)))
	cfgName := strings.TrimPrefix(sha([]byte(cfg)), "sha256:") + ".json"
	file := writeArchive(t, []tarMember{
		{name: "a/layer.tar", body: layer},
		{name: "b/layer.tar", typ: tar.TypeSymlink, link: "../a/layer.tar"},
		{name: cfgName, body: cfg},
		{name: "manifest.json", body: fmt.Sprintf(`[{"Config":%q,"RepoTags":null,"Layers":["a/layer.tar","b/layer.tar"]}]`, cfgName)},
	})
	a, err := Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	img, _ := a.Find("", "")
	if len(img.Layers) != 2 || img.Layers[1].Member != "b/layer.tar" {
		t.Fatalf("layers: %+v", img.Layers)
	}
	if got := readLayer(t, img.Layers[1]); string(got) != layer {
		t.Fatalf("linked layer reads %q", got)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                     "docker.io/library/busybox:latest",
		"busybox:1":                   "docker.io/library/busybox:1",
		"user/app":                    "docker.io/user/app:latest",
		"docker.io/busybox":           "docker.io/library/busybox:latest",
		"quay.io/coreos/etcd:v3":      "quay.io/coreos/etcd:v3",
		"localhost/app":               "localhost/app:latest",
		"localhost:5000/app":          "localhost:5000/app:latest",
		"busybox@sha256:" + "0" + "1": "docker.io/library/busybox:latest",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOpenBoundsDecompression: with a bound, a compressed archive or a
// compressed layer that expands past it is refused (a decompression bomb);
// bytes stored uncompressed are what they are and are not bounded.
func TestOpenBoundsDecompression(t *testing.T) {
	bound := errdefs.Bound{Max: 20000, Flag: "--max"}
	for _, tc := range []struct {
		name      string
		opts      testkit.ImageOptions
		openMsg   string // the error of OpenWith, or ""
		layer2Msg string // the error reading layer 2, or ""
	}{
		{"CompressedArchive", testkit.ImageOptions{Compress: "zstd"}, `^reading ".*image\.tar": decompressing: expands past 20000 bytes \(--max\)$`, ""},
		{"CompressedLayer", testkit.ImageOptions{OCI: true, LayerCompress: "gzip"}, "", `^decompressing "blobs/sha256/[0-9a-f]{64}": expands past 20000 bytes \(--max\)$`},
		{"Uncompressed", testkit.ImageOptions{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			layers, _ := fixtureLayers(t, dir)
			a, err := OpenWith(makeImage(t, dir, layers, tc.opts), nil, Options{Expanded: bound})
			if !matchErr(t, err, tc.openMsg) || err != nil {
				return
			}
			defer a.Close()
			if _, err := a.Images[0].Layers[0].UncompressedSize(); err != nil {
				t.Fatalf("layer 1, within the bound: %v", err)
			}
			_, err = a.Images[0].Layers[1].UncompressedSize()
			matchErr(t, err, tc.layer2Msg)
		})
	}
}

// matchErr checks err against the pattern ("" wants no error) and that it
// wraps errdefs.ErrTooLarge; it reports whether it matched.
func matchErr(t *testing.T, err error, pattern string) bool {
	t.Helper()
	switch {
	case pattern == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
		return false
	case pattern == "":
		return true
	case err == nil:
		t.Errorf("no error, want %s", pattern)
		return false
	case !errors.Is(err, errdefs.ErrTooLarge) || !regexp.MustCompile(pattern).MatchString(err.Error()):
		t.Errorf("error %q, want ErrTooLarge matching %s", err, pattern)
		return false
	}
	return true
}
