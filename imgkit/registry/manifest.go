package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/errdefs"
)

// maxManifest bounds a manifest read into memory. The distribution spec
// asks registries to accept at least 4 MiB; real ones rarely exceed 100 KiB.
const maxManifest = 16 << 20

// acceptManifests is what we ask for: Docker v2 schema 2 and OCI, images and
// lists. Schema 1 is not asked for; a registry that has nothing else still
// serves it, and Fetch refuses it clearly.
var acceptManifests = strings.Join([]string{
	string(types.OCIImageIndex), string(types.OCIManifestSchema1),
	string(types.DockerManifestList), string(types.DockerManifestSchema2),
}, ",")

// Manifest is a manifest as the registry served it.
type Manifest struct {
	Raw       []byte          // the bytes, verified against Digest
	MediaType types.MediaType // from the body's mediaType or the Content-Type
	Digest    v1.Hash         // sha256 of Raw
}

// IsIndex reports whether m is a manifest list or an OCI index.
func (m *Manifest) IsIndex() bool { return isIndex(string(m.MediaType)) }

func isIndex(mt string) bool {
	return mt == string(types.OCIImageIndex) || mt == string(types.DockerManifestList)
}

func isImageManifest(mt string) bool {
	return mt == string(types.OCIManifestSchema1) || mt == string(types.DockerManifestSchema2)
}

// Manifest fetches the manifest ref names. By digest, the bytes must hash
// to it; by tag, their hash is returned as the digest to pin. Docker's
// schema 1 and unknown media types are refused with ErrUnsupported.
func (c *Client) Manifest(ctx context.Context, ref name.Reference) (*Manifest, error) {
	rc, err := c.repoClient(ctx, ref.Context())
	if err != nil {
		return nil, err
	}
	u := endpoint(ref.Context(), "manifests", ref.Identifier())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptManifests)
	resp, err := rc.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching manifest %s: %w", ref, describe(err))
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, fmt.Errorf("fetching manifest %s: %w", ref, rc.explain(describe(err)))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("fetching manifest %s: %w", ref, describe(err))
	}
	if len(raw) > maxManifest {
		return nil, fmt.Errorf("manifest %s: larger than %d bytes: %w", ref, maxManifest, errdefs.ErrInvalidInput)
	}
	sum := sha256.Sum256(raw)
	m := &Manifest{Raw: raw, Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != m.Digest.String() {
		return nil, fmt.Errorf("manifest %s: the registry's bytes hash to %s: %w", ref, m.Digest, errdefs.ErrDigestMismatch)
	}
	if m.MediaType, err = mediaType(raw, resp.Header.Get("Content-Type")); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", ref, err)
	}
	return m, nil
}

// mediaType names a manifest's type: the mediaType field of the body when
// it has one (it is covered by the digest), else the Content-Type header,
// else the shape of the body.
func mediaType(raw []byte, contentType string) (types.MediaType, error) {
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
		FSLayers      json.RawMessage `json:"fsLayers"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return "", fmt.Errorf("not JSON: %v: %w", err, errdefs.ErrInvalidInput)
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	mt := probe.MediaType
	if mt == "" {
		mt = ct
	}
	switch {
	case probe.SchemaVersion == 1 || probe.FSLayers != nil || strings.HasPrefix(mt, "application/vnd.docker.distribution.manifest.v1"):
		return "", fmt.Errorf("Docker image manifest v2 schema 1 (deprecated; it pins no config): re-push the image with a current client: %w", ErrUnsupported)
	case isIndex(mt) || isImageManifest(mt):
		return types.MediaType(mt), nil
	case probe.Manifests != nil:
		return types.OCIImageIndex, nil
	case probe.Config != nil:
		return types.OCIManifestSchema1, nil
	}
	return "", fmt.Errorf("media type %s is not an image manifest or a manifest list: %w", errdefs.Quote(mt), ErrUnsupported)
}

// endpoint is the URL of a repository's resource ("manifests" or "blobs").
// The scheme is settled by the transport's ping.
func endpoint(repo name.Repository, resource, id string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), resource, id)
}
