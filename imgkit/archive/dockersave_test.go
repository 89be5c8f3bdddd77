package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	godigest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// savedPlatform is one entry of the index containerdSave writes: an
// image for the platform, or its build attestation (platform
// unknown/unknown), whose manifest (noManifest) or a layer of which
// (noLayer) docker save may leave out.
type savedPlatform struct {
	platform            string
	noManifest, noLayer bool
}

// containerdSave writes what `docker save base:v1` writes with the
// containerd image store (checked against Docker 26.1 with containerd
// 1.7's exporter): members sorted by name, blobs read-only; index.json
// naming the image's index under its full name; the index listing each
// platform's manifest and, after them, an attestation manifest for each
// (platform unknown/unknown, vnd.docker.reference.* annotations);
// gzip-compressed layers; and manifest.json listing the image for the
// platform saved only, its config and layers as blobs/sha256/HEX. Each
// image's one layer holds one file whose bytes say which it is
// ("linux/arm64").
func containerdSave(t testing.TB, saved string, entries ...savedPlatform) []byte {
	t.Helper()
	members := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	put := func(data []byte) v1.Descriptor {
		d := v1.Descriptor{Digest: godigest.Digest(oci.DigestOf(data)), Size: int64(len(data))}
		members[blobPath(oci.DigestOf(data))] = data
		return d
	}
	var index v1.Index
	index.SchemaVersion, index.MediaType = 2, v1.MediaTypeImageIndex
	var dockerEntry []dockerManifest
	var attestations []v1.Descriptor
	for _, e := range entries {
		layer := tarOf(t, "which", e.platform)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(layer)
		zw.Close()
		p, err := oci.ParsePlatform(e.platform)
		if err != nil {
			t.Fatal(err)
		}
		config := mustMarshal(t, map[string]any{"architecture": p.Architecture, "os": p.OS, "variant": p.Variant, "config": map[string]any{"Cmd": []string{"/which"}},
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{oci.DigestOf(layer)}}})
		cd := put(config)
		cd.MediaType = v1.MediaTypeImageConfig
		ld := put(gz.Bytes())
		ld.MediaType = v1.MediaTypeImageLayerGzip
		if e.noLayer {
			delete(members, blobPath(string(ld.Digest)))
		}
		manifest := mustMarshal(t, v1.Manifest{Versioned: index.Versioned, MediaType: v1.MediaTypeImageManifest, Config: cd, Layers: []v1.Descriptor{ld}})
		md := put(manifest)
		md.MediaType, md.Platform = v1.MediaTypeImageManifest, &p
		if e.noManifest {
			delete(members, blobPath(string(md.Digest)))
		}
		index.Manifests = append(index.Manifests, md)
		// The attestation: an in-toto statement as its one layer, a
		// config for the unknown platform; docker save writes it when
		// the engine has it (it built the image, or pulled it with it).
		statement := put([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document"}`))
		statement.MediaType = "application/vnd.in-toto+json"
		statement.Annotations = map[string]string{"in-toto.io/predicate-type": "https://spdx.dev/Document"}
		aconfig := put(mustMarshal(t, map[string]any{"architecture": "unknown", "os": "unknown", "config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": []string{string(statement.Digest)}}}))
		aconfig.MediaType = v1.MediaTypeImageConfig
		ad := put(mustMarshal(t, v1.Manifest{Versioned: index.Versioned, MediaType: v1.MediaTypeImageManifest, Config: aconfig, Layers: []v1.Descriptor{statement}}))
		ad.MediaType, ad.Platform = v1.MediaTypeImageManifest, &v1.Platform{Architecture: "unknown", OS: "unknown"}
		ad.Annotations = map[string]string{"vnd.docker.reference.digest": string(md.Digest), "vnd.docker.reference.type": "attestation-manifest"}
		attestations = append(attestations, ad)
		if e.platform == saved {
			var layers []string
			for _, l := range []v1.Descriptor{ld} {
				layers = append(layers, blobPath(string(l.Digest)))
			}
			dockerEntry = append(dockerEntry, dockerManifest{Config: blobPath(string(cd.Digest)), RepoTags: []string{"base:v1"}, Layers: layers})
		}
	}
	index.Manifests = append(index.Manifests, attestations...)
	id := put(mustMarshal(t, index))
	id.MediaType = v1.MediaTypeImageIndex
	id.Annotations = map[string]string{"io.containerd.image.name": "docker.io/library/base:v1", "org.opencontainers.image.ref.name": "v1"}
	members["index.json"] = mustMarshal(t, v1.Index{Versioned: index.Versioned, MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{id}})
	members["manifest.json"] = mustMarshal(t, dockerEntry)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "blobs/", Mode: 0o755, Typeflag: tar.TypeDir})
	tw.WriteHeader(&tar.Header{Name: "blobs/sha256/", Mode: 0o755, Typeflag: tar.TypeDir})
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		mode := int64(0o444)
		if !strings.HasPrefix(n, "blobs/") && n != "oci-layout" {
			mode = 0o644
		}
		tw.WriteHeader(&tar.Header{Name: n, Mode: mode, Size: int64(len(members[n])), Typeflag: tar.TypeReg})
		tw.Write(members[n])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarOf is a layer tar holding one file.
