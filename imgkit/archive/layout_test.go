package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// layoutOf writes an OCI layout tar of one-layer images, one per
// platform ("os/arch"), with index.json naming an image index of them
// (multi true) or the first image's manifest (multi false), and opens it.
func layoutOf(t *testing.T, multi bool, platforms ...string) (*Archive, []byte) {
	t.Helper()
	raw := layoutBytes(t, multi, noReferrers, platforms...)
	return openBytes(t, raw), raw
}

// How a layout lists an image's referrers (layoutBytes).
const (
	noReferrers   = iota
	referrerEntry // the artifact after the image, as oras cp -r writes it
	referrersTag  // an index of it before the image, as regctl image copy --referrers
	cosignSaved   // cosign's signature and attestation after it, as cosign save --dir
)

// layoutBytes writes what layoutOf opens; with referrers, index.json also
// lists an SBOM artifact whose subject is the first image's manifest.
func layoutBytes(t *testing.T, multi bool, referrers int, platforms ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	lw := NewLayoutWriter(&buf)
	put := blobPutter(t, lw)
	var images []oci.PlatformImage
	for i, p := range platforms {
		goos, arch, _ := strings.Cut(p, "/")
		layer := make([]byte, 1024*(i+2))
		config := []byte(`{"architecture":"` + arch + `","os":"` + goos + `","rootfs":{"type":"layers","diff_ids":["` + oci.DigestOf(layer) + `"]}}`)
		put(layer)
		put(layer) // written once
		put(config)
		m := oci.Manifest(config, []layerstream.Blob{{MediaType: oci.LayerMediaType(compress.None), Digest: oci.DigestOf(layer), Size: int64(len(layer))}})
		put(m)
		plat, err := oci.ConfigPlatform(config)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, oci.PlatformImage{Manifest: m, Platform: plat})
	}
	index := oci.Index(images[0].Manifest, "app:1", "1")
	if multi {
		index = oci.PlatformIndex(images)
		put(index)
		index = oci.LayoutIndex(index, "", "")
	}
	switch referrers {
	case referrerEntry, referrersTag:
		index = withReferrer(t, put, index, images[0].Manifest, referrers == referrersTag)
	case cosignSaved:
		index = withCosign(t, put, index)
	}
	closeLayout(t, lw, index)
	return buf.Bytes()
}

