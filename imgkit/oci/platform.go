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
// architecture names no platform, and one whose os or architecture is
// "unknown" names the platform that marks attestation manifests (BuildKit's
// unknown/unknown), whose index entries clients and the tools' own
// readers (archive.Open) skip; an index would carry the image and no one
// would get it. The error wraps errdefs.ErrInvalidInput.
func ConfigPlatform(config []byte) (v1.Platform, error) {
	var p v1.Platform
	if err := json.Unmarshal(config, &p); err != nil {
		return p, fmt.Errorf("the config is not an image config: %v: %w", err, errdefs.ErrInvalidInput)
	}
	n := NormalizePlatform(p)
	for _, f := range []struct{ key, value, normal string }{{"os", p.OS, n.OS}, {"architecture", p.Architecture, n.Architecture}} {
		switch {
		case f.value == "":
			return p, fmt.Errorf("the config names no %s, so no platform: %w", f.key, errdefs.ErrInvalidInput)
		case f.normal == "unknown":
			return p, fmt.Errorf("the config names the %s %s, which marks attestation manifests in an index: clients skip such an entry: %w", f.key, errdefs.Quote(f.value), errdefs.ErrInvalidInput)
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
// choosing an image from an index: their NormalizePlatform forms have the
// same os, architecture, variant, os.version and os.features (a set).
// An index holding both would serve one of them for either.
func SamePlatform(a, b v1.Platform) bool {
	a, b = NormalizePlatform(a), NormalizePlatform(b)
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant &&
		a.OSVersion == b.OSVersion && slices.Equal(a.OSFeatures, b.OSFeatures)
}

// NormalizePlatform is a platform as Docker and containerd compare it when
// they choose an image of an index (containerd/platforms' Normalize,
// which both use): the os in lower case ("macos" is darwin); the
// architecture's aliases by their Go name (x86_64 and x86-64 are amd64,
// aarch64 arm64, i386 386, armhf arm/v7, armel arm/v6); a variant as it
// is meant (arm's none and "7" are v7, "5", "6" and "8" v5, v6, v8;
// arm64's "8" and "v8.0" and its implicit one are v8, as Variant names
// it, "9" and "v9.0" v9; amd64's v1 none); os.features sorted, once each.
func NormalizePlatform(p v1.Platform) v1.Platform {
	p.OS = strings.ToLower(p.OS)
	if p.OS == "macos" {
		p.OS = "darwin"
	}
	p.Architecture, p.Variant = strings.ToLower(p.Architecture), strings.ToLower(p.Variant)
	switch p.Architecture {
	case "i386":
		p.Architecture, p.Variant = "386", ""
	case "x86_64", "x86-64", "amd64":
		p.Architecture = "amd64"
		if p.Variant == "v1" {
			p.Variant = ""
		}
	case "aarch64", "arm64":
		p.Architecture = "arm64"
		switch p.Variant {
		case "8", "v8.0":
			p.Variant = "v8"
		case "9", "9.0", "v9.0":
			p.Variant = "v9"
		}
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	case "arm":
		switch p.Variant {
		case "", "7":
			p.Variant = "v7"
		case "5", "6", "8":
			p.Variant = "v" + p.Variant
		}
	}
	p.Variant = Variant(p.Architecture, p.Variant)
	if p.OSFeatures != nil {
		p.OSFeatures = slices.Compact(slices.Sorted(slices.Values(p.OSFeatures)))
	}
	return p
}

// ComparePlatforms orders platforms as an index lists them: by os,
// architecture, variant, os.version, then os.features, as written. It is
// 0 only for platforms written alike, so the order of images for distinct
// platforms never depends on the order they came in.
func ComparePlatforms(a, b v1.Platform) int {
	return cmp.Or(
		strings.Compare(a.OS, b.OS),
		strings.Compare(a.Architecture, b.Architecture),
		strings.Compare(a.Variant, b.Variant),
		strings.Compare(a.OSVersion, b.OSVersion),
		slices.Compare(a.OSFeatures, b.OSFeatures),
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
// multi-platform image). With fullName and tag (Index's names) its entry
// carries them: podman load and ctr images import name the image by them,
// and ctr imports nothing at all from an index.json entry without a name.
// Without, no annotations.
func LayoutIndex(index []byte, fullName, tag string) []byte {
	return oneEntry(v1.MediaTypeImageIndex, index, fullName, tag)
}
