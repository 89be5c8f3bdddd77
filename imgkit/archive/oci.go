package archive

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// Media types of manifests and indexes, OCI and Docker's.
const (
	mediaOCIIndex      = "application/vnd.oci.image.index.v1+json"
	mediaOCIManifest   = "application/vnd.oci.image.manifest.v1+json"
	mediaDockerList    = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaDockerV2      = "application/vnd.docker.distribution.manifest.v2+json"
	annotationRefName  = "org.opencontainers.image.ref.name"
	annotationImageRef = "io.containerd.image.name"
)

// maxIndexDepth bounds nested indexes.
const maxIndexDepth = 4

var errTrailing = errors.New("data after the JSON value")

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations"`
	Platform     *v1.Platform      `json:"platform"`
}

// ociDoc is what an index or manifest holds that we use; the mediaType
// field tells which it is when the descriptor does not.
type ociDoc struct {
	MediaType    string       `json:"mediaType"`
	ArtifactType string       `json:"artifactType"`
	Manifests    []descriptor `json:"manifests"`
	Config       *descriptor  `json:"config"`
	Layers       []descriptor `json:"layers"`
	Subject      *descriptor  `json:"subject"`
}

// isReferrerIndex tells an image index that is an artifact (its
// artifactType set) or a referrer of a manifest (its subject set;
// distribution-spec 1.1: a referrer is an image manifest or index with a
// subject) from a multi-platform image: what it lists are no images of
// the archive, as an artifact manifest is none.
func isReferrerIndex(doc ociDoc) bool {
	return doc.Subject != nil || doc.ArtifactType != ""
}

func (a *Archive) parseOCI() error {
	idx, err := a.readIndexJSON()
	if err != nil {
		return err
	}
	if err := a.walkIndex(idx, nil, 0, "", nil); err != nil {
		return err
	}
	if len(a.Images) == 0 {
		return invalid("index.json lists no image manifest")
	}
	return nil
}

// walkIndex adds the images an index lists, in its order. tags, when
// non-nil, come from the descriptor of a nested index and apply to every
// image in it; index is the digest of the image index index.json names
// that holds idx, or "" for index.json itself (Image.Index). Manifests for
// the "unknown" platform (build attestations) are skipped, and so are
// artifacts (isArtifact) and indexes that are referrers or artifacts
// (isReferrerIndex): a layout that oras cp -r or regctl image copy
// --referrers wrote lists an image's referrers (SBOMs, signatures) in
// index.json beside it, or the index of them under the referrers tag
// sha256-HEX (an index of artifacts alone, which adds no image; one of
// its referrers may be an index, whose manifests are the referrer's).
// index.json naming one image index and, besides, at most artifacts and
// indexes of them is a multi-platform image. Under an image index that
// index.json names, a manifest or index listed again is read once (seen):
// a manifest is the image it was, not another for its platform, and
// indexes naming the next many times over cost each once. Each entry of
// index.json itself is kept, for its tags.
func (a *Archive) walkIndex(idx ociDoc, tags []string, depth int, index string, seen map[string]bool) error {
	if depth > maxIndexDepth {
		return invalid("index.json: indexes nested more than %d deep", maxIndexDepth)
	}
	kept, indexes := 0, 0
	defer func() {
		if depth == 0 && kept == 1 && indexes == 1 {
			a.MultiPlatform = true
		}
	}()
	for _, d := range idx.Manifests {
		if d.Platform != nil && d.Platform.OS == "unknown" {
			continue
		}
		if seen != nil {
			if seen[d.Digest] {
				continue
			}
			seen[d.Digest] = true
		}
		own := tags
		if t := descriptorTag(d); t != "" {
			own = []string{t}
		}
		doc, err := a.readDoc(d)
		if err != nil {
			return err
		}
		mt := d.MediaType
		if mt == "" {
			mt = doc.MediaType
		}
		switch {
		case mt == mediaOCIIndex || mt == mediaDockerList || (mt == "" && doc.Manifests != nil):
			if isReferrerIndex(doc) {
				continue
			}
			nested, inner := index, seen
			if depth == 0 {
				nested, inner = d.Digest, map[string]bool{}
			}
			before := len(a.Images)
			if err := a.walkIndex(doc, own, depth+1, nested, inner); err != nil {
				return err
			}
			if len(a.Images) > before { // not an index of artifacts alone
				kept++
				indexes++
			}
		case mt == mediaOCIManifest || mt == mediaDockerV2 || (mt == "" && doc.Config != nil):
			if d.ArtifactType != "" || isArtifact(doc) {
				continue
			}
			kept++
			img, err := a.ociImage(d, doc, own)
			if err != nil {
				return err
			}
			img.Index = index
			if d.Platform != nil && d.Platform.OS != "" && d.Platform.Architecture != "" {
				img.Platform = d.Platform
			}
			a.Images = append(a.Images, img)
		default:
			return invalid("blob %s has media type %q, not an image manifest or index", d.Digest, mt)
		}
	}
	return nil
}

