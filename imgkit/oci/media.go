package oci

import (
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/compress"
)

// Docker's media types for the same things, which registries and archives
// also use.
const (
	DockerManifest  = "application/vnd.docker.distribution.manifest.v2+json"
	DockerList      = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerConfig    = "application/vnd.docker.container.image.v1+json"
	DockerLayer     = "application/vnd.docker.image.rootfs.diff.tar"
	DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	DockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"
)

// LayerMediaType is the OCI media type of a layer stored with kind.
func LayerMediaType(kind compress.Kind) string {
	switch kind {
	case compress.Gzip:
		return v1.MediaTypeImageLayerGzip
	case compress.Zstd:
		return v1.MediaTypeImageLayerZstd
	}
	return v1.MediaTypeImageLayer
}

// LayerKind is the compression a layer media type names, OCI's or
// Docker's; ok is false for what is not a plain layer tar (foreign and
// non-distributable layers included).
func LayerKind(mediaType string) (kind compress.Kind, ok bool) {
	switch mediaType {
	case v1.MediaTypeImageLayer, DockerLayer:
		return compress.None, true
	case v1.MediaTypeImageLayerGzip, DockerLayerGzip:
		return compress.Gzip, true
	case v1.MediaTypeImageLayerZstd, DockerLayerZstd:
		return compress.Zstd, true
	}
	return compress.None, false
}

// Recipe names the bytes NewWriter produces for kind, for caches of
// compressed digests: "none", or the compression and a number bumped
// whenever the bytes change (see the package doc).
func Recipe(kind compress.Kind) string {
	switch kind {
	case compress.Gzip:
		return "gzip.1"
	case compress.Zstd:
		return "zstd.1"
	}
	return "none"
}

// IsArtifact tells an artifact's manifest from an image's by its config
// media type, as the image spec's "Guidelines for Artifact Usage" do: an
// artifact's config is the empty blob (application/vnd.oci.empty.v1+json,
// the type then in artifactType) or a config of its own type; an image's
// is an image config, OCI's or Docker's (none given is taken for one).
// IsArtifactManifest looks at the whole manifest.
func IsArtifact(configMediaType string) bool {
	switch configMediaType {
	case "", v1.MediaTypeImageConfig, DockerConfig:
		return false
	}
	return true
}

// IsArtifactManifest tells an artifact's manifest from an image's, as
// the image spec 1.1 and the tools that write artifacts have them:
//   - an artifactType, which the spec sets "when the manifest is used for
//     an artifact";
//   - a config of another type than an image's (IsArtifact);
//   - under an image config, layers that are all signing documents
//     (signingLayer): cosign's signatures (application/vnd.dev.cosign.simplesigning.v1+json,
//     the tags sha256-HEX.sig) and attestations (application/vnd.dsse.envelope.v1+json,
//     .att), which predate artifactType and give an image config naming
//     no platform.
//
// Any other layer type is an image's, which its readers may refuse as
// unsupported: a manifest is not taken for an artifact on a guess.
func IsArtifactManifest(artifactType, configMediaType string, layerMediaTypes []string) bool {
	if artifactType != "" || IsArtifact(configMediaType) {
		return true
	}
	for _, mt := range layerMediaTypes {
		if !signingLayer(mt) {
			return false
		}
	}
	return len(layerMediaTypes) > 0
}

// signingLayer tells the layer types of cosign's and sigstore's documents:
// signatures, DSSE envelopes, in-toto statements, sigstore bundles.
func signingLayer(mediaType string) bool {
	for _, prefix := range []string{"application/vnd.dev.cosign.", "application/vnd.dev.sigstore.", "application/vnd.dsse.envelope.", "application/vnd.in-toto"} {
		if strings.HasPrefix(mediaType, prefix) {
			return true
		}
	}
	return false
}

// IsLayerTar accepts the tar layer types of OCI and Docker, plain, gzip or
// zstd, distributable or not, and none given (taken for a tar).
func IsLayerTar(mediaType string) bool {
	switch {
	case mediaType == "":
		return true
	case strings.HasPrefix(mediaType, "application/vnd.oci.image.layer."):
		return true
	case strings.HasPrefix(mediaType, "application/vnd.docker.image.rootfs."):
		return true
	}
	return false
}
