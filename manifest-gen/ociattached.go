package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// attachedArtifact is an artifact an oci-dir layout lists about its image:
// its index.json entry and the blobs it is made of (manifest, config,
// layers).
type attachedArtifact struct {
	entry v1.Descriptor
	blobs []v1.Descriptor
}

// otherImages says why the layout's index.json is not one manifest-gen
// wrote (empty: it is), which lists one image manifest, and records that
// image and the artifacts listed beside it about it (o.image,
// o.attached). skopeo copy … oci:DIR:TAG and umoci tag add an entry (and
// its blobs) to a layout; the rebuild, which replaces DIR whole, would
// drop those images without a word, so such a layout is refused as other
// files in DIR are. An artifact (oci.IsArtifactManifest) whose subject is
// the image, as oras attach --oci-layout lists an SBOM, or tagged as
// cosign tags its signatures, attestations and SBOMs of it
// (sha256-HEX.sig, .att, .sbom), describes that image, and so does a
// referrers index of it (referrersIndex): the rebuild keeps
// it when the image stays the same, and drops it with a warning when not
// (carryAttached). Any other artifact is someone else's, refused.
func (o *oldLayout) otherImages() string {
	var index v1.Index
	if err := o.readJSON("index.json", &index); err != nil {
		return "index.json is not an image index"
	}
	var images []string
	var artifacts []attachedArtifact
	subjects := map[string]string{} // artifact manifest digest → its subject's
	for _, d := range index.Manifests {
		if d.MediaType == v1.MediaTypeImageIndex {
			a, subject, why := o.referrersIndex(d)
			if why != "" {
				return why
			}
			subjects[d.Digest.String()] = subject
			artifacts = append(artifacts, a)
			continue
		}
		if d.MediaType != v1.MediaTypeImageManifest {
			return fmt.Sprintf("index.json lists a %q, not the image manifest it writes", d.MediaType)
		}
		m, artifact, why := o.readManifest(d)
		if why != "" {
			return why
		}
		if !artifact {
			images = append(images, d.Digest.String())
			continue
		}
		if m.Subject != nil {
			subjects[d.Digest.String()] = m.Subject.Digest.String()
		}
		a := attachedArtifact{entry: d, blobs: append([]v1.Descriptor{d, m.Config}, m.Layers...)}
		artifacts = append(artifacts, a)
	}
	switch n := len(images); {
	case n > 1:
		return fmt.Sprintf("index.json lists %d images, not the one it writes: another tool added to it, and a rebuild would drop them", n)
	case n == 0:
		return "index.json lists no image"
	}
	image := images[0]
	referrersTag := oci.ReferrersTag(image)
	for _, a := range artifacts {
		name := a.entry.Annotations[v1.AnnotationRefName]
		tag, ok := strings.CutPrefix(name, referrersTag+".")
		if subjects[a.entry.Digest.String()] != image && !(ok && (tag == "sig" || tag == "att" || tag == "sbom")) &&
			!(a.entry.MediaType == v1.MediaTypeImageIndex && name == referrersTag) {
			return fmt.Sprintf("index.json lists an artifact not of its image (%s): another tool added it, and a rebuild would drop it", a.entry.Digest)
		}
	}
	o.image, o.attached = image, artifacts
	return ""
}

// readManifest reads the image manifest d lists and says whether it is an
// artifact's; why says what is wrong when it is not a manifest of the
// layout.
func (o *oldLayout) readManifest(d v1.Descriptor) (m v1.Manifest, artifact bool, why string) {
	if checkBlobDigest(d.Digest.String()) != nil || o.readJSON(blobPath(d.Digest.String()), &m) != nil {
		return m, false, fmt.Sprintf("index.json lists the manifest %s, which is not a blob of it", d.Digest)
	}
	layers := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		layers[i] = l.MediaType
	}
	return m, d.ArtifactType != "" || oci.IsArtifactManifest(m.ArtifactType, m.Config.MediaType, layers), ""
}

// referrersIndex reads the image index d that index.json lists: one that
// lists artifacts alone is a referrers index, as the image-spec's
// referrers tag schema keeps it where there is no referrers API (regctl's
// ocidir, oras cp of the tag sha256-HEX, a skopeo copy of it). It is an
// artifact of the image (attachedArtifact: the index and every blob of
// its artifacts) when it has the image's referrers tag or all its
// artifacts have the one subject returned ("" when they do not). An
// index that lists an image (a multi-platform image), or another index,
// is not one manifest-gen wrote: why says so.
func (o *oldLayout) referrersIndex(d v1.Descriptor) (a attachedArtifact, subject, why string) {
	var idx v1.Index
	if checkBlobDigest(d.Digest.String()) != nil || o.readJSON(blobPath(d.Digest.String()), &idx) != nil {
		return a, "", fmt.Sprintf("index.json lists the index %s, which is not a blob of it", d.Digest)
	}
	a = attachedArtifact{entry: d, blobs: []v1.Descriptor{d}}
	seen := map[string]bool{} // under index-type referrers: read once
	for i, r := range idx.Manifests {
		var referrer *v1.Descriptor
		switch r.MediaType {
		case v1.MediaTypeImageManifest:
			m, artifact, why := o.readManifest(r)
			if why != "" {
				return a, "", why
			}
			if artifact {
				referrer = m.Subject
				if referrer == nil {
					referrer = &v1.Descriptor{}
				}
				a.blobs = append(append(a.blobs, r, m.Config), m.Layers...)
			}
		case v1.MediaTypeImageIndex:
			// An index whose subject is set is a referrer too
			// (distribution-spec 1.1: each descriptor of a referrers
			// list is of an image manifest or index with a subject):
			// its manifests and their blobs are its content.
			blobs, sub, why := o.indexReferrer(r, 0, seen)
			if why != "" {
				return a, "", why
			}
			referrer = sub
			a.blobs = append(a.blobs, blobs...)
		}
		if referrer == nil {
			return a, "", fmt.Sprintf("index.json lists the index %s, which holds a %q that is no artifact: an image it does not write", d.Digest, r.MediaType)
		}
		s := referrer.Digest.String()
		if i == 0 {
			subject = s
		} else if s != subject {
			subject = ""
		}
	}
	return a, subject, ""
}

