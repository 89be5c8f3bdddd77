package oci

import (
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestIsArtifactManifest: what the image spec 1.1 and the tools that
// write artifacts make an artifact, and what stays an image.
func TestIsArtifactManifest(t *testing.T) {
	const (
		cosignSig = "application/vnd.dev.cosign.simplesigning.v1+json"
		dsse      = "application/vnd.dsse.envelope.v1+json"
	)
	for _, c := range []struct {
		name, artifactType, config string
		layers                     []string
		want                       bool
	}{
		{"OCIImage", "", v1.MediaTypeImageConfig, []string{v1.MediaTypeImageLayerGzip}, false},
		{"DockerImage", "", DockerConfig, []string{DockerLayer}, false},
		{"UntypedConfigAndLayer", "", "", []string{""}, false},
		{"NoLayers", "", v1.MediaTypeImageConfig, nil, false},
		{"ForeignLayer", "", DockerConfig, []string{"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"}, false},
		{"NonDistributable", "", v1.MediaTypeImageConfig, []string{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}, false},
		{"SBOMEmptyConfig", "application/spdx+json", v1.MediaTypeEmptyJSON, []string{"application/spdx+json"}, true},
		{"HelmChart", "", "application/vnd.cncf.helm.config.v1+json", []string{"application/vnd.cncf.helm.chart.content.v1.tar+gzip"}, true},
		{"ArtifactTypeOverImageConfig", "application/vnd.example", v1.MediaTypeImageConfig, []string{v1.MediaTypeImageLayer}, true},
		{"CosignSignature", "", v1.MediaTypeImageConfig, []string{cosignSig}, true},
		{"CosignAttestations", "", v1.MediaTypeImageConfig, []string{dsse, dsse}, true},
		{"ImageWithOneOddLayer", "", v1.MediaTypeImageConfig, []string{v1.MediaTypeImageLayer, cosignSig}, false},
		{"UnknownLayerType", "", v1.MediaTypeImageConfig, []string{"application/x-garbage"}, false},
		{"SigstoreBundle", "", v1.MediaTypeImageConfig, []string{"application/vnd.dev.sigstore.bundle.v0.3+json"}, true},
	} {
		if got := IsArtifactManifest(c.artifactType, c.config, c.layers); got != c.want {
			t.Errorf("%s: IsArtifactManifest = %v, want %v", c.name, got, c.want)
		}
	}
}
