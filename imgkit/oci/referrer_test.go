package oci

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
)

func TestArtifactManifest(t *testing.T) {
	blob := v1.Descriptor{MediaType: "application/vnd.cyclonedx+json", Digest: digest.Digest("sha256:" + strings.Repeat("a", 64)), Size: 10}
	subject := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.Digest("sha256:" + strings.Repeat("b", 64)), Size: 20}
	got := string(ArtifactManifest(blob, subject))
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cyclonedx+json",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},` +
		`"layers":[{"mediaType":"application/vnd.cyclonedx+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":10}],` +
		`"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("b", 64) + `","size":20}}`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if ReferrersTag(string(subject.Digest)) != "sha256-"+strings.Repeat("b", 64) {
		t.Fatal(ReferrersTag(string(subject.Digest)))
	}
}

// TestAddReferrer: a new index, an index another client wrote (its entry
// kept byte for byte), the same artifact twice (listed once), and a tag
// that holds something else.
func TestAddReferrer(t *testing.T) {
	blob := v1.Descriptor{MediaType: "application/spdx+json", Digest: digest.Digest("sha256:" + strings.Repeat("c", 64)), Size: 3}
	subject := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.Digest("sha256:" + strings.Repeat("d", 64)), Size: 4}
	m := ArtifactManifest(blob, subject)
	ours := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + DigestOf(m) + `","size":` + strconv.Itoa(len(m)) + `,"artifactType":"application/spdx+json"}`

	idx, added, err := AddReferrer(nil, m)
	if err != nil || !added {
		t.Fatal(added, err)
	}
	if want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + ours + `]}`; string(idx) != want {
		t.Fatalf("new index\n%s\nwant\n%s", idx, want)
	}
	again, added, err := AddReferrer(idx, m)
	if err != nil || added || string(again) != string(idx) {
		t.Fatalf("the same artifact again: added %v, %v\n%s", added, err, again)
	}
	other := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("e", 64) + `","size":9,"annotations":{"x":"y"}}`
	idx, added, err = AddReferrer([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+other+`]}`), m)
	if want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + other + `,` + ours + `]}`; err != nil || !added || string(idx) != want {
		t.Fatalf("after another client's\n%s\nwant\n%s (%v)", idx, want, err)
	}
	for _, bad := range []string{`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}}`, `[]`, `{`} {
		if _, _, err := AddReferrer([]byte(bad), m); !errors.Is(err, errdefs.ErrInvalidInput) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
