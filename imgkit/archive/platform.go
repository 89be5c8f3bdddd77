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
// want. Where Find would take the first of the images of a
// multi-platform image (Image.Index: an OCI layout naming an image index,
// as build-index and skopeo copy --all write), which is the first
// platform's whatever want is, FindFor takes the image for want among
// them as an index's clients choose it (oci.Serves: arm takes arm/v7,
// then v6; amd64 plain amd64, never amd64/v3), by the platform its index
// entry gives (Image.Platform), else its config's: with neither name nor
// tag, of the multi-platform image the first image belongs to; with a
// name or tag, when the images having it are one multi-platform image's
// (they all have its name). Otherwise it is Find.
// No image for want is an error wrapping errdefs.ErrNotFound that lists
// the platforms there are.
func (a *Archive) FindFor(name, tag string, want v1.Platform) (*Image, error) {
	return a.findFor(name, tag, want, false)
}

// FindDefault is FindFor for a platform nobody asked for, a tool's
// default (this machine's): a multi-platform image that holds one image
// only gives that image whatever its platform, as Find does, for there is
// nothing to choose from. An image built for another machine and written
// as an index of one (build-index of one image, skopeo copy --all of a
// one-platform image) is read as its docker-archive would be.
func (a *Archive) FindDefault(name, tag string, want v1.Platform) (*Image, error) {
	return a.findFor(name, tag, want, true)
}

// ImagesFor is what a tool that takes every image of an archive (a
// merge into one docker-archive, where a tag names one image) takes for
// platform want: each image that is no tagged multi-platform image's, in
// order, and in the place of each tagged multi-platform image (the images
// of one index under the same tags) its image for want, as FindFor
// chooses it, or with lone as FindDefault does. The images of an untagged
// one all stay: no tag makes one of them the one docker runs.
func (a *Archive) ImagesFor(want v1.Platform, lone bool) ([]*Image, error) {
	var out []*Image
	done := map[*Image]bool{}
	for _, img := range a.Images {
		if img.Index == "" || len(img.RepoTags) == 0 {
			out = append(out, img)
			continue
		}
		if done[img] {
			continue
		}
		same := func(o *Image) bool { return o.Index == img.Index && slices.Equal(o.RepoTags, img.RepoTags) }
		for _, o := range a.Images {
			if same(o) {
				done[o] = true
			}
		}
		chosen, err := a.choose(img, same, want, lone)
		if err != nil {
			return nil, err
		}
		out = append(out, chosen)
	}
	return out, nil
}

// findFor is FindFor, and FindDefault when lone is set.
func (a *Archive) findFor(name, tag string, want v1.Platform, lone bool) (*Image, error) {
	first, err := a.Find(name, tag)
	if err != nil || first.Index == "" {
		return first, err
	}
	return a.choose(first, func(img *Image) bool {
		return img.Index == first.Index && (name == "" && tag == "" || tagged(img, name, tag))
	}, want, lone)
}

// choose is the image for want among the images of a multi-platform
// image that candidate tells, first among them, as findFor says.
func (a *Archive) choose(first *Image, candidate func(*Image) bool, want v1.Platform, lone bool) (*Image, error) {
	var candidates []*Image
	for _, img := range a.Images {
		if candidate(img) {
			candidates = append(candidates, img)
		}
	}
	if lone && !slices.ContainsFunc(candidates, func(img *Image) bool { return img.ConfigDigest != first.ConfigDigest }) {
		return first, nil
	}
	var best *Image
	bestRank := 0
	var have []string
	for _, img := range candidates {
		p, err := platformOf(img)
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

// platformOf is the platform clients choose img by: its index entry's,
// else the one its config names.
func platformOf(img *Image) (v1.Platform, error) {
	if img.Platform != nil {
		return *img.Platform, nil
	}
	return oci.ConfigPlatform(img.ConfigBytes)
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
