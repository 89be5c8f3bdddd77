package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layercache"
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
	if l.ref != nil && ps.opts.verifyCache {
		return layerstream.Blob{}, fmt.Errorf("a reference layer (layer-pack --reuse) has no bytes to check the layer cache with (--verify-cache): pack it without --reuse: %w", errdefs.ErrInvalidInput)
	}
	rec := ps.cacheRecord(l)
	tried := map[layerstream.Blob]bool{}
	for _, c := range ps.candidates(l, rec) {
		if tried[c.blob] {
			continue
		}
		tried[c.blob] = true
		ok, err := ps.ensure(ctx, c.blob, c.from, true)
		if errors.Is(err, errOtherSize) && c.from == fromCache {
			rec.check = true // the record is wrong: compress, and replace it
			break
		}
		if err != nil && !errors.Is(err, errOtherSize) {
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
		if rec.ok && rec.blob != b {
			ps.o.Logf("warning: layer %d: the layer cache says %s (%d bytes), compressing the layer gives %s (%d bytes); the record is replaced", l.index, rec.blob.Digest, rec.blob.Size, b.Digest, b.Size)
		}
		if err := c.PutBlob(l.diffID, kind, b); err != nil {
			ps.o.Logf("warning: %v", err)
		}
	}
	if !tried[b] {
		ok, err := ps.ensure(ctx, b, "compressed", true)
		if (err != nil && !errors.Is(err, errOtherSize)) || ok {
			return b, err
		}
	}
	return b, ps.upload(ctx, fmt.Sprintf("layer %d", l.index), b, io.NewSectionReader(f, 0, b.Size))
}

// checkRefBlobs refuses a reference that names a blob the destination
// tag's image (its manifest and config) has as another layer's: a
// compressed blob is one layer's bytes, and the pairing of a reference
// (from the holdings list layer-pack --reuse was given) may be crafted.
// Pushed, the manifest would list that blob where the config lists the
// reference's diff_id: an image every pull refuses. With --no-tag-reuse,
// or a tag that does not exist, nothing is known to contradict it.
func (ps *pusher) checkRefBlobs(ref *layerstream.Ref) error {
	for _, b := range ref.Blobs {
		if slices.Contains(ps.held[ref.DiffID], b) {
			continue
		}
		for _, d := range slices.Sorted(maps.Keys(ps.held)) {
			if i := slices.IndexFunc(ps.held[d], func(h layerstream.Blob) bool { return h.Digest == b.Digest }); i >= 0 {
				return fmt.Errorf("a reference to blob %s, which the destination tag's image has as the layer %s: pack with a holdings list of the tag (--list-present) or without --reuse: %w", b.Digest, d, errdefs.ErrInvalidInput)
			}
		}
	}
	return nil
}

// cached is what the layer cache says of a layer's blob in the asked
// compression: ok when a record verified. check asks for the layer to be
// compressed even when a blob of it is known elsewhere, so that the
// record is checked or written again: the record is there but does not
// verify, the registry holds its blob at another size, or --verify-cache.
type cached struct {
	blob      layerstream.Blob
	ok, check bool
}

const fromCache = "layer cache"

func (ps *pusher) cacheRecord(l *pushLayer) cached {
	c := ps.opts.cache
	if c == nil || l.ref != nil {
		return cached{}
	}
	b, err := c.Blob(l.diffID, ps.opts.kind)
	if errors.Is(err, layercache.ErrBadRecord) {
		ps.o.Debugf("layer %d: %v; the layer is compressed and the record written again", l.index, err)
		return cached{check: true}
	}
	return cached{blob: b, ok: err == nil, check: err == nil && ps.opts.verifyCache}
}

// candidate is a stored form of a layer known without reading it, and
// where it is known from (for -v).
type candidate struct {
	blob layerstream.Blob
	from string
}

