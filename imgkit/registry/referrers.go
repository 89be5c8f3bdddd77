package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// How PutReferrer made an artifact a referrer of its subject.
const (
	// ReferrersAPI: the registry lists it at GET /v2/NAME/referrers/DIGEST.
	ReferrersAPI = "the referrers API"
	// ReferrersTag: the registry has no referrers API; the artifact is
	// listed in the index under the tag sha256-HEX (oci.ReferrersTag).
	ReferrersTag = "the referrers tag"
)

// PutReferrer stores manifest, an artifact manifest (oci.ArtifactManifest)
// whose blobs the repository holds, by its digest, and makes it a referrer
// of its subject, the manifest digest subject, as distribution-spec 1.1
// asks a client to: a registry that processed the subject says so with the
// OCI-Subject header; one that does not, but whose referrers API
// (GET /v2/NAME/referrers/SUBJECT) answers with an index listing the
// artifact, indexes it itself (go-containerregistry's registry does); for
// any other (Docker's distribution 2.8 has no such API) the referrers tag
// schema is kept: the index under the tag sha256-HEX is fetched (none
// yet: an empty one), the artifact appended unless listed, and the index
// put back. Two clients updating the same tag at once can lose one's
// entry, as the specification warns; the artifact itself stays, by digest.
// It returns ReferrersAPI or ReferrersTag.
func (p *Pusher) PutReferrer(ctx context.Context, manifest []byte, subject string) (string, error) {
	digest := oci.DigestOf(manifest)
	header, err := p.putManifest(ctx, digest, v1.MediaTypeImageManifest, manifest)
	if err != nil {
		return "", fmt.Errorf("the artifact %s: %w", digest, err)
	}
	if header.Get("OCI-Subject") == subject {
		return ReferrersAPI, nil
	}
	if listed, err := p.referrersList(ctx, subject, digest); err != nil {
		return "", err
	} else if listed {
		return ReferrersAPI, nil
	}
	tag := oci.ReferrersTag(subject)
	index, err := p.getIndex(ctx, tag)
	if err != nil {
		return "", err
	}
	out, added, err := oci.AddReferrer(index, manifest)
	if err != nil {
		return "", fmt.Errorf("tag %s: %w", tag, err)
	}
	if added {
		if err := p.PutManifest(ctx, tag, v1.MediaTypeImageIndex, out); err != nil {
			return "", fmt.Errorf("tag %s: %w", tag, err)
		}
	}
	return ReferrersTag, nil
}

// referrersList asks the referrers API for subject's referrers and
// reports whether it lists digest; a registry without the API (any answer
// but an OCI index) lists nothing.
func (p *Pusher) referrersList(ctx context.Context, subject, digest string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url("referrers", subject), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", v1.MediaTypeImageIndex)
	resp, err := p.hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("asking for the referrers of %s: %w", subject, p.describe(err))
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || ct != v1.MediaTypeImageIndex {
		return false, nil
	}
	var idx v1.Index
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifest)).Decode(&idx); err != nil {
		return false, nil
	}
	for _, d := range idx.Manifests {
		if string(d.Digest) == digest {
			return true, nil
		}
	}
	return false, nil
}

// getIndex fetches the manifest under tag, or nil when there is none.
func (p *Pusher) getIndex(ctx context.Context, tag string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url("manifests", tag), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", v1.MediaTypeImageIndex)
	resp, err := p.do(req, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return nil, fmt.Errorf("fetching tag %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxManifest+1)); err != nil {
		return nil, fmt.Errorf("fetching tag %s: %w", tag, p.describe(err))
	}
	if buf.Len() > maxManifest {
		return nil, fmt.Errorf("tag %s: larger than %d bytes: %w", tag, maxManifest, errdefs.ErrInvalidInput)
	}
	return buf.Bytes(), nil
}