// isArtifact tells an artifact's manifest from an image's
// (oci.IsArtifactManifest: an SBOM, cosign's signatures and attestations);
// ociImage says what is wrong with one without a config.
func isArtifact(doc ociDoc) bool {
	if doc.Config == nil {
		return false
	}
	layers := make([]string, len(doc.Layers))
	for i, l := range doc.Layers {
		layers[i] = l.MediaType
	}
	return oci.IsArtifactManifest(doc.ArtifactType, doc.Config.MediaType, layers)
}

// descriptorTag is the tag an index entry gives its image: containerd's
// full reference when present, else the OCI ref name verbatim.
func descriptorTag(d descriptor) string {
	if t := d.Annotations[annotationImageRef]; t != "" {
		return t
	}
	return d.Annotations[annotationRefName]
}

func (a *Archive) ociImage(d descriptor, doc ociDoc, tags []string) (*Image, error) {
	if doc.Config == nil {
		return nil, invalid("manifest %s has no config", d.Digest)
	}
	if !validDigest(doc.Config.Digest) {
		return nil, invalid("manifest %s: config digest %q is not a sha256 digest", d.Digest, doc.Config.Digest)
	}
	refs := make([]layerRef, len(doc.Layers))
	for i, l := range doc.Layers {
		if !validDigest(l.Digest) {
			return nil, invalid("manifest %s: layer digest %q is not a sha256 digest", d.Digest, l.Digest)
		}
		if !oci.IsLayerTar(l.MediaType) {
			return nil, invalid("manifest %s: layer %s has media type %q, not a layer tar", d.Digest, l.Digest, l.MediaType)
		}
		if _, err := a.checkBlobSize(l); err != nil {
			return nil, err
		}
		refs[i] = layerRef{member: blobPath(l.Digest), blobDigest: l.Digest, mediaType: l.MediaType}
	}
	if _, err := a.checkBlobSize(*doc.Config); err != nil {
		return nil, err
	}
	return a.newImage(tags, blobPath(doc.Config.Digest), doc.Config.Digest, refs)
}

func blobPath(digest string) string {
	return "blobs/" + strings.Replace(digest, ":", "/", 1)
}

// readIndexJSON reads index.json.
func (a *Archive) readIndexJSON() (ociDoc, error) {
	var idx ociDoc
	raw, err := a.readSmall("index.json")
	if err != nil {
		return idx, err
	}
	if err := strictJSON(raw, &idx); err != nil {
		return idx, invalid("index.json: %v", err)
	}
	return idx, nil
}

// readDoc reads the index or manifest d, checked against d.
func (a *Archive) readDoc(d descriptor) (ociDoc, error) {
	var doc ociDoc
	raw, err := a.readBlob(d)
	if err != nil {
		return doc, err
	}
	if err := strictJSON(raw, &doc); err != nil {
		return doc, invalid("blob %s: %v", d.Digest, err)
	}
	return doc, nil
}

// readBlob reads a small blob and checks it against its descriptor.
func (a *Archive) readBlob(d descriptor) ([]byte, error) {
	if !validDigest(d.Digest) {
		return nil, invalid("descriptor digest %q is not a sha256 digest", d.Digest)
	}
	if _, err := a.checkBlobSize(d); err != nil {
		return nil, err
	}
	raw, err := a.readSmall(blobPath(d.Digest))
	if err != nil {
		return nil, err
	}
	if got := digestOf(raw); got != d.Digest {
		return nil, mismatch("blob %s hashes to %s", d.Digest, got)
	}
	return raw, nil
}

// checkBlobSize compares a blob's stored size with its descriptor's.
func (a *Archive) checkBlobSize(d descriptor) (*member, error) {
	m, err := a.lookup(blobPath(d.Digest))
	if err != nil {
		return nil, err
	}
	if d.Size != 0 && m.size != d.Size {
		return nil, mismatch("blob %s has %d bytes, its descriptor says %d", d.Digest, m.size, d.Size)
	}
	return m, nil
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrDigestMismatch)
}
