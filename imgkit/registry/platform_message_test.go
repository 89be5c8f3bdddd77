package registry

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"dockertools.dev/imgkit/errdefs"
)

// TestChooseImageErrorIsOneLine: the platforms a registry's list names are
// quoted in the error when they hold what would break its line, and cut
// when long (a list whose os was "li\nnux" split the error in two).
func TestChooseImageErrorIsOneLine(t *testing.T) {
	long := strings.Repeat("x", 70000)
	idx, err := v1.ParseIndexManifest(bytes.NewReader([]byte(`{"schemaVersion":2,"manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"architecture":"amd64","os":"li\nnux"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":1,"platform":{"architecture":"` + long + `","os":"linux"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","size":1,"platform":{"architecture":"s390x","os":"linux"}}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ChooseImage(idx, v1.Platform{OS: "linux", Architecture: "arm"}, nil)
	const want = `no image for linux/arm in the manifest list; it has "li\nnux/amd64", "linux/xxx`
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") || len(err.Error()) > 1000 {
		t.Fatalf("%.300q", err)
	}
	if !strings.HasSuffix(err.Error(), `x"…(70006 bytes), linux/s390x: not found`) {
		t.Fatalf("%.300q", err)
	}
}

// TestChooseImageWantedPlatformIsQuoted: the platform looked for is quoted
// like the offered ones. It comes from a flag or, when an entry's platform
// is looked up again, from the registry (FuzzManifest found an os "\n"
// splitting the error line; seed a8f5d81f748a5f1c).
func TestChooseImageWantedPlatformIsQuoted(t *testing.T) {
	idx, err := v1.ParseIndexManifest(strings.NewReader(`{"schemaVersion":2,"manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ChooseImage(idx, v1.Platform{OS: "\n", Architecture: "arm"}, nil)
	const want = `no image for "\n/arm" in the manifest list; it has linux/amd64: not found`
	if !errors.Is(err, errdefs.ErrNotFound) || err.Error() != want {
		t.Fatalf("%q", err)
	}
}

// TestChooseImageErrorListsFewPlatforms: a list naming thousands of
// platforms (a hostile registry's, within the 16 MiB a manifest may have)
// gave an error line listing every one of them, megabytes long; the error
// lists the first few and says how many more there are.
func TestChooseImageErrorListsFewPlatforms(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"manifests":[`)
	for i := range 50000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%064x","size":1,"platform":{"architecture":"a%d","os":"linux"}}`, i, i)
	}
	b.WriteString(`]}`)
	idx, err := v1.ParseIndexManifest(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ChooseImage(idx, v1.Platform{OS: "linux", Architecture: "arm"}, nil)
	if !errors.Is(err, errdefs.ErrNotFound) || len(err.Error()) > 1000 || !strings.Contains(err.Error(), "linux/a0, linux/a1, ") {
		t.Fatalf("%d bytes: %.300q", len(err.Error()), err)
	}
}

// TestChooseImageSkipsArtifacts: an index's artifact entries (an SBOM
// that oras manifest index create lists beside the image, its descriptor
// naming its artifactType) are no images: never chosen, even under a
// platform, and not offered as "an image without a platform". An entry
// whose artifactType is an image config's media type (crane writes the
// config's there) is an image.
func TestChooseImageSkipsArtifacts(t *testing.T) {
	idx, err := v1.ParseIndexManifest(strings.NewReader(`{"schemaVersion":2,"manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"artifactType":"application/spdx+json","platform":{"architecture":"arm64","os":"linux"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":1,"artifactType":"application/vnd.oci.image.config.v1+json","platform":{"architecture":"amd64","os":"linux"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","size":1,"artifactType":"application/vnd.cyclonedx+json"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := ChooseImage(idx, v1.Platform{OS: "linux", Architecture: "amd64"}, nil); err != nil || d.Digest.Hex[:1] != "2" {
		t.Errorf("linux/amd64: %v, %v", d.Digest, err)
	}
	_, err = ChooseImage(idx, v1.Platform{OS: "linux", Architecture: "arm64"}, nil)
	const want = `no image for linux/arm64 in the manifest list; it has linux/amd64: not found`
	if !errors.Is(err, errdefs.ErrNotFound) || err.Error() != want {
		t.Fatalf("linux/arm64: %q, want %q", err, want)
	}
}