// closeLayout ends the layout lw writes with its oci-layout and index.json.
func closeLayout(t *testing.T, lw *LayoutWriter, index []byte) {
	t.Helper()
	if err := lw.File("oci-layout", oci.LayoutFile); err != nil {
		t.Fatal(err)
	}
	if err := lw.File("index.json", index); err != nil {
		t.Fatal(err)
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
}

// withReferrer writes an SBOM artifact of subject (its empty config, its
// document, its manifest) and returns index with the artifact appended,
// or, with tagged, an index listing it (the referrers tag's) prepended.
func withReferrer(t *testing.T, put func([]byte), index, subject []byte, tagged bool) []byte {
	t.Helper()
	doc := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	put(oci.EmptyConfig)
	put(doc)
	artifact := oci.ArtifactManifest(oci.DescriptorOf("application/spdx+json", doc), oci.DescriptorOf(v1.MediaTypeImageManifest, subject))
	put(artifact)
	var idx v1.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		t.Fatal(err)
	}
	d := oci.DescriptorOf(v1.MediaTypeImageManifest, artifact)
	d.ArtifactType = "application/spdx+json"
	if tagged {
		referrers, _, err := oci.AddReferrer(nil, artifact)
		if err != nil {
			t.Fatal(err)
		}
		put(referrers)
		d = oci.DescriptorOf(v1.MediaTypeImageIndex, referrers)
		d.Annotations = map[string]string{oci.AnnotationRefName: oci.ReferrersTag(oci.DigestOf(subject))}
		idx.Manifests = append([]v1.Descriptor{d}, idx.Manifests...)
	} else {
		idx.Manifests = append(idx.Manifests, d)
	}
	out, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withCosign returns index with a cosign signature and attestation of
// its first entry appended, as cosign save --dir lists them (cosign's
// legacy manifests: an image config naming no platform over a
// simplesigning or DSSE layer, each entry's kind annotated).
func withCosign(t *testing.T, put func([]byte), index []byte) []byte {
	t.Helper()
	var idx v1.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		t.Fatal(err)
	}
	subject := idx.Manifests[0].Digest.String()
	for _, kind := range []struct{ name, layerType, payload string }{
		{"sigs", "application/vnd.dev.cosign.simplesigning.v1+json", `{"critical":{"identity":{"docker-reference":"app"},"image":{"docker-manifest-digest":"` + subject + `"},"type":"cosign container image signature"},"optional":null}`},
		{"atts", "application/vnd.dsse.envelope.v1+json", `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`},
	} {
		payload := []byte(kind.payload)
		config := []byte(`{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["` + oci.DigestOf(payload) + `"]},"config":{}}`)
		put(payload)
		put(config)
		m := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":` + strconv.Itoa(len(config)) + `,"digest":"` + oci.DigestOf(config) + `"},"layers":[{"mediaType":"` + kind.layerType + `","size":` + strconv.Itoa(len(payload)) + `,"digest":"` + oci.DigestOf(payload) + `","annotations":{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}]}`)
		put(m)
		d := oci.DescriptorOf(v1.MediaTypeImageManifest, m)
		d.Annotations = map[string]string{"kind": "dev.cosignproject.cosign/" + kind.name}
		idx.Manifests = append(idx.Manifests, d)
	}
	out, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLayoutCosignSignaturesSkipped: a layout as cosign save --dir writes
// it, an image or a multi-platform image with cosign's signature and
// attestation manifests beside it, reads as the image alone: those are
// artifacts (oci.IsArtifactManifest) under an image config, which were
// read as images and refused the whole layout ("layer … has media type
// application/vnd.dev.cosign.simplesigning.v1+json, not a layer tar").
func TestLayoutCosignSignaturesSkipped(t *testing.T) {
	for _, multi := range []bool{false, true} {
		a := openBytes(t, layoutBytes(t, multi, cosignSaved, "linux/amd64", "linux/arm64"))
		want := 1
		if multi {
			want = 2
		}
		if len(a.Images) != want || a.MultiPlatform != multi {
			t.Fatalf("multi %v: %d images, multi-platform %v; want %d, %v", multi, len(a.Images), a.MultiPlatform, want, multi)
		}
		img, err := a.FindDefault("", "", v1.Platform{OS: "linux", Architecture: "arm64"})
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := platformOf(img); p.Architecture != map[bool]string{false: "amd64", true: "arm64"}[multi] {
			t.Errorf("multi %v: took the image for %s", multi, oci.PlatformString(p))
		}
	}
}

// blobPutter returns a function writing a blob held in memory to lw.
func blobPutter(t *testing.T, lw *LayoutWriter) func([]byte) {
	return func(data []byte) {
		if err := lw.Blob(oci.DigestOf(data), int64(len(data)), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLayoutWriterMultiPlatform: what LayoutWriter writes, Open reads; an
// index.json naming one image index is a multi-platform image, whose
// images are the index's, in its order; one naming an image is not.
func TestLayoutWriterMultiPlatform(t *testing.T) {
	a, raw := layoutOf(t, true, "linux/arm64", "linux/amd64")
	if a.Format != "oci" || !a.MultiPlatform || len(a.Images) != 2 {
		t.Fatalf("format %s, multi-platform %v, %d images", a.Format, a.MultiPlatform, len(a.Images))
	}
	for i, want := range []string{`"amd64"`, `"arm64"`} {
		if !bytes.Contains(a.Images[i].ConfigBytes, []byte(`"architecture":`+want)) {
			t.Errorf("image %d: config %s", i+1, a.Images[i].ConfigBytes)
		}
	}
	// Fixed headers, each blob once, the directories before the first.
	seen := map[string]bool{}
	var names []string
	for _, h := range headers(t, raw) {
		if seen[h.Name] || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || !h.ModTime.Equal(MemberTime) {
			t.Errorf("member %s: %+v", h.Name, h)
		}
		seen[h.Name] = true
		names = append(names, h.Name)
	}
	if len(names) < 3 || names[0] != "blobs/" || names[1] != "blobs/sha256/" {
		t.Errorf("members %q", names)
	}
	single, _ := layoutOf(t, false, "linux/amd64")
	if single.MultiPlatform || len(single.Images) != 1 {
		t.Errorf("an index.json naming an image: multi-platform %v, %d images", single.MultiPlatform, len(single.Images))
	}
}

// TestLayoutWriterRefuses: a blob name that is no sha256 digest, and a
// reader shorter than the size announced, are errors.
func TestLayoutWriterRefuses(t *testing.T) {
	lw := NewLayoutWriter(io.Discard)
	if err := lw.Blob("sha256:../../etc", 1, strings.NewReader("x")); !errors.Is(err, errdefs.ErrInvalidInput) {
		t.Errorf("bad digest: %v", err)
	}
	if err := lw.Blob(oci.DigestOf([]byte("xy")), 2, strings.NewReader("x")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader: %v", err)
	}
}

// TestLayoutReferrersSkipped: an OCI layout whose index.json lists, beside
// the image, an artifact referring to it (an SBOM, as oras cp -r and
// regctl image copy --referrers copy them) opens as the image alone: the
// artifact is no image (its config is the empty blob, its layer a JSON
// document), and a multi-platform image stays one.
func TestLayoutReferrersSkipped(t *testing.T) {
	for _, referrers := range []int{referrerEntry, referrersTag} {
		for _, multi := range []bool{false, true} {
			a := openBytes(t, layoutBytes(t, multi, referrers, "linux/amd64", "linux/arm64"))
			want := 1
			if multi {
				want = 2
			}
			if a.MultiPlatform != multi || len(a.Images) != want {
				t.Errorf("referrers %d, multi %v: multi-platform %v, %d images", referrers, multi, a.MultiPlatform, len(a.Images))
			}
		}
	}
}

// TestLayoutArtifactsAndImagesByConfigType: which manifests a layout's
// index.json lists are images is told by their config's media type alone:
// an image with Docker's media types (buildx's oci exporter with
// oci-mediatypes=false writes them in a layout) or with no config media
// type is read beside the artifacts skipped (a Helm chart, a Singularity
// image, an SBOM on the empty config).
func TestLayoutArtifactsAndImagesByConfigType(t *testing.T) {
	var buf bytes.Buffer
	lw := NewLayoutWriter(&buf)
	put := blobPutter(t, lw)
	layer := make([]byte, 2048)
	put(layer)
	var idx v1.Index
	idx.SchemaVersion = 2
	add := func(manifestType, configType, ref string) {
		config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + oci.DigestOf(layer) + `"]},"ref":"` + ref + `"}`)
		put(config)
		ct := ""
		if configType != "" {
			ct = `"mediaType":"` + configType + `",`
		}
		m := []byte(`{"schemaVersion":2,"mediaType":"` + manifestType + `","config":{` + ct + `"digest":"` + oci.DigestOf(config) + `","size":` + strconv.Itoa(len(config)) +
			`},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"` + oci.DigestOf(layer) + `","size":2048}]}`)
		put(m)
		d := oci.DescriptorOf(manifestType, m)
		d.Annotations = map[string]string{oci.AnnotationRefName: ref}
		idx.Manifests = append(idx.Manifests, d)
	}
	add(v1.MediaTypeImageManifest, "application/vnd.cncf.helm.config.v1+json", "chart")
	add("application/vnd.docker.distribution.manifest.v2+json", oci.DockerConfig, "docker")
	add(v1.MediaTypeImageManifest, "application/vnd.sylabs.sif.config.v1+json", "sif")
	add(v1.MediaTypeImageManifest, oci.DockerConfig, "mixed")
	add(v1.MediaTypeImageManifest, "", "untyped")
	add(v1.MediaTypeImageManifest, v1.MediaTypeEmptyJSON, "sbom")
	add(v1.MediaTypeImageManifest, v1.MediaTypeImageConfig, "oci")
	index, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	closeLayout(t, lw, index)
	a := openBytes(t, buf.Bytes())
	var got []string
	for _, img := range a.Images {
		got = append(got, strings.Join(img.RepoTags, ","))
	}
	if want := "docker mixed untyped oci"; strings.Join(got, " ") != want || a.MultiPlatform {
		t.Errorf("images tagged %q (multi-platform %v), want %q", got, a.MultiPlatform, want)
	}
}
