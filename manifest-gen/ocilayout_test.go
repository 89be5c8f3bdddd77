package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/image-spec/schema"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// ociStream writes a layer stream of two small layer tars (the second
// twice: equal layers share one blob).
func ociStream(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	w := layerstream.NewWriter(&buf)
	for i, content := range []string{"first", "second", "second"} {
		var layer bytes.Buffer
		tw := tar.NewWriter(&layer)
		tw.WriteHeader(&tar.Header{Name: "f", Size: int64(len(content)), Mode: 0o644})
		tw.Write([]byte(strings.Repeat(content, 1000)[:len(content)]))
		tw.Close()
		if _, err := w.WriteLayer(int64(layer.Len()), layerstream.LayerInfo{Paths: []string{"/nix/store/" + string(rune('a'+i))}}, &layer); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "stream.tar")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func runManifestGen(t *testing.T, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	if code := cli.Run(context.Background(), "manifest-gen", manual, &command{}, args, &cli.IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr}); code != 0 {
		t.Fatalf("manifest-gen %v: exit %d: %s", args, code, stderr.String())
	}
}

// tarFiles reads the regular files of a tar.
func tarFiles(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files[h.Name], _ = io.ReadAll(tr)
		}
	}
}

func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func validate(t *testing.T, v schema.Validator, what string, data []byte) {
	t.Helper()
	if err := v.Validate(bytes.NewReader(data)); err != nil {
		t.Errorf("%s does not pass the image-spec schema: %v\n%s", what, err, data)
	}
}

// TestOCILayoutPassesSchemas checks every JSON document of the layout
// against the image-spec's JSON schemas, every blob against its name and
// descriptor, in the tar and the directory form, for each compression.
func TestOCILayoutPassesSchemas(t *testing.T) {
	stream := ociStream(t)
	for _, comp := range []string{"none", "gzip", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			tarOut, dirOut := filepath.Join(dir, "img.tar"), filepath.Join(dir, "layout")
			runManifestGen(t, "--name", "registry.example:5000/app", "--tag", "v1", "--format", "oci", "--layer-compression", comp, "-o", tarOut, stream)
			runManifestGen(t, "--name", "registry.example:5000/app", "--tag", "v1", "--format", "oci-dir", "--layer-compression", comp, "-o", dirOut, stream)
			files := tarFiles(t, tarOut)
			if d := dirFiles(t, dirOut); !equalFiles(files, d) {
				t.Fatalf("the directory holds other files than the tar: %v vs %v", keys(d), keys(files))
			}
			validate(t, schema.ValidatorMediaTypeLayoutHeader, "oci-layout", files["oci-layout"])
			validate(t, schema.ValidatorMediaTypeImageIndex, "index.json", files["index.json"])
			var idx v1.Index
			json.Unmarshal(files["index.json"], &idx)
			if len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[v1.AnnotationRefName] != "v1" || idx.Manifests[0].Annotations[oci.AnnotationImageName] != "registry.example:5000/app:v1" {
				t.Fatalf("index %s", files["index.json"])
			}
			manifest := blob(t, files, idx.Manifests[0])
			validate(t, schema.ValidatorMediaTypeManifest, "the manifest", manifest)
			var m v1.Manifest
			json.Unmarshal(manifest, &m)
			validate(t, schema.ValidatorMediaTypeImageConfig, "the config", blob(t, files, m.Config))
			if len(m.Layers) != 3 || m.Layers[1].Digest != m.Layers[2].Digest {
				t.Fatalf("layers %+v", m.Layers)
			}
			for _, l := range m.Layers {
				blob(t, files, l)
				if kind, _ := oci.LayerKind(l.MediaType); string(kind) != comp {
					t.Errorf("layer media type %s for %s", l.MediaType, comp)
				}
			}
			// 2 distinct layers, config, manifest, oci-layout, index.json,
			// manifest.json: no stray file.
			if len(files) != 7 {
				t.Errorf("%d files: %v", len(files), keys(files))
			}
			var dm []struct{ Config string }
			if err := json.Unmarshal(files["manifest.json"], &dm); err != nil || len(dm) != 1 || dm[0].Config != "blobs/sha256/"+m.Config.Digest.Encoded() {
				t.Errorf("manifest.json %s", files["manifest.json"])
			}
		})
	}
}

// blob returns the blob a descriptor names, checking its digest and size.
func blob(t *testing.T, files map[string][]byte, d v1.Descriptor) []byte {
	t.Helper()
	data, ok := files["blobs/sha256/"+d.Digest.Encoded()]
	if !ok {
		t.Fatalf("no blob %s", d.Digest)
	}
	if oci.DigestOf(data) != string(d.Digest) || int64(len(data)) != d.Size {
		t.Fatalf("blob %s: %d bytes hashing to %s, descriptor size %d", d.Digest, len(data), oci.DigestOf(data), d.Size)
	}
	return data
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// TestSchemasRefuse makes sure the validators used above can fail.
func TestSchemasRefuse(t *testing.T) {
	for name, c := range map[string]struct {
		v    schema.Validator
		data string
	}{
		"ManifestWithoutConfig": {schema.ValidatorMediaTypeManifest, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`},
		"IndexWithoutManifests": {schema.ValidatorMediaTypeImageIndex, `{"schemaVersion":2}`},
		"ConfigWithoutOS":       {schema.ValidatorMediaTypeImageConfig, `{"architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}`},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.v.Validate(strings.NewReader(c.data)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestOCIJobsSameBytes: compressing layers in parallel writes the same
// bytes as one by one, with layers of very different sizes (so that they
// finish out of order), in a tar and in a directory.
func TestOCIJobsSameBytes(t *testing.T) {
	var buf bytes.Buffer
	w := layerstream.NewWriter(&buf)
	for i, n := range []int{3 << 20, 10, 1 << 20, 0, 200 << 10, 3 << 20} {
		var layer bytes.Buffer
		tw := tar.NewWriter(&layer)
		data := bytes.Repeat([]byte{byte(i), 'x', byte(n)}, n/3)
		tw.WriteHeader(&tar.Header{Name: "f", Size: int64(len(data)), Mode: 0o644})
		tw.Write(data)
		tw.Close()
		if _, err := w.WriteLayer(int64(layer.Len()), layerstream.LayerInfo{}, &layer); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	dir := t.TempDir()
	stream := filepath.Join(dir, "stream.tar")
	os.WriteFile(stream, buf.Bytes(), 0o644)
	for _, comp := range []string{"gzip", "zstd"} {
		out := func(format, jobs string) string {
			o := filepath.Join(dir, comp+format+jobs)
			runManifestGen(t, "--name", "app", "--format", format, "--layer-compression", comp, "-j", jobs, "-o", o, stream)
			return o
		}
		one, four := tarFiles(t, out("oci", "1")), tarFiles(t, out("oci", "4"))
		if !equalFiles(one, four) {
			t.Errorf("%s: -j 1 and -j 4 wrote different files", comp)
		}
		a, _ := os.ReadFile(filepath.Join(dir, comp+"oci1"))
		b, _ := os.ReadFile(filepath.Join(dir, comp+"oci4"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: -j 1 and -j 4 wrote different tars", comp)
		}
		if d := dirFiles(t, out("oci-dir", "3")); !equalFiles(one, d) {
			t.Errorf("%s: -j 3 in a directory wrote other files than -j 1 in a tar", comp)
		}
	}
}
