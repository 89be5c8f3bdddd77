package oci

import (
	"bytes"
	"strings"
	"testing"

	"github.com/opencontainers/image-spec/schema"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/layerstream"
)

// TestDocumentsPassSchemas checks every JSON document this package writes
// against the image-spec's own JSON schemas (v1.1.1, the module's
// schema package): a multi-platform index whose platforms carry variants,
// os.version and os.features (tar-merge --index, push-blob), the layout
// index.json naming it, an image manifest, an SBOM's artifact manifest and
// the referrers index listing it. A manifest without layers fails the
// schema (minItems 1): tar-merge --index refuses such an image.
func TestDocumentsPassSchemas(t *testing.T) {
	layer := layerstream.Blob{MediaType: v1.MediaTypeImageLayerGzip, Digest: "sha256:" + strings.Repeat("a", 64), Size: 10}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("b", 64) + `"]}}`)
	manifest := Manifest(config, []layerstream.Blob{layer})
	var images []PlatformImage
	for i, p := range []v1.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "amd64", Variant: "v3"},
		{OS: "linux", Architecture: "arm", Variant: "v6"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1", OSFeatures: []string{"win32k"}},
	} {
		images = append(images, PlatformImage{Manifest: append(manifest[:len(manifest):len(manifest)], strings.Repeat(" ", i)...), Platform: p})
	}
	index := PlatformIndex(images)
	artifact := ArtifactManifest(DescriptorOf("application/vnd.cyclonedx+json", []byte(`{}`)), DescriptorOf(ManifestMediaType, manifest))
	referrers, _, err := AddReferrer(nil, artifact)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		v    schema.Validator
		doc  []byte
	}{
		{"the platform index", schema.ValidatorMediaTypeImageIndex, index},
		{"index.json", schema.ValidatorMediaTypeImageIndex, LayoutIndex(index, "registry.example:5000/app", "v1")},
		{"index.json without a name", schema.ValidatorMediaTypeImageIndex, LayoutIndex(index, "", "")},
		{"oci-layout", schema.ValidatorMediaTypeLayoutHeader, LayoutFile},
		{"the manifest", schema.ValidatorMediaTypeManifest, manifest},
		{"the config", schema.ValidatorMediaTypeImageConfig, config},
		{"the artifact manifest", schema.ValidatorMediaTypeManifest, artifact},
		{"the referrers index", schema.ValidatorMediaTypeImageIndex, referrers},
	} {
		if err := c.v.Validate(bytes.NewReader(c.doc)); err != nil {
			t.Errorf("%s fails the image-spec schema: %v\n%s", c.what, err, c.doc)
		}
	}
	if err := schema.ValidatorMediaTypeManifest.Validate(bytes.NewReader(Manifest(config, nil))); err == nil {
		t.Errorf("a manifest without layers passes the schema")
	}
}
