package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// indexImage is an image of the index: where it comes from, and the
// platform its config names.
type indexImage struct {
	img      *archive.Image
	from     string // the input, as messages name it
	n, of    int    // its position in the input, 1-based, and the input's image count
	platform v1.Platform
}

// name is how messages name the image: its input, and which image of it
// when the input holds several.
func (e *indexImage) name() string {
	if e.of == 1 {
		return e.from
	}
	return fmt.Sprintf("%s (image %d)", e.from, e.n)
}

// indexer assembles images for several platforms into one OCI image
// index (--index).
type indexer struct {
	o        *cli.IO
	kind     compress.Kind
	images   []*indexImage
	archives []*archive.Archive
	blobs    map[string]layerstream.Blob // diff_id → the layer's blob in the output
	ref      string                      // --tag: the name index.json gives the index, or ""
}

func newIndexer(o *cli.IO, kind compress.Kind) *indexer {
	return &indexer{o: o, kind: kind, blobs: map[string]layerstream.Blob{}}
}

// add takes every image of an archive (file names it).
func (x *indexer) add(a *archive.Archive, file string) {
	x.archives = append(x.archives, a)
	from := fmt.Sprintf("%q", file)
	if file == "-" {
		from = "stdin"
	}
	for i, img := range a.Images {
		x.images = append(x.images, &indexImage{img: img, from: from, n: i + 1, of: len(a.Images)})
	}
}

// platforms gives each image the platform its config names; an image
// without one, or for a platform another image has, is an error, and so
// is an image without layers: the image-spec's manifest schema asks for
// one at least (minItems 1), and push-blob would refuse to push it. It
// runs before write, and before the output is created.
func (x *indexer) platforms() error {
	configs := make([][]byte, len(x.images))
	for i, e := range x.images {
		configs[i] = e.img.ConfigBytes
	}
	ps, err := oci.ConfigPlatforms(configs, func(i int) string { return x.images[i].name() })
	if err != nil {
		return err
	}
	for i, p := range ps {
		x.images[i].platform = p
		if len(x.images[i].img.Layers) == 0 {
			return fmt.Errorf("%s: the image has no layers, and an image manifest lists one at least: %w", x.images[i].name(), errdefs.ErrInvalidInput)
		}
	}
	return nil
}

// write writes the OCI layout: oci-layout, the blobs (each image's
// layers, config and manifest, then the index), index.json. Images are
// written in the index's order (by platform), so the bytes do not depend
// on the order of the inputs; a layer several images share is stored once.
func (x *indexer) write(ctx context.Context, w io.Writer) error {
	slices.SortStableFunc(x.images, func(a, b *indexImage) int { return oci.ComparePlatforms(a.platform, b.platform) })
	lw := archive.NewLayoutWriter(w)
	if err := lw.File("oci-layout", oci.LayoutFile); err != nil {
		return err
	}
	entries := make([]oci.PlatformImage, len(x.images))
	for i, e := range x.images {
		layers := make([]layerstream.Blob, len(e.img.Layers))
		for j, l := range e.img.Layers {
			b, err := x.layer(ctx, lw, l)
			if err != nil {
				return fmt.Errorf("writing layer %s from %s: %w", l.DiffID, e.name(), err)
			}
			layers[j] = b
		}
		manifest := oci.Manifest(e.img.ConfigBytes, layers)
		for _, blob := range [][]byte{e.img.ConfigBytes, manifest} {
			if err := putBlob(lw, blob); err != nil {
				return err
			}
		}
		x.o.Debugf("%s: %s, manifest %s", oci.PlatformString(e.platform), e.name(), oci.DigestOf(manifest))
		entries[i] = oci.PlatformImage{Manifest: manifest, Platform: e.platform}
	}
	index := oci.PlatformIndex(entries)
	if err := putBlob(lw, index); err != nil {
		return err
	}
	fullName, tag := "", ""
	if x.ref != "" {
		fullName = archive.Normalize(x.ref)
		_, tag = archive.SplitRef(x.ref)
	}
	if err := lw.File("index.json", oci.LayoutIndex(index, fullName, tag)); err != nil {
		return err
	}
	// A layer stored as asked was read twice (verified, then copied).
	for _, a := range x.archives {
		if err := a.Unchanged(); err != nil {
			return err
		}
	}
	return lw.Close()
}

func putBlob(lw *archive.LayoutWriter, data []byte) error {
	return lw.Blob(oci.DigestOf(data), int64(len(data)), bytes.NewReader(data))
}

// layer stores a layer compressed as asked, once per diff_id, and returns
// its blob. A layer the input stores so already is copied as it is, after
// a first read that checks it against its diff_id and digest; any other
// is decompressed, verified and compressed with imgkit/oci's
// deterministic recipe into a spool, which gives the blob's name.
func (x *indexer) layer(ctx context.Context, lw *archive.LayoutWriter, l *archive.Layer) (layerstream.Blob, error) {
	if b, ok := x.blobs[l.DiffID]; ok {
		return b, nil
	}
	stored, err := l.Compression()
	if err != nil {
		return layerstream.Blob{}, err
	}
	b := layerstream.Blob{MediaType: oci.LayerMediaType(x.kind)}
	switch {
	case stored == x.kind && x.kind == compress.None:
		b.Digest = l.DiffID
		err = l.CopyUncompressed(func(size int64, r io.Reader) error {
			b.Size = size
			return lw.Blob(b.Digest, size, cli.ContextReader(ctx, r))
		})
	case stored == x.kind && l.BlobDigest() != "":
		b.Digest, b.Size = l.BlobDigest(), l.Stored().Size()
		if err = cli.ReadToEnd(ctx, l.Open); err == nil {
			err = lw.Blob(b.Digest, b.Size, cli.ContextReader(ctx, l.Stored()))
		}
	default:
		b, err = x.compress(ctx, lw, l)
	}
	if err != nil {
		return layerstream.Blob{}, err
	}
	x.blobs[l.DiffID] = b
	return b, nil
}

// compress writes the layer compressed as asked through a spool.
func (x *indexer) compress(ctx context.Context, lw *archive.LayoutWriter, l *archive.Layer) (layerstream.Blob, error) {
	r, err := l.Open()
	if err != nil {
		return layerstream.Blob{}, err
	}
	defer r.Close()
	s, err := archive.NewSpool("tar-merge-layer")
	if err != nil {
		return layerstream.Blob{}, err
	}
	layer, err := oci.WriteBlob(s.W, cli.ContextReader(ctx, r), x.kind)
	if err != nil {
		s.Discard()
		return layerstream.Blob{}, err
	}
	return layer.Blob, s.Commit(lw, layer.Blob.Digest, layer.Blob.Size)
}
