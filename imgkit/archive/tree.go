package archive

import (
	"crypto/sha256"
	"fmt"
	"io"
	"slices"

	"dockertools.dev/imgkit/oci"
)

// Tree is an image index that index.json names and everything under it,
// as the archive holds it: what a push of the very bytes sends, as docker
// push sends a multi-platform image of the containerd image store (its
// index unchanged, the attestation manifests and nested indexes with it),
// so that the pushed digest is the saved one.
type Tree struct {
	// Docs are the manifests and indexes, each once, each after every
	// one it names (a registry checks that an index's manifests are
	// there); the root, the index index.json names, is the last.
	Docs []TreeDoc
	// Blobs are the configs and layers of the manifests, each once, in
	// the order they are first named.
	Blobs []*TreeBlob
	// Missing are the blobs named that the archive does not hold (docker
	// save skips the content of platforms never pulled), in the order
	// they are named: such a tree cannot be pushed whole.
	Missing []string
}

// TreeDoc is a manifest or index of a Tree, its bytes checked against
// its digest.
type TreeDoc struct {
	MediaType, Digest string
	Raw               []byte
	// ImageLayers is an image manifest's count of layers (0 for an index,
	// an artifact, an attestation), for limits on images.
	ImageLayers int
}

// TreeBlob is a config or layer of a Tree, at the size its descriptor
// gives.
type TreeBlob struct {
	MediaType, Digest string
	Size              int64
	// Layer is set for a layer of an image (a layer tar whose diff_id its
	// config lists): its Open checks the bytes against the blob's digest
	// and the diff_id, which Tree does not read. Every other blob (a
	// config, an attestation's statement) Tree has hashed already.
	Layer *Layer
	m     *member
	a     *Archive
}

// Stored returns the blob's bytes as the archive stores them.
func (b *TreeBlob) Stored() *io.SectionReader { return b.a.section(b.m) }

// Tree reads the image index digest, which index.json names, and every
// manifest, index and blob under it. Each manifest, index and blob that is
// no image layer is read and checked against its digest and descriptor
// size here, before anything is sent; an image layer's size is checked
// here and its bytes as they are read (TreeBlob.Layer). Indexes nest at
// most maxIndexDepth deep; the bounds of Open apply (an index naming one
// manifest many times costs it once). A loop of indexes cannot hash
// right, and is refused as a digest that lies. A media type that the
// document contradicts, or that is no manifest or index, is refused: the
// registry would be told another one. So is an image layer stored other
// than its media type says, and a manifest or blob named again that the
// second descriptor (size, media type) or config (diff_id) tells
// otherwise of: it is pushed once, and a client pulling through the other
// would fail.
func (a *Archive) Tree(digest string) (*Tree, error) {
	idx, err := a.readIndexJSON()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(idx.Manifests, func(d descriptor) bool { return d.Digest == digest })
	if i < 0 {
		return nil, invalid("index.json does not name %s", digest)
	}
	w := &treeWalk{a: a, t: &Tree{}, done: map[string]bool{}, docType: map[string]string{}, diffID: map[string]string{}}
	// Depth 1: index.json's entries, as walkIndex counts.
	if err := w.walk(idx.Manifests[i], 1); err != nil {
		return nil, err
	}
	return w.t, nil
}

type treeWalk struct {
	a    *Archive
	t    *Tree
	done map[string]bool // manifests, indexes and blobs already taken
	// What another descriptor of what is taken must say as the first did
	// (a registry checks none of it, and a client pulling by the other
	// would fail): a manifest's or index's media type; a blob's diff_id
	// (that the config of the image first naming it as a layer gives it,
	// "" for a blob no image layer).
	docType, diffID map[string]string
}

func (w *treeWalk) walk(d descriptor, depth int) error {
	if depth > maxIndexDepth && (d.MediaType == mediaOCIIndex || d.MediaType == mediaDockerList) {
		return invalid("index %s: indexes nested more than %d deep", d.Digest, maxIndexDepth)
	}
	if w.done[d.Digest] {
		return w.again(d)
	}
	w.docType[d.Digest] = d.MediaType
	if !w.a.hasBlob(d.Digest) {
		return w.missing(d)
	}
	if err := w.exactSize(d); err != nil {
		return err
	}
	raw, err := w.a.readBlob(d)
	if err != nil {
		return err
	}
	var doc ociDoc
	if err := strictJSON(raw, &doc); err != nil {
		return invalid("blob %s: %v", d.Digest, err)
	}
	if doc.MediaType != "" && doc.MediaType != d.MediaType {
		return invalid("blob %s is a %q, its descriptor says %q", d.Digest, doc.MediaType, d.MediaType)
	}
	if len(w.t.Docs) >= maxImages {
		return tooMany("more than %d manifests and indexes under one index", maxImages)
	}
	layers := 0
	switch d.MediaType {
	case mediaOCIIndex, mediaDockerList:
		for _, m := range doc.Manifests {
			if err := w.walk(m, depth+1); err != nil {
				return err
			}
		}
	case mediaOCIManifest, mediaDockerV2:
		if layers, err = w.manifest(d, doc); err != nil {
			return err
		}
	default:
		return invalid("blob %s has media type %q, not an image manifest or index", d.Digest, d.MediaType)
	}
	w.done[d.Digest] = true
	w.t.Docs = append(w.t.Docs, TreeDoc{MediaType: d.MediaType, Digest: d.Digest, Raw: raw, ImageLayers: layers})
	return nil
}