func tarOf(t testing.TB, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write([]byte(content))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// whichImage is the platform an image of containerdSave is for, from its
// layer.
func whichImage(t *testing.T, img *Image) string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(readLayer(t, img.Layers[0])))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(tr)
	return b.String()
}

// TestDockerSaveMultiPlatform: a docker save of a multi-platform image
// from the containerd image store lists in manifest.json the image for
// the platform of the daemon that saved it only; FindFor and FindDefault
// take the image for the platform asked for from its index.json (before,
// the saver's whatever the platform: an arm64 image built on an amd64
// base), among the images whose blobs are all there (not riscv64, whose
// manifest docker save left out, nor s390x, a layer of which it left
// out), never an attestation; Find takes manifest.json's image.
func TestDockerSaveMultiPlatform(t *testing.T) {
	a := openBytes(t, containerdSave(t, "linux/amd64",
		savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64"},
		savedPlatform{platform: "linux/riscv64", noManifest: true}, savedPlatform{platform: "linux/s390x", noLayer: true}))
	if a.Format != "docker" || a.MultiPlatform || len(a.Images) != 2 {
		t.Fatalf("format %s, multi-platform %v, %d images", a.Format, a.MultiPlatform, len(a.Images))
	}
	if img, err := a.Find("base", "v1"); err != nil || whichImage(t, img) != "linux/amd64" || img.Index == "" {
		t.Fatalf("Find: %v, %v", img, err)
	}
	for _, c := range []struct {
		name, want, got string // got "": not found
		lone            bool
	}{
		{"base:v1", "linux/arm64", "linux/arm64", false},
		{"base:v1", "linux/amd64", "linux/amd64", false},
		{"", "linux/arm64/v8", "linux/arm64", false},
		{"docker.io/library/base:v1", "linux/arm64", "linux/arm64", true},
		{"base:v1", "linux/riscv64", "", false},
		{"base:v1", "linux/s390x", "", true},
	} {
		want, _ := oci.ParsePlatform(c.want)
		find := a.FindFor
		if c.lone {
			find = a.FindDefault
		}
		img, err := find(c.name, "", want)
		if c.got == "" {
			if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "(it has linux/amd64, linux/arm64)") {
				t.Errorf("%s for %s: %v, want not found", c.name, c.want, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s for %s: %v", c.name, c.want, err)
		} else if got := whichImage(t, img); got != c.got || !slices.Equal(img.RepoTags, []string{"base:v1"}) {
			t.Errorf("%s for %s: chose %s tagged %q, want %s", c.name, c.want, got, img.RepoTags, c.got)
		}
	}
	// Saved on an arm64 machine, it gives this amd64 one its own image.
	b := openBytes(t, containerdSave(t, "linux/arm64", savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64"}))
	if img, err := b.FindDefault("", "", v1.Platform{OS: "linux", Architecture: "amd64"}); err != nil || whichImage(t, img) != "linux/amd64" {
		t.Errorf("saved on arm64, default for amd64: %v, %v", img, err)
	}
}

// TestDockerSaveOnePlatform: a docker save of an image pulled for one
// platform (its index lists the others, whose manifests it leaves out) is
// manifest.json's image alone, one platform of a multi-platform image:
// FindDefault gives it whatever the platform, FindFor another platform
// finds none (before, it gave this one: an arm64 build on an amd64 base).
func TestDockerSaveOnePlatform(t *testing.T) {
	a := openBytes(t, containerdSave(t, "linux/amd64",
		savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64", noManifest: true}))
	if len(a.Images) != 1 || whichImage(t, a.Images[0]) != "linux/amd64" {
		t.Fatalf("%d images", len(a.Images))
	}
	arm64 := v1.Platform{OS: "linux", Architecture: "arm64"}
	if img, err := a.FindDefault("base:v1", "", arm64); err != nil || img != a.Images[0] {
		t.Errorf("FindDefault arm64: %v, %v", img, err)
	}
	if img, err := a.FindFor("", "", v1.Platform{OS: "linux", Architecture: "amd64"}); err != nil || img != a.Images[0] {
		t.Errorf("FindFor amd64: %v, %v", img, err)
	}
	if _, err := a.FindFor("", "", arm64); !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "no image for linux/arm64 (it has linux/amd64)") {
		t.Errorf("FindFor arm64: %v, want not found", err)
	}
}

// TestDockerSaveMissingTagListedOnce: asked for a tag it lacks, a docker
// save of a multi-platform image lists its tag once, not once per
// platform's image (`(it has tags "base:v1", "base:v1")`); so does an
// OCI layout of a tagged index.
func TestDockerSaveMissingTagListedOnce(t *testing.T) {
	a := openBytes(t, containerdSave(t, "linux/amd64", savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64"}))
	_, err := a.Find("other:v1", "")
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), `(it has tags "base:v1"): `) {
		t.Errorf("Find(other:v1): %v", err)
	}
}
