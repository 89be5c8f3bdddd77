package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/registry"
)

// maxConfig bounds the config blob, as the layer stream's reader does.
const maxConfig = 64 << 20

// image is a resolved image: its manifest and its verified config.
type image struct {
	repo      name.Repository
	digest    v1.Hash // of the image manifest (not of a list above it)
	manifest  *v1.Manifest
	configRaw []byte // verbatim, verified against manifest.Config.Digest
	diffIDs   []v1.Hash
	layers    []layer
}

// layer is one layer to pull, bottom first.
type layer struct {
	index  int
	desc   v1.Descriptor
	kind   compress.Kind // how the blob is compressed, from its media type
	diffID v1.Hash       // from the config
}

// resolveImage fetches the manifest ref names, picks the image for p from
// a manifest list, and fetches and checks its config.
func resolveImage(ctx context.Context, o *cli.IO, client *registry.Client, ref name.Reference, p v1.Platform) (*image, error) {
	m, err := client.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	if _, pinned := ref.(name.Digest); !pinned {
		o.Logf("warning: %s is a tag, so the result is not pinned; it resolved to %s@%s", ref.Name(), ref.Context(), m.Digest)
	}
	if m.IsIndex() {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
		if err != nil {
			return nil, fmt.Errorf("manifest list %s@%s: %v: %w", ref.Context(), m.Digest, err, errdefs.ErrInvalidInput)
		}
		d, err := registry.ChooseImage(idx, p, func(d v1.Descriptor) (*v1.IndexManifest, error) {
			return nestedList(ctx, o, client, ref.Context(), d)
		})
		if err != nil {
			return nil, fmt.Errorf("%s@%s: %w", ref.Context(), m.Digest, err)
		}
		o.Debugf("manifest list %s: %s is %s", m.Digest, registry.Shown(d.Platform.String()), d.Digest)
		if m, err = client.Manifest(ctx, ref.Context().Digest(d.Digest.String())); err != nil {
			return nil, err
		}
		if m.IsIndex() {
			return nil, fmt.Errorf("%s@%s: the entry for %s is another manifest list: %w", ref.Context(), d.Digest, p.String(), registry.ErrUnsupported)
		}
	}
	img := &image{repo: ref.Context(), digest: m.Digest}
	where := fmt.Sprintf("image %s@%s", ref.Context(), m.Digest)
	if img.manifest, err = v1.ParseManifest(bytes.NewReader(m.Raw)); err != nil {
		return nil, fmt.Errorf("%s: manifest: %v: %w", where, err, errdefs.ErrInvalidInput)
	}
	cfg := img.manifest.Config
	if registry.IsArtifact(img.manifest) {
		// An SBOM or signature that refers to an image, say: its config
		// has no diff_ids, or its layers are no tars, which would be the
		// only complaint otherwise.
		kind := img.manifest.ArtifactType // or, without one, the config's type
		if kind == "" {
			kind = string(cfg.MediaType)
		}
		if !oci.IsArtifact(kind) { // cosign's: an image config over its documents
			layerTypes := slices.Compact(slices.Sorted(slices.Values(registry.LayerTypes(img.manifest))))
			return nil, fmt.Errorf("%s: an artifact (its layers %s), not an image: %w", where, registry.Shown(strings.Join(layerTypes, ", ")), errdefs.ErrInvalidInput)
		}
		return nil, fmt.Errorf("%s: an artifact of type %s, not an image: %w", where, registry.Shown(kind), errdefs.ErrInvalidInput)
	}
	if cfg.Size < 0 || cfg.Size > maxConfig {
		return nil, fmt.Errorf("%s: config of %d bytes: %w", where, cfg.Size, errdefs.ErrInvalidInput)
	}
	br, err := client.Blob(ctx, img.repo, cfg.Digest, cfg.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", where, err)
	}
	img.configRaw, err = io.ReadAll(br)
	br.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", where, err)
	}
	config, err := v1.ParseConfigFile(bytes.NewReader(img.configRaw))
	if err != nil {
		return nil, fmt.Errorf("%s: config %s: %v: %w", where, cfg.Digest, err, errdefs.ErrInvalidInput)
	}
	if got := config.Platform(); got != nil && (got.OS != p.OS || got.Architecture != p.Architecture) {
		o.Logf("warning: %s is for %s, not %s", where, registry.Shown(got.String()), registry.Shown(p.String()))
	}
	img.diffIDs = config.RootFS.DiffIDs
	// As push-blob and manifest-gen: every runtime refuses such an image,
	// and manifest-gen would refuse it only once pull-blob had fetched
	// its layers (largest first, so all of them when layer 0 is the
	// smallest).
	if n := len(img.manifest.Layers); n > oci.RuntimeLayerLimit {
		return nil, fmt.Errorf("%s: %d layers, more than the %d runtimes accept: %w", where, n, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
	}
	if len(img.diffIDs) != len(img.manifest.Layers) {
		return nil, fmt.Errorf("%s: the manifest has %d layers, the config %d diff_ids: %w", where, len(img.manifest.Layers), len(img.diffIDs), errdefs.ErrInvalidInput)
	}
	for i, d := range img.manifest.Layers {
		kind, err := layerCompression(d.MediaType)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d %s: %w", where, i, d.Digest, err)
		}
		if d.Size < 0 {
			// Blob takes a negative size for "unknown", which would let
			// the registry send as much as it likes.
			return nil, fmt.Errorf("%s: layer %d %s: size %d: %w", where, i, d.Digest, d.Size, errdefs.ErrInvalidInput)
		}
		if img.diffIDs[i].Algorithm != "sha256" {
			return nil, fmt.Errorf("%s: layer %d: diff_id %s is not sha256: %w", where, i, img.diffIDs[i], errdefs.ErrInvalidInput)
		}
		img.layers = append(img.layers, layer{index: i, desc: d, kind: kind, diffID: img.diffIDs[i]})
	}
	return img, nil
}

// nestedList fetches a manifest list named in a manifest list.
func nestedList(ctx context.Context, o *cli.IO, client *registry.Client, repo name.Repository, d v1.Descriptor) (*v1.IndexManifest, error) {
	o.Debugf("nested manifest list %s", d.Digest)
	m, err := client.Manifest(ctx, repo.Digest(d.Digest.String()))
	if err != nil {
		return nil, err
	}
	if !m.IsIndex() {
		return nil, fmt.Errorf("%s@%s: listed as a manifest list, it is %s: %w", repo, d.Digest, m.MediaType, errdefs.ErrInvalidInput)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return nil, fmt.Errorf("manifest list %s@%s: %v: %w", repo, m.Digest, err, errdefs.ErrInvalidInput)
	}
	return idx, nil
}

// dockerLayerZstd is what Docker (since 23) labels a zstd layer in a
// schema 2 manifest.
const dockerLayerZstd types.MediaType = "application/vnd.docker.image.rootfs.diff.tar.zstd"

// layerCompression maps a layer's media type to its compression. Foreign
// (non-distributable) layers and unknown types are refused: their bytes
// are not necessarily in the registry, or not a tar.
func layerCompression(mt types.MediaType) (compress.Kind, error) {
	switch mt {
	case types.DockerLayer, types.OCILayer:
		return compress.Gzip, nil
	case types.OCILayerZStd, dockerLayerZstd:
		return compress.Zstd, nil
	case types.DockerUncompressedLayer, types.OCIUncompressedLayer:
		return compress.None, nil
	}
	return "", fmt.Errorf("layer media type %s: %w", errdefs.Quote(string(mt)), registry.ErrUnsupported)
}
