package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// pushLayer makes sure the registry holds a stored form of layer l and
// returns it. The blobs known without reading the layer come first (see
// candidates): the registry is asked for each, and a missing one may be
// mounted from another repository. Only when none is there are the
// layer's bytes read: pushed as stored when the input already stores them
// as asked, else compressed into a temporary file (which gives the digest
// to ask for once more) and uploaded from it.
func (ps *pusher) pushLayer(ctx context.Context, l *pushLayer) (layerstream.Blob, error) {
	tried := map[string]bool{}
	for _, c := range ps.candidates(l) {
		if tried[c.blob.Digest] {
			continue
		}
		tried[c.blob.Digest] = true
		ok, err := ps.ensure(ctx, c.blob)
		if err != nil {
			return layerstream.Blob{}, err
		}
		if ok {
			ps.o.Debugf("layer %d: %s (%s) is in the registry", l.index, c.blob.Digest, c.from)
			return c.blob, nil
		}
	}
	if l.ref != nil {
		return layerstream.Blob{}, fmt.Errorf("a reference layer (no bytes), and the registry holds none of its blobs %v: pack it again without --reuse: %w", blobDigests(l.ref.Blobs), errdefs.ErrNotFound)
	}
	select {
	case ps.busy <- struct{}{}:
		defer func() { <-ps.busy }()
	case <-ctx.Done():
		return layerstream.Blob{}, ctx.Err()
	}
	kind := ps.opts.kind
	if l.storedKind == kind && l.storedDigest != "" {
		return ps.uploadStored(ctx, l)
	}
	b, f, err := compressLayer(ctx, l, kind)
	if err != nil {
		return layerstream.Blob{}, err
	}
	defer f.Close()
	if c := ps.opts.cache; c != nil && kind != compress.None {
		if err := c.PutBlob(l.diffID, kind, b); err != nil {
			ps.o.Logf("warning: %v", err)
		}
	}
	if !tried[b.Digest] {
		if ok, err := ps.ensure(ctx, b); err != nil || ok {
			return b, err
		}
	}
	return b, ps.upload(ctx, l.index, b, io.NewSectionReader(f, 0, b.Size))
}

// candidate is a stored form of a layer known without reading it, and
// where it is known from (for -v).
type candidate struct {
	blob layerstream.Blob
	from string
}

// candidates lists, best first: a reference's blobs (the asked
// compression first); the input's stored blob when it is stored as asked;
// the blob the cache recorded for this compression recipe; the destination
// tag's blob of the same layer and compression; and uncompressed, the
// layer itself.
func (ps *pusher) candidates(l *pushLayer) []candidate {
	kind := ps.opts.kind
	mt := oci.LayerMediaType(kind)
	var out []candidate
	if l.ref != nil {
		for _, b := range l.ref.Blobs {
			if k, ok := oci.LayerKind(b.MediaType); ok && k == kind {
				out = append(out, candidate{b, "reference"})
			}
		}
		for _, b := range l.ref.Blobs {
			if k, ok := oci.LayerKind(b.MediaType); ok && k != kind {
				out = append(out, candidate{b, "reference, other compression"})
			}
		}
		return out
	}
	if l.storedKind == kind && l.storedDigest != "" {
		out = append(out, candidate{layerstream.Blob{MediaType: mt, Digest: l.storedDigest, Size: l.stored.Size()}, "as the input stores it"})
	}
	if c := ps.opts.cache; c != nil {
		if b, ok := c.Blob(l.diffID, kind); ok {
			out = append(out, candidate{b, "layer cache"})
		}
	}
	for _, b := range ps.held[l.diffID] {
		if b.MediaType == mt {
			out = append(out, candidate{b, "the tag's current image"})
		}
	}
	return out
}

// ensure makes sure the registry holds blob b without uploading it: true
// when it has it or a mount from another repository (the cache's record of
// where it was seen, then --mount-from) brought it.
func (ps *pusher) ensure(ctx context.Context, b layerstream.Blob) (bool, error) {
	has, err := ps.p.HasBlob(ctx, b.Digest)
	if err != nil || has {
		if has {
			ps.stats.add(func(s *stats) { s.present++ })
		}
		return has, err
	}
	for _, from := range ps.mountSources(b.Digest) {
		mounted, s, err := ps.p.Mount(ctx, b.Digest, from)
		if err != nil {
			return false, err
		}
		if s != nil {
			ps.p.Cancel(s)
		}
		if mounted {
			ps.o.Debugf("mounted %s from %s", b.Digest, from)
			ps.stats.add(func(s *stats) { s.mounted++ })
			return true, nil
		}
	}
	return false, nil
}

func (ps *pusher) mountSources(digest string) []string {
	var from []string
	if c := ps.opts.cache; c != nil {
		if repo, ok := c.Source(ps.host, digest); ok && repo != ps.repo {
			from = append(from, repo)
		}
	}
	for _, m := range ps.opts.mountFrom {
		if r := m.RepositoryStr(); r != ps.repo {
			from = append(from, r)
		}
	}
	return from
}

// uploadStored pushes the layer's stored bytes as they are, after reading
// them once to check them against the diff_id (and an OCI blob against its
// digest): the registry checks the digest, not what the bytes unpack to.
func (ps *pusher) uploadStored(ctx context.Context, l *pushLayer) (layerstream.Blob, error) {
	b := layerstream.Blob{MediaType: oci.LayerMediaType(l.storedKind), Digest: l.storedDigest, Size: l.stored.Size()}
	if l.storedKind != compress.None {
		if err := verify(ctx, l); err != nil {
			return b, err
		}
	}
	return b, ps.upload(ctx, l.index, b, l.stored)
}

func verify(ctx context.Context, l *pushLayer) error {
	r, err := l.open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, cli.ContextReader(ctx, r))
	return err
}

func (ps *pusher) upload(ctx context.Context, index int, b layerstream.Blob, src io.ReaderAt) error {
	ps.o.Debugf("layer %d: uploading %s (%d bytes)", index, b.Digest, b.Size)
	ps.bar.AddTotal(b.Size)
	if err := ps.p.Upload(ctx, nil, b.Digest, b.Size, src); err != nil {
		return err
	}
	ps.stats.add(func(s *stats) { s.uploaded++; s.uploadedBytes += b.Size })
	return nil
}

// compressLayer reads the layer (verified at its end) and writes its
// stored form, compressed as kind with the deterministic recipe, to an
// unlinked temporary file.
func compressLayer(ctx context.Context, l *pushLayer, kind compress.Kind) (layerstream.Blob, *os.File, error) {
	r, err := l.open()
	if err != nil {
		return layerstream.Blob{}, nil, err
	}
	defer r.Close()
	f, err := os.CreateTemp("", "push-blob-blob-*")
	if err != nil {
		return layerstream.Blob{}, nil, fmt.Errorf("spooling: %w", err)
	}
	os.Remove(f.Name())
	bw := bufio.NewWriterSize(f, 1<<20)
	layer, err := oci.WriteBlob(bw, cli.ContextReader(ctx, r), kind)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && layer.DiffID != l.diffID {
		err = fmt.Errorf("the bytes hash to %s: %w", layer.DiffID, errdefs.ErrDigestMismatch)
	}
	if err != nil {
		f.Close()
		return layerstream.Blob{}, nil, err
	}
	return layer.Blob, f, nil
}

func blobDigests(blobs []layerstream.Blob) []string {
	var d []string
	for _, b := range blobs {
		d = append(d, b.Digest)
	}
	return d
}
