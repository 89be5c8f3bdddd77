package oci

import (
	"encoding/json"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/layerstream"
)

// Annotations an index puts on an image: the tag alone (OCI's, which
// skopeo's oci:DIR:TAG and umoci read) and the full name (containerd's,
// which docker load reads).
const (
	AnnotationRefName   = v1.AnnotationRefName
	AnnotationImageName = "io.containerd.image.name"
)

// RuntimeLayerLimit is the layer count beyond which runtimes refuse an
// image: overlayfs stacks about 128 lower directories, and Docker 20.10
// loads 125 layers and refuses 126 ("max depth exceeded"), as the layered
// workflow tests measure. manifest-gen refuses to write, and push-blob to
// push, an image of more layers.
const RuntimeLayerLimit = 125

// ManifestMediaType is the media type of the manifests Manifest writes,
// IndexMediaType of the indexes Index and PlatformIndex write.
const (
	ManifestMediaType = v1.MediaTypeImageManifest
	IndexMediaType    = v1.MediaTypeImageIndex
)

// LayoutFile is the content of an OCI layout's oci-layout file.
var LayoutFile = []byte(`{"imageLayoutVersion":"1.0.0"}`)

// Descriptor makes a descriptor of a stored blob.
func Descriptor(b layerstream.Blob) v1.Descriptor {
	return v1.Descriptor{MediaType: b.MediaType, Digest: digest.Digest(b.Digest), Size: b.Size}
}

// DescriptorOf describes bytes held in memory (a config, a manifest, an
// index) as a blob of mediaType.
func DescriptorOf(mediaType string, data []byte) v1.Descriptor {
	return v1.Descriptor{MediaType: mediaType, Digest: digest.Digest(DigestOf(data)), Size: int64(len(data))}
}

// ConfigDescriptor describes image config bytes.
func ConfigDescriptor(config []byte) v1.Descriptor {
	return DescriptorOf(v1.MediaTypeImageConfig, config)
}

// Manifest is an OCI image manifest of the config and the layers' blobs,
// bottom layer first.
func Manifest(config []byte, layers []layerstream.Blob) []byte {
	m := v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    ConfigDescriptor(config),
		Layers:    make([]v1.Descriptor, len(layers)),
	}
	for i, b := range layers {
		m.Layers[i] = Descriptor(b)
	}
	return mustJSON(m)
}

// Index is an OCI image index listing one image manifest with its names:
// the tag, and the full name:tag.
func Index(manifest []byte, fullName, tag string) []byte {
	return oneEntry(v1.MediaTypeImageManifest, manifest, fullName, tag)
}

// oneEntry is an OCI image index (an OCI layout's index.json) listing one
// blob of mediaType, annotated with fullName and tag unless fullName is
// empty.
func oneEntry(mediaType string, blob []byte, fullName, tag string) []byte {
	d := DescriptorOf(mediaType, blob)
	if fullName != "" {
		d.Annotations = map[string]string{AnnotationImageName: fullName, AnnotationRefName: tag}
	}
	return mustJSON(v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{d},
	})
}

// mustJSON encodes values that cannot fail to encode (no channels, no
// functions, no cycles). Map keys are sorted by encoding/json.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
