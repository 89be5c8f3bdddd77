package oci

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
)

// ConfigPlatform is the platform an image config names: its os,
// architecture, variant, os.version and os.features, as the image-spec
// puts them at the config's top level. A config without an os or an
// architecture names no platform: the error wraps
// errdefs.ErrInvalidInput.
func ConfigPlatform(config []byte) (v1.Platform, error) {
	var p v1.Platform
	if err := json.Unmarshal(config, &p); err != nil {
		return p, fmt.Errorf("the config is not an image config: %v: %w", err, errdefs.ErrInvalidInput)
	}
	for _, f := range []struct{ key, value string }{{"os", p.OS}, {"architecture", p.Architecture}} {
		if f.value == "" {
			return p, fmt.Errorf("the config names no %s, so no platform: %w", f.key, errdefs.ErrInvalidInput)
		}
	}
	return p, nil
}

// ConfigPlatforms returns the platforms of the configs of the images an
// index is to list, in order. A config that names no platform, and two
// that name one platform (see SamePlatform), are errors wrapping
// errdefs.ErrInvalidInput that name the images with name(i).
func ConfigPlatforms(configs [][]byte, name func(i int) string) ([]v1.Platform, error) {
	ps := make([]v1.Platform, len(configs))
	for i, config := range configs {
		p, err := ConfigPlatform(config)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name(i), err)
		}
		for j := range i {
			if SamePlatform(ps[j], p) {
				return nil, fmt.Errorf("%s and %s are both images for %s: an index holds one image per platform: %w",
					name(j), name(i), errdefs.Quote(PlatformString(p)), errdefs.ErrInvalidInput)
			}
		}
		ps[i] = p
	}
	return ps, nil
}

// PlatformString shows a platform as Docker's --platform spells it:
// os/architecture[/variant], and ":os.version" when there is one.
func PlatformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	if p.OSVersion != "" {
		s += ":" + p.OSVersion
	}
	return s
}

// Variant is a platform's variant as clients compare it: arm64's implicit
// one is v8, so linux/arm64 and linux/arm64/v8 are the same platform, as
// they are for Docker, containerd and skopeo.
func Variant(architecture, variant string) string {
	if architecture == "arm64" && variant == "" {
		return "v8"
	}
	return variant
}

// SamePlatform reports whether two platforms are one for a client
// choosing an image from an index: os, architecture, variant (see
// Variant), os.version and os.features all equal.
func SamePlatform(a, b v1.Platform) bool {
	return a.OS == b.OS && a.Architecture == b.Architecture &&
		Variant(a.Architecture, a.Variant) == Variant(b.Architecture, b.Variant) &&
		a.OSVersion == b.OSVersion && slices.Equal(a.OSFeatures, b.OSFeatures)
}

// ComparePlatforms orders platforms as an index lists them: by os,
// architecture, variant, then os.version, as written.
func ComparePlatforms(a, b v1.Platform) int {
	return cmp.Or(
		strings.Compare(a.OS, b.OS),
		strings.Compare(a.Architecture, b.Architecture),
		strings.Compare(a.Variant, b.Variant),
		strings.Compare(a.OSVersion, b.OSVersion),
	)
}

// PlatformImage is an image of a multi-platform index: its manifest's
// bytes and its platform.
type PlatformImage struct {
	Manifest []byte
	Platform v1.Platform
}

// PlatformIndex is an OCI image index of images for distinct platforms
// (the caller refuses two for one platform: see SamePlatform). The entries
// are sorted by platform (os, architecture, variant, os.version), then by
// manifest digest, so the bytes depend on the images and not on the order
// they were given in. Each entry carries its platform as the config names
// it, and no annotations.
func PlatformIndex(images []PlatformImage) []byte {
	ds := make([]v1.Descriptor, len(images))
	for i, img := range images {
		p := img.Platform
		ds[i] = DescriptorOf(v1.MediaTypeImageManifest, img.Manifest)
		ds[i].Platform = &p
	}
	slices.SortFunc(ds, func(a, b v1.Descriptor) int {
		return cmp.Or(ComparePlatforms(*a.Platform, *b.Platform), strings.Compare(string(a.Digest), string(b.Digest)))
	})
	return mustJSON(v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: ds,
	})
}

// LayoutIndex is an OCI layout's index.json naming one image index (a
// multi-platform image), without annotations.
func LayoutIndex(index []byte) []byte {
	return mustJSON(v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{DescriptorOf(v1.MediaTypeImageIndex, index)},
	})
}
