package registry

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
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

// matches reports whether an index entry's platform satisfies want, as
// Docker and containerd compare them (oci.NormalizePlatform: x86_64 is
// amd64, arm without a variant arm/v7, aarch64/8 arm64/v8, Linux linux):
// the same OS and architecture, and the same variant when want names one.
func matches(have *v1.Platform, want v1.Platform) bool {
	if have == nil {
		return false
	}
	h, w := normalize(*have), normalize(want)
	if h.OS != w.OS || h.Architecture != w.Architecture {
		return false
	}
	return want.Variant == "" || h.Variant == w.Variant
}

// normalize is p's OS, architecture and variant as oci.NormalizePlatform
// names them.
func normalize(p v1.Platform) ocispec.Platform {
	return oci.NormalizePlatform(ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant})
}

// maxNestedLists bounds the manifest lists inside a manifest list that
// ChooseImage fetches: real ones nest one level, if at all, and content
// addressing rules out a cycle, but not a hostile chain of any length.
const maxNestedLists = 8

// ChooseImage returns the image manifest of an index for want: the first
// entry that is an image for want (see matches; with no variant asked, the
// first of the right OS and architecture wins); else it searches, in
// order, the entries that are manifest lists themselves (a nested index)
// whose platform is want's or not given, fetching each with fetch. That is
// how go-containerregistry, containers/image (skopeo) and containerd
// resolve a nested index too. When no image is found, the error lists the
// platforms the index offers, nested ones included.
func ChooseImage(idx *v1.IndexManifest, want v1.Platform, fetch func(v1.Descriptor) (*v1.IndexManifest, error)) (v1.Descriptor, error) {
	var offered []string
	budget := maxNestedLists
	var search func(idx *v1.IndexManifest) (v1.Descriptor, bool, error)
	search = func(idx *v1.IndexManifest) (v1.Descriptor, bool, error) {
		offered = append(offered, platforms(idx)...)
		for _, d := range idx.Manifests {
			if isImageManifest(string(d.MediaType)) && matches(d.Platform, want) {
				return d, true, nil
			}
		}
		for _, d := range idx.Manifests {
			if !isIndex(string(d.MediaType)) || (d.Platform != nil && !matches(d.Platform, want)) {
				continue
			}
			if budget == 0 {
				return v1.Descriptor{}, false, fmt.Errorf("looking for %s: more than %d manifest lists nested in the manifest list: %w", Shown(want.String()), maxNestedLists, ErrUnsupported)
			}
			budget--
			nested, err := fetch(d)
			if err != nil {
				return v1.Descriptor{}, false, err
			}
			if found, ok, err := search(nested); ok || err != nil {
				return found, ok, err
			}
		}
		return v1.Descriptor{}, false, nil
	}
	d, ok, err := search(idx)
	if err != nil || ok {
		return d, err
	}
	sort.Strings(offered)
	offered = slices.Compact(offered)
	if len(offered) == 0 {
		offered = []string{"no images"}
	}
	if n := len(offered); n > maxListed {
		offered = append(offered[:maxListed], fmt.Sprintf("and %d more", n-maxListed))
	}
	return v1.Descriptor{}, fmt.Errorf("no image for %s in the manifest list; it has %s: %w",
		Shown(want.String()), strings.Join(offered, ", "), errdefs.ErrNotFound)
}

// maxListed is how many of the platforms a manifest list offers its error
// names: real lists have a dozen at most, a hostile one tens of thousands.
const maxListed = 16

// platforms lists the platforms an index's entries name: its images' and
// its nested manifest lists' (one without a platform is searched, so its
// images' platforms are listed instead). Attestation entries (platform
// unknown/unknown) are left out.
func platforms(idx *v1.IndexManifest) []string {
	var out []string
	for _, d := range idx.Manifests {
		image := isImageManifest(string(d.MediaType))
		switch {
		case !image && !isIndex(string(d.MediaType)):
		case d.Platform == nil && image:
			out = append(out, "(an image without a platform)")
		case d.Platform == nil:
		case d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown":
		default:
			out = append(out, Shown(d.Platform.String()))
		}
	}
	return out
}
