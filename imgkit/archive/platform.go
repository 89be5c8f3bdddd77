package archive

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// FindFor is Find for a tool that makes or reads an image for platform
// want: in an archive holding one multi-platform image (MultiPlatform: an
// OCI layout whose index.json names one image index, as build-index and
// skopeo copy --all write), where every image answers to the same name,
// it returns, of the images Find's name and tag select, the one for want
// as an index's clients choose it (oci.Serves: arm takes arm/v7, then v6;
// amd64 plain amd64, never amd64/v3), by the platform its config names;
// Find's first image would be the first platform's whatever want is. Any
// other archive is Find's. No image for want is an error wrapping
// errdefs.ErrNotFound that lists the platforms the archive has.
func (a *Archive) FindFor(name, tag string, want v1.Platform) (*Image, error) {
	if !a.MultiPlatform {
		return a.Find(name, tag)
	}
	var candidates []*Image
	if name == "" && tag == "" {
		candidates = a.Images
	} else {
		for _, img := range a.Images {
			if tagged(img, name, tag) {
				candidates = append(candidates, img)
			}
		}
		if len(candidates) == 0 {
			return a.Find(name, tag) // its error lists the tags
		}
	}
	var best *Image
	bestRank := 0
	var have []string
	for _, img := range candidates {
		p, err := oci.ConfigPlatform(img.ConfigBytes)
		if err != nil {
			continue
		}
		have = append(have, oci.PlatformString(p))
		if rank, ok := oci.Serves(p, want); ok && (best == nil || rank < bestRank) {
			best, bestRank = img, rank
		}
	}
	if best != nil {
		return best, nil
	}
	slices.Sort(have)
	list := "none"
	if len(have) > 0 {
		list = strings.Join(slices.Compact(have), ", ")
	}
	return nil, fmt.Errorf("%s is a multi-platform image with no image for %s (it has %s): %w", a.name, oci.PlatformString(want), list, errdefs.ErrNotFound)
}

// tagged reports whether img has the tag Find(name, tag) looks for.
func tagged(img *Image, name, tag string) bool {
	if tag == "" {
		name, tag = SplitRef(name)
	}
	want := Normalize(name + ":" + tag)
	for _, t := range img.RepoTags {
		if t == name+":"+tag || Normalize(t) == want || (name == "" && refTag(t) == tag) {
			return true
		}
	}
	return false
}
