package oci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
)

// Referrers (OCI image-spec and distribution-spec 1.1): an artifact that
// refers to an image, such as its SBOM, is an image manifest whose
// artifactType says what it is, whose config is the empty JSON blob {},
// whose one layer is the document, and whose subject is the image's
// manifest. A registry with the referrers API lists it at
// GET /v2/NAME/referrers/DIGEST; for one without, clients keep the list
// themselves, as an image index under the tag ReferrersTag(DIGEST).

// EmptyConfig is the empty JSON blob {}, the config of an artifact.
var EmptyConfig = []byte("{}")

// ArtifactManifest is the manifest of an artifact whose one blob is
// described by blob (its media type is also the artifactType) and which
// refers to subject. Like Manifest, it is compact JSON in the
// image-spec's field order, so the same document and subject always give
// the same digest. The config descriptor embeds its two bytes (data), as
// the image-spec suggests for the empty blob.
func ArtifactManifest(blob, subject v1.Descriptor) []byte {
	return mustJSON(v1.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    v1.MediaTypeImageManifest,
		ArtifactType: blob.MediaType,
		Config:       v1.DescriptorEmptyJSON,
		Layers:       []v1.Descriptor{blob},
		Subject:      &subject,
	})
}

// ReferrersTag is the tag of the referrers tag schema for the manifest
// subject: its digest with ":" made "-" (sha256-<hex>).
func ReferrersTag(subject string) string { return strings.Replace(subject, ":", "-", 1) }

// AddReferrer returns the referrers index index (nil: none yet, an empty
// one) with the artifact manifest added, as the referrers tag schema
// keeps it: every descriptor already listed kept as it is (compacted),
// the new one
// (its mediaType, digest, size and artifactType) appended unless listed;
// added says whether it was. An index that is not an OCI image index is
// an error wrapping errdefs.ErrInvalidInput: the tag holds something else.
func AddReferrer(index, manifest []byte) (out []byte, added bool, err error) {
	var m v1.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, false, fmt.Errorf("the artifact manifest: %v: %w", err, errdefs.ErrInvalidInput)
	}
	d := DescriptorOf(v1.MediaTypeImageManifest, manifest)
	d.ArtifactType = m.ArtifactType
	// The listed descriptors are kept as raw JSON: what another client
	// wrote (annotations, other fields) is not ours to drop.
	var idx struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Manifests     []json.RawMessage `json:"manifests"`
	}
	if index != nil {
		if err := json.Unmarshal(index, &idx); err != nil {
			return nil, false, fmt.Errorf("the referrers index: %v: %w", err, errdefs.ErrInvalidInput)
		}
		if idx.SchemaVersion != 2 || idx.MediaType != v1.MediaTypeImageIndex {
			return nil, false, fmt.Errorf("the referrers tag holds a %q (schema %d), not an OCI image index: %w", idx.MediaType, idx.SchemaVersion, errdefs.ErrInvalidInput)
		}
		for _, raw := range idx.Manifests {
			var listed v1.Descriptor
			if json.Unmarshal(raw, &listed) == nil && listed.Digest == d.Digest {
				return index, false, nil
			}
		}
	}
	idx.SchemaVersion, idx.MediaType = 2, v1.MediaTypeImageIndex
	idx.Manifests = append(idx.Manifests, mustJSON(d))
	// Without HTML escaping: another client's entries keep their bytes
	// (but their spaces, which JSON encoding compacts).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(idx); err != nil {
		return nil, false, fmt.Errorf("the referrers index: %v: %w", err, errdefs.ErrInvalidInput)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true, nil
}
