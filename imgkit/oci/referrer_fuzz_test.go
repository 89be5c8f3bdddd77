package oci

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// FuzzAddReferrer: whatever a registry holds under the referrers tag,
// AddReferrer refuses it in one line wrapping ErrInvalidInput, or returns
// an OCI image index that lists the artifact once, keeps every descriptor
// listed before, and is left as it is when the artifact is added again.
func FuzzAddReferrer(f *testing.F) {
	blob := v1.Descriptor{MediaType: "application/vnd.cyclonedx+json", Digest: digest.Digest("sha256:" + strings.Repeat("a", 64)), Size: 10}
	subject := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.Digest("sha256:" + strings.Repeat("b", 64)), Size: 20}
	m := ArtifactManifest(blob, subject)
	first, _, _ := AddReferrer(nil, m)
	for _, seed := range []string{
		string(first), `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"x"},null,1]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`, `[]`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, index []byte) {
		if index == nil {
			index = []byte{}
		}
		out, _, err := AddReferrer(index, m)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		var before, after struct{ Manifests []json.RawMessage }
		json.Unmarshal(index, &before)
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("%q gave %q, not JSON: %v", index, out, err)
		}
		ours := 0
		for _, raw := range after.Manifests {
			var d v1.Descriptor
			if json.Unmarshal(raw, &d) == nil && string(d.Digest) == DigestOf(m) {
				ours++
			}
		}
		kept := len(after.Manifests) >= len(before.Manifests)
		for i := range before.Manifests {
			var compact bytes.Buffer
			json.Compact(&compact, before.Manifests[i])
			kept = kept && bytes.Equal(compact.Bytes(), after.Manifests[i])
		}
		if ours != 1 || !kept {
			t.Fatalf("%q gave %q: the artifact %d times, the entries before kept: %v", index, out, ours, kept)
		}
		again, added, err := AddReferrer(out, m)
		if err != nil || added || !bytes.Equal(again, out) {
			t.Fatalf("adding again to %q: %q, added %v, %v", out, again, added, err)
		}
	})
}