// candidates lists, best first: a reference's blobs (the asked
// compression first); the input's stored blob when it is stored as asked;
// the blob the cache recorded for this compression recipe (unless
// --verify-cache); the destination tag's blob of the same layer and
// compression (unless the cache's record is to be checked, which takes
// compressing the layer).
func (ps *pusher) candidates(l *pushLayer, rec cached) []candidate {
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
	if rec.check {
		return out
	}
	if rec.ok {
		out = append(out, candidate{rec.blob, fromCache})
	}
	for _, b := range ps.held[l.diffID] {
		if b.MediaType == mt {
			out = append(out, candidate{b, "the tag's current image"})
		}
	}
	return out
}

// errOtherSize: the registry holds a blob at another size than the one
// known for it, or does not say which.
var errOtherSize = errors.New("the registry holds the blob at another size")

// ensure makes sure the registry holds blob b, at b's size, without
// uploading it: true when it has it or a mount from another repository
// (the cache's record of where it was seen, then --mount-from) brought it.
// A blob the registry holds at another size (or without saying which) is
// not referred to: a manifest must give a blob the registry's size. That
// is a warning naming from (where b is known from, as -v says it) and
// errOtherSize. A layer's blob (layer) counts in the image's -v summary;
// the config and an SBOM's blobs do not.
func (ps *pusher) ensure(ctx context.Context, b layerstream.Blob, from string, layer bool) (bool, error) {
	held, size, err := ps.p.StatBlob(ctx, b.Digest)
	if err != nil || held {
		if err == nil {
			err = ps.sizeAgrees(b, size, from)
		}
		if err == nil && layer {
			ps.stats.add(func(s *stats) { s.present++ })
		}
		return err == nil, err
	}
	for _, repo := range ps.mountSources(b.Digest) {
		mounted, s, err := ps.p.Mount(ctx, b.Digest, repo)
		if err != nil {
			return false, err
		}
		if s != nil {
			ps.p.Cancel(s)
		}
		if !mounted {
			continue
		}
		// A mount's answer gives no size: ask.
		if held, size, err = ps.p.StatBlob(ctx, b.Digest); err == nil && held {
			err = ps.sizeAgrees(b, size, from)
		}
		if err != nil || !held {
			return false, err
		}
		ps.o.Debugf("mounted %s from %s", b.Digest, repo)
		if layer {
			ps.stats.add(func(s *stats) { s.mounted++ })
		}
		return true, nil
	}
	return false, nil
}

func (ps *pusher) sizeAgrees(b layerstream.Blob, size int64, from string) error {
	// -1 is no size: a registry that gives none does not agree with a
	// manifest that says -1.
	if size == b.Size && size >= 0 {
		return nil
	}
	if size < 0 {
		ps.o.Logf("warning: the registry does not give the size of %s (%s: %d bytes); it is not referred to", b.Digest, from, b.Size)
	} else {
		ps.o.Logf("warning: the registry holds %s as %d bytes, not %d (%s); it is not referred to", b.Digest, size, b.Size, from)
	}
	return errOtherSize
}

func (ps *pusher) mountSources(digest string) []string {
	var from []string
	if c := ps.opts.cache; c != nil {
		repo, err := c.Source(ps.host, digest)
		if errors.Is(err, layercache.ErrBadRecord) {
			ps.o.Debugf("%v; it is written again after the push", err)
		}
		if err == nil && repo != ps.repo {
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
		if err := cli.ReadToEnd(ctx, l.open); err != nil {
			return b, err
		}
	}
	return b, ps.upload(ctx, fmt.Sprintf("layer %d", l.index), b, l.stored)
}

// upload sends a blob the registry lacks; what names it for -v.
func (ps *pusher) upload(ctx context.Context, what string, b layerstream.Blob, src io.ReaderAt) error {
	ps.o.Debugf("%s: uploading %s (%d bytes)", what, b.Digest, b.Size)
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
	f, err := cli.UnlinkedTemp("push-blob-blob")
	if err != nil {
		return layerstream.Blob{}, nil, fmt.Errorf("spooling: %w", err)
	}
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
