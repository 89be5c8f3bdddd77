package registry

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"dockertools.dev/imgkit/errdefs"
)

// HostPlatform is the platform a manifest list is resolved to by default:
// linux (images are Linux images wherever the tool runs), the host's
// architecture, and for 32-bit arm the GOARM variant the tool was built for,
// as nixpkgs' defaultArchitecture and defaultVariant.
func HostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "GOARM" && s.Value != "" {
					p.Variant = "v" + strings.TrimSuffix(strings.TrimSuffix(s.Value, ",softfloat"), ",hardfloat")
				}
			}
		}
	}
	return p
}

// normalize gives arm64's implicit variant its name, so "linux/arm64" and
// "linux/arm64/v8" are the same platform, as they are for Docker.
func normalize(p v1.Platform) v1.Platform {
	if p.Architecture == "arm64" && p.Variant == "" {
		p.Variant = "v8"
	}
	return p
}

// matches reports whether an index entry's platform satisfies want: same OS
// and architecture, and the same variant when want names one.
func matches(have *v1.Platform, want v1.Platform) bool {
	if have == nil {
		return false
	}
	h := normalize(*have)
	if h.OS != want.OS || h.Architecture != want.Architecture {
		return false
	}
	if want.Variant == "" {
		return true
	}
	return h.Variant == normalize(want).Variant
}

// SelectPlatform returns the first manifest of an index that is an image
// for want (see matches; with no variant asked, the first entry of the
// right OS and architecture wins). When none is, the error lists the
// platforms the index has.
func SelectPlatform(idx *v1.IndexManifest, want v1.Platform) (v1.Descriptor, error) {
	for _, d := range idx.Manifests {
		if isImageManifest(string(d.MediaType)) && matches(d.Platform, want) {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("no image for %s in the manifest list; it has %s: %w",
		want.String(), strings.Join(Platforms(idx), ", "), errdefs.ErrNotFound)
}

// Platforms lists the platforms of an index's image manifests, sorted, in
// OS/ARCH[/VARIANT] form. Attestation entries (platform unknown/unknown)
// are left out.
func Platforms(idx *v1.IndexManifest) []string {
	var out []string
	for _, d := range idx.Manifests {
		switch {
		case !isImageManifest(string(d.MediaType)):
		case d.Platform == nil:
			out = append(out, "(an image without a platform)")
		case d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown":
		default:
			out = append(out, d.Platform.String())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"no images"}
	}
	return out
}