// maxReferrerDepth bounds the indexes an index-type referrer nests.
const maxReferrerDepth = 4

// indexReferrer reads the image index d that a referrers index lists, and
// returns its blobs (d, and every manifest, index, config and layer under
// it, at most maxReferrerDepth deep) and its subject, nil when it has
// none: an index without a subject is no referrer but an image. A
// manifest or index under it that seen holds is not read again (nor its
// blobs returned again): indexes naming the next many times over would
// cost the product of their lengths.
func (o *oldLayout) indexReferrer(d v1.Descriptor, depth int, seen map[string]bool) (blobs []v1.Descriptor, subject *v1.Descriptor, why string) {
	var idx v1.Index
	if depth > maxReferrerDepth {
		return nil, nil, fmt.Sprintf("index.json lists a referrer whose indexes nest more than %d deep (%s)", maxReferrerDepth, d.Digest)
	}
	if checkBlobDigest(d.Digest.String()) != nil || o.readJSON(blobPath(d.Digest.String()), &idx) != nil {
		return nil, nil, fmt.Sprintf("index.json lists the index %s, which is not a blob of it", d.Digest)
	}
	if depth == 0 && idx.Subject == nil {
		return nil, nil, ""
	}
	blobs = []v1.Descriptor{d}
	for _, r := range idx.Manifests {
		if seen[r.Digest.String()] {
			continue
		}
		seen[r.Digest.String()] = true
		switch r.MediaType {
		case v1.MediaTypeImageManifest:
			m, _, why := o.readManifest(r)
			if why != "" {
				return nil, nil, why
			}
			blobs = append(append(blobs, r, m.Config), m.Layers...)
		case v1.MediaTypeImageIndex:
			nested, _, why := o.indexReferrer(r, depth+1, seen)
			if why != "" {
				return nil, nil, why
			}
			blobs = append(blobs, nested...)
		default:
			return nil, nil, fmt.Sprintf("index.json lists a referrer index %s, which holds a %q", d.Digest, r.MediaType)
		}
	}
	return blobs, idx.Subject, ""
}

// carryAttached keeps the old layout's artifacts about its image in the
// new layout in dir, whose image manifest is manifest, when that is the
// old image's (a rebuild that changed nothing: a signature or SBOM of it
// still holds): their blobs are linked into dir as reused layers are, and
// index is returned with their entries after the image's. When the image
// changed, or DIR is not trusted for its blobs' names (oldLayout.trust), or
// does not hold one of them, index is returned as it is: they describe
// an image no longer there, and the commit says they were dropped (and
// why, in dropped, when the image stayed the same). Their
// blobs are reused as the image's are, so --verify hashes them too.
func (o *oldLayout) carryAttached(manifest, index []byte, dir string) ([]byte, error) {
	if len(o.attached) == 0 || oci.DigestOf(manifest) != o.image {
		return index, nil
	}
	if o.trust() != nil {
		o.dropped = fmt.Sprintf("%q is not this user's alone, and their blobs would be taken on their names", o.dir)
		return index, nil
	}
	for _, a := range o.attached {
		for _, b := range a.blobs {
			// Another tool wrote them: oras makes its blobs 0444, not 0644
			// as ours (oldLayout.holds); writable by no one else all the same.
			fi, ok := o.blobs[strings.TrimPrefix(b.Digest.String(), "sha256:")]
			if checkBlobDigest(b.Digest.String()) != nil || !ok || fi.Size() != b.Size || fi.Mode().Perm()&0o022 != 0 {
				o.dropped = fmt.Sprintf("the artifact %s names the blob %s, which %q does not hold as a blob of %d bytes writable by its owner alone", a.entry.Digest, b.Digest, o.dir, b.Size)
				return index, nil
			}
		}
	}
	var idx v1.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		return nil, err
	}
	for _, a := range o.attached {
		for _, b := range a.blobs {
			name := blobPath(b.Digest.String())
			dst := filepath.Join(dir, name)
			err := os.Link(filepath.Join(o.dir, name), dst)
			if errors.Is(err, fs.ErrExist) {
				continue // a blob the image shares (an empty config), or listed twice
			}
			if err != nil {
				return nil, fmt.Errorf("keeping the artifact %s of %q: %w", a.entry.Digest, o.dir, cli.PathCause(err))
			}
			// The name linked must be the file listed, not one put there since.
			if now, err := os.Lstat(dst); err != nil || !os.SameFile(o.blobs[strings.TrimPrefix(b.Digest.String(), "sha256:")], now) {
				os.Remove(dst)
				return nil, fmt.Errorf("keeping the artifact %s: %q changed during the build: %w", a.entry.Digest, o.dir, errdefs.ErrInvalidInput)
			}
			if o.verify {
				if err := verifyBlob(dst, b.Digest.String(), "remove the artifact, or attach it again"); err != nil {
					os.Remove(dst)
					return nil, fmt.Errorf("keeping the artifact %s of %q: blob %s: %w", a.entry.Digest, o.dir, b.Digest, err)
				}
			}
		}
		idx.Manifests = append(idx.Manifests, a.entry)
	}
	o.kept = true
	return json.Marshal(idx)
}
