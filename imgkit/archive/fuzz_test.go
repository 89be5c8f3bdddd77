package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/testkit"
)

// bound is what a fuzzed archive or layer may decompress to: a few bytes
// of zstd or bzip2 make gigabytes, which the fuzzer must not write to disk.
var bound = Options{Expanded: errdefs.Bound{Max: 64 << 20, Flag: "fuzz"}}

// fixtureImages are image archives of the fixtures' layers, one per script
// that has mktar specs, in the shapes Open reads: a docker-archive with
// tags and a repositories file, an OCI layout, an OCI layout with gzip
// layers, and a gzip-compressed docker-archive.
func fixtureImages(f *testing.F) [][]byte {
	var scripts []string
	layers := map[string][][]byte{}
	for _, fx := range testkit.FixtureTars(f) {
		// Small layers, two at most: what is fuzzed here is the
		// archive's structure, and large inputs mutate slowly.
		if filepath.Ext(fx.Name) != ".pax" || len(fx.Data) > 4<<10 || len(layers[fx.Script]) == 2 {
			continue
		}
		if layers[fx.Script] == nil {
			scripts = append(scripts, fx.Script)
		}
		layers[fx.Script] = append(layers[fx.Script], fx.Data)
	}
	shapes := []testkit.ImageOptions{
		{Tags: []string{"app:1", "busybox"}, Repositories: []string{"app:1"}},
		{OCI: true, Tags: []string{"app:1"}},
		{OCI: true, LayerCompress: "gzip"},
		{Compress: "gzip", Tags: []string{"localhost:5000/app:2"}},
	}
	var out [][]byte
	for i, s := range scripts {
		name := testkit.ImageOf(f, layers[s], shapes[i%len(shapes)])
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzOpen: an archive Open accepts has images whose config bytes hash to
// their ConfigDigest and list one valid diff_id per layer; each layer reads
// either to bytes that hash to its diff_id (as many as UncompressedSize
// says) or to an error; Find finds each image by each of its tags. Every
// error is one line of its documented class.
func FuzzOpen(f *testing.F) {
	for _, data := range fixtureImages(f) {
		f.Add(data)
	}
	// docker save of a multi-platform image (containerd image store).
	f.Add(containerdSave(f, "linux/amd64", savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64"}, savedPlatform{platform: "linux/s390x", noLayer: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(t.TempDir(), "image")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := OpenWith(name, nil, bound)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput, errdefs.ErrDigestMismatch, errdefs.ErrTooLarge)
			return
		}
		defer a.Close()
		if len(a.Images) == 0 || a.Format != "docker" && a.Format != "oci" {
			t.Fatalf("accepted an archive of format %q with %d images", a.Format, len(a.Images))
		}
		for i, img := range a.Images {
			if digestOf(img.ConfigBytes) != img.ConfigDigest {
				t.Fatalf("image %d: config digest %s is not its bytes'", i, img.ConfigDigest)
			}
			for _, l := range img.Layers {
				checkLayer(t, l)
			}
			for _, tag := range img.RepoTags {
				found, err := a.Find(tag, "")
				if err != nil {
					t.Fatalf("image %d has the tag %q, which Find does not find: %v", i, tag, err)
				}
				if found != img && !sameTag(found, tag) {
					t.Fatalf("Find(%q) gives an image without that tag: %q", tag, found.RepoTags)
				}
				// FindFor takes an image with the tag, or none for
				// the platform.
				if found, err := a.FindFor(tag, "", oci.HostPlatform()); err != nil {
					testkit.CheckError(t, err, errdefs.ErrNotFound)
				} else if found != img && !sameTag(found, tag) {
					t.Fatalf("FindFor(%q) gives an image without that tag: %q", tag, found.RepoTags)
				}
			}
		}
		if _, err := a.FindFor("", "", oci.HostPlatform()); err != nil {
			testkit.CheckError(t, err, errdefs.ErrNotFound)
		}
		// The tree of an image's index (push-blob pushes it as it is):
		// the index last, every document its digest's bytes.
		for _, img := range a.Images {
			if img.Index == "" {
				continue
			}
			tree, err := a.Tree(img.Index)
			if err != nil {
				testkit.CheckError(t, err, errdefs.ErrInvalidInput, errdefs.ErrDigestMismatch, errdefs.ErrTooLarge)
				continue
			}
			if len(tree.Docs) == 0 && len(tree.Missing) == 0 || len(tree.Docs) > 0 && tree.Docs[len(tree.Docs)-1].Digest != img.Index {
				t.Fatalf("the tree of %s ends with no index of that digest (%d documents, missing %v)", img.Index, len(tree.Docs), tree.Missing)
			}
			for _, d := range tree.Docs {
				if digestOf(d.Raw) != d.Digest {
					t.Fatalf("tree document %s: bytes hash to %s", d.Digest, digestOf(d.Raw))
				}
			}
		}
		if _, err := a.Find("no-such-image", "x"); err != nil {
			testkit.CheckError(t, err, errdefs.ErrNotFound)
		}
	})
}

// sameTag reports whether img has a tag Find takes for tag.
func sameTag(img *Image, tag string) bool {
	for _, t := range img.RepoTags {
		if Normalize(t) == Normalize(tag) {
			return true
		}
	}
	return false
}

func checkLayer(t *testing.T, l *Layer) {
	t.Helper()
	if !validDigest(l.DiffID) {
		t.Fatalf("layer %q: diff_id %q is not a digest", l.Member, l.DiffID)
	}
	r, err := l.Open()
	if err != nil {
		testkit.CheckError(t, err, errdefs.ErrInvalidInput)
		return
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		testkit.CheckError(t, err, errdefs.ErrInvalidInput, errdefs.ErrDigestMismatch, errdefs.ErrTooLarge)
		return
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != l.DiffID {
		t.Fatalf("layer %q read without an error, but hashes to %s, not %s", l.Member, got, l.DiffID)
	}
	if size, err := l.UncompressedSize(); err != nil || size != n {
		t.Fatalf("layer %q: %d bytes read, UncompressedSize says %d, %v", l.Member, n, size, err)
	}
}
