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
// tag, of the multi-platform image the first image belongs to (its
// images share Index and tags: an index of indexes holds several); with a
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

// findFor is FindFor, and FindDefault when lone is set.
func (a *Archive) findFor(name, tag string, want v1.Platform, lone bool) (*Image, error) {
	first, err := a.Find(name, tag)
	if err != nil || first.Index == "" {
		return first, err
	}
	anyName := name == "" && tag == ""
	var candidates []*Image
	for _, img := range a.Images {
		if img.Index != first.Index {
			continue
		}
		if anyName && slices.Equal(img.RepoTags, first.RepoTags) || !anyName && tagged(img, name, tag) {
			candidates = append(candidates, img)
		}
	}
	return a.choose(candidates, want, lone)
}

// ImagesFor is the archive's images as a tool that writes every image of
// it for a machine of platform want takes them (tar-merge's merge into a
// docker-archive, which holds no index): every image index.json or
// manifest.json lists itself, and of each multi-platform image (the
// images sharing an Image.Index and their tags, as FindFor has them: an
// index of indexes may hold several, each tagged) the one FindFor(want)
// takes, or with lone FindDefault(want), at the place of its first image.
// Taking them all would give a docker-archive whose tag, on each of them,
// docker load leaves on the last, whatever its platform. The error is
// FindFor's.
func (a *Archive) ImagesFor(want v1.Platform, lone bool) ([]*Image, error) {
	var out []*Image
	for _, group := range a.Groups() {
		if group[0].Index == "" {
			out = append(out, group[0])
			continue
		}
		chosen, err := a.choose(group, want, lone)
		if err != nil {
			return nil, err
		}
		out = append(out, chosen)
	}
	return out, nil
}

// Groups is the archive's images as a user names them, in the order of
// their first: each image of no multi-platform image alone, and the
// images of one multi-platform image (sharing Image.Index and RepoTags,
// as FindFor chooses among them) together, in index order.
func (a *Archive) Groups() [][]*Image {
	var groups [][]*Image
	at := map[string]int{}
	for _, img := range a.Images {
		if img.Index == "" {
			groups = append(groups, []*Image{img})
			continue
		}
		key := img.Index + "\n" + strings.Join(img.RepoTags, "\n")
		if i, ok := at[key]; ok {
			groups[i] = append(groups[i], img)
			continue
		}
		at[key] = len(groups)
		groups = append(groups, []*Image{img})
	}
	return groups
}

// choose takes, of the images of one multi-platform image (candidates,
// in index order), the one an index's clients take for want (oci.Serves);
// with lone, the first when they are all one image. None is an error
// wrapping errdefs.ErrNotFound that lists the platforms there are.
func (a *Archive) choose(candidates []*Image, want v1.Platform, lone bool) (*Image, error) {
	first := candidates[0]
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