// manifest takes the config and layers of the manifest d: an image's
// layers with their diff_ids (ociImage checks them as Open checks any
// image's), an artifact's or attestation's blobs hashed now. It returns
// the count of an image's layers.
func (w *treeWalk) manifest(d descriptor, doc ociDoc) (int, error) {
	if doc.Config == nil {
		return 0, invalid("manifest %s has no config", d.Digest)
	}
	blobs := append([]descriptor{*doc.Config}, doc.Layers...)
	complete := true
	for _, b := range blobs {
		if !validDigest(b.Digest) {
			return 0, invalid("manifest %s: blob digest %q is not a sha256 digest", d.Digest, b.Digest)
		}
		if !w.a.hasBlob(b.Digest) {
			complete = false
			if err := w.missing(b); err != nil {
				return 0, err
			}
			continue
		}
		if err := w.exactSize(b); err != nil {
			return 0, err
		}
	}
	if !complete {
		return 0, nil
	}
	var layers []*Layer
	if !isArtifact(doc) && len(doc.Layers) > 0 {
		img, err := w.a.ociImage(d, doc, nil)
		if err != nil {
			return 0, err
		}
		layers = img.Layers
	}
	for i, b := range blobs {
		var layer *Layer
		diffID := ""
		if i > 0 && layers != nil {
			layer, diffID = layers[i-1], layers[i-1].DiffID
			if err := storedAsTyped(b, layer); err != nil {
				return 0, err
			}
		}
		if w.done[b.Digest] {
			if first := w.diffID[b.Digest]; first != diffID {
				return 0, invalid("blob %s is given the diff_id %q by one image's config, %q by another's", b.Digest, first, diffID)
			}
			continue
		}
		w.done[b.Digest], w.diffID[b.Digest] = true, diffID
		m, err := w.a.lookup(blobPath(b.Digest))
		if err != nil {
			return 0, err
		}
		tb := &TreeBlob{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size, Layer: layer, m: m, a: w.a}
		if layer == nil {
			if err := w.hash(tb); err != nil {
				return 0, err
			}
		}
		w.t.Blobs = append(w.t.Blobs, tb)
	}
	return len(layers), nil
}

// again checks another descriptor of a manifest or index already taken
// (pushed once, under the first descriptor's media type).
func (w *treeWalk) again(d descriptor) error {
	if first := w.docType[d.Digest]; first != d.MediaType {
		return invalid("manifest %s is listed as a %q and as a %q", d.Digest, first, d.MediaType)
	}
	if !w.a.hasBlob(d.Digest) {
		return nil
	}
	return w.exactSize(d)
}

// hash checks a blob that is no image layer against its digest.
func (w *treeWalk) hash(b *TreeBlob) error {
	h := sha256.New()
	if _, err := io.Copy(h, b.Stored()); err != nil {
		return fmt.Errorf("reading blob %s: %w", b.Digest, err)
	}
	if got := oci.Digest(h); got != b.Digest {
		return mismatch("blob %s hashes to %s", b.Digest, got)
	}
	return nil
}

// storedAsTyped refuses an image layer, b as a manifest names it, whose
// bytes are compressed other than its media type says. Layer.Open goes by
// the bytes, but the layer is pushed under the manifest as stored:
// clients that decompress by the media type (pull-blob, umoci,
// containerd's differ for an uncompressed type) could not pull the image.
func storedAsTyped(b descriptor, l *Layer) error {
	want, ok := oci.LayerKind(b.MediaType)
	if !ok {
		return nil
	}
	got, err := l.Compression()
	if err != nil {
		return err
	}
	if got != want {
		return invalid("layer %s is stored as %s, its media type %q says %s", b.Digest, got, b.MediaType, want)
	}
	return nil
}

// exactSize refuses a descriptor whose size is not the blob's: the
// registry would be given a manifest that misstates it.
func (w *treeWalk) exactSize(d descriptor) error {
	m, err := w.a.lookup(blobPath(d.Digest))
	if err != nil {
		return err
	}
	if m.size != d.Size {
		return mismatch("blob %s has %d bytes, its descriptor says %d", d.Digest, m.size, d.Size)
	}
	return nil
}

func (w *treeWalk) missing(d descriptor) error {
	if !validDigest(d.Digest) {
		return invalid("descriptor digest %q is not a sha256 digest", d.Digest)
	}
	w.done[d.Digest] = true
	w.t.Missing = append(w.t.Missing, d.Digest)
	return nil
}
