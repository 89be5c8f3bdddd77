package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// HostPlatform is the platform a manifest list is resolved to by default:
// oci.HostPlatform, as go-containerregistry's type.
func HostPlatform() v1.Platform {
	p := oci.HostPlatform()
	return v1.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// serves is oci.Serves for an index entry's platform: whether want takes
// its image, and how much it prefers it (0 best). An entry without a
// platform serves no one.
func serves(have *v1.Platform, want v1.Platform) (int, bool) {
	if have == nil {
		return 0, false
	}
	return oci.Serves(ocispecPlatform(*have), ocispecPlatform(want))
}

// ocispecPlatform is p as the image-spec's type.
func ocispecPlatform(p v1.Platform) ocispec.Platform {
	return ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant, OSVersion: p.OSVersion, OSFeatures: p.OSFeatures}
}

// maxNestedLists bounds the manifest lists inside a manifest list that
// ChooseImage fetches: real ones nest one level, if at all, and content
// addressing rules out a cycle, but not a hostile chain of any length.
const maxNestedLists = 8

// ChooseImage returns the image manifest of an index for want: of the
// entries that are images want takes (see oci.Serves: arm is arm/v7, which
// also takes v6 and v5; amd64 is plain amd64, never amd64/v3), the one it
// prefers, the first of those equally preferred, as containerd and docker
// choose; else it searches, in order, the entries that are manifest lists
// themselves (a nested index) whose platform want takes or is not given,
// fetching each with fetch. That is how go-containerregistry,
// containers/image (skopeo) and containerd resolve a nested index too.
// When no image is found, the error lists the platforms the index offers,
// nested ones included.
func ChooseImage(idx *v1.IndexManifest, want v1.Platform, fetch func(v1.Descriptor) (*v1.IndexManifest, error)) (v1.Descriptor, error) {
	var offered []string
	budget := maxNestedLists
	var search func(idx *v1.IndexManifest) (v1.Descriptor, bool, error)
	search = func(idx *v1.IndexManifest) (v1.Descriptor, bool, error) {
		offered = append(offered, platforms(idx)...)
		best, bestRank := -1, 0
		for i, d := range idx.Manifests {
			if rank, ok := serves(d.Platform, want); ok && isImage(d) && (best < 0 || rank < bestRank) {
				best, bestRank = i, rank
			}
		}
		if best >= 0 {
			return idx.Manifests[best], true, nil
		}
		for _, d := range idx.Manifests {
			if _, ok := serves(d.Platform, want); !isIndex(string(d.MediaType)) || (d.Platform != nil && !ok) {
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

// isImage tells an index's image entries: image manifests, but for
// artifacts, whose descriptor's artifactType (the manifest's, or its
// config's media type) is not an image config's (oci.IsArtifact: an SBOM
// listed beside the image, say).
func isImage(d v1.Descriptor) bool {
	return isImageManifest(string(d.MediaType)) && !oci.IsArtifact(d.ArtifactType)
}

// IsArtifact tells an artifact's manifest from an image's by the whole
// manifest (oci.IsArtifactManifest: its artifactType, its config's media
// type, and layers none of which is a tar, as cosign's signatures have).
func IsArtifact(m *v1.Manifest) bool {
	return oci.IsArtifactManifest(m.ArtifactType, string(m.Config.MediaType), LayerTypes(m))
}

// LayerTypes lists the media types of a manifest's layers, in order.
func LayerTypes(m *v1.Manifest) []string {
	out := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		out[i] = string(l.MediaType)
	}
	return out
}

// platforms lists the platforms an index's entries name: its images' and
// its nested manifest lists' (one without a platform is searched, so its
// images' platforms are listed instead). Attestation entries (platform
// unknown/unknown) and artifacts are left out.
func platforms(idx *v1.IndexManifest) []string {
	var out []string
	for _, d := range idx.Manifests {
		image := isImage(d)
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
