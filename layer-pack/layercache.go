package main

import (
	"context"
	"errors"
	"fmt"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
)

// storeLayerRules names the byte rules of store layers (treelayers.go and
// imgkit/tarw's Python headers) in layer-cache keys. Bump it whenever
// layer-pack would write different bytes for the same store paths and
// parameters: cached diff_ids must never outlive the bytes they describe.
// TestStoreLayerRulesArePinned pins each value's bytes, and fails on
// store-layer bytes that change without a new value.
const storeLayerRules = "layer-pack/nixpkgs-stream-layered-image.1"

// storeCache is --cache (and --reuse): it records the diff_id of every
// store layer packed, and turns the store layers it knows, whose blobs the
// destination holds, into reference layers that read no store file.
type storeCache struct {
	o    *cli.IO
	c    *layercache.Cache
	so   *storeOptions
	held layercache.Holdings // from --reuse; nil without it
}

// storeCache opens --cache, or returns nil without it.
func (c *command) storeCache(o *cli.IO, so *storeOptions) (*storeCache, error) {
	if c.Cache == "" {
		return nil, nil
	}
	return openStoreCache(o, c.Cache, c.Reuse, so)
}

// openStoreCache opens the cache in dir and reads the holdings list of
// --reuse (reuse may be empty). The cache is for store layers only: their
// paths are immutable, which is what makes a key of paths and parameters
// stand for the bytes (imgkit/layercache).
func openStoreCache(o *cli.IO, dir, reuse string, so *storeOptions) (*storeCache, error) {
	c, err := layercache.Open(dir)
	if err != nil {
		return nil, err
	}
	sc := &storeCache{o: o, c: c, so: so}
	if reuse == "" {
		return sc, nil
	}
	f, err := o.Open(reuse)
	if err != nil {
		return nil, fmt.Errorf("reading --reuse: %w", notFound(reuse, err))
	}
	defer f.Close()
	if sc.held, err = layercache.ReadHoldings(f); err != nil {
		return nil, fmt.Errorf("reading --reuse %q: %w", reuse, err)
	}
	return sc, nil
}

func (sc *storeCache) key(paths []string) layercache.Key {
	so := sc.so
	return layercache.Key{
		Rules: storeLayerRules, StoreDir: so.storeDir, Mtime: so.mtime,
		UID: so.uid, GID: so.gid, Uname: so.uname, Gname: so.gname, Paths: paths,
	}
}

// wrap returns the store layer of paths with the cache around it: a
// reference when the cache knows its diff_id and the holdings list has a
// blob of it, else the layer itself, recorded once packed. A nil
// storeCache returns l unchanged.
func (sc *storeCache) wrap(l layer, paths []string) layer {
	if sc == nil {
		return l
	}
	cl := &cachedStoreLayer{layer: l, sc: sc, key: sc.key(paths)}
	known, err := sc.c.Layer(cl.key)
	if errors.Is(err, layercache.ErrBadRecord) {
		sc.o.Debugf("%v; store paths %q are packed and recorded again", err, paths)
	}
	if err == nil {
		cl.known = &known
		if blobs := sc.held[known.DiffID]; len(blobs) > 0 && heldWhole(blobs, known) {
			cl.ref = &layerstream.Ref{DiffID: known.DiffID, Size: known.Size, Blobs: blobs}
			sc.o.Debugf("store paths %q: %s, held by the destination: a reference, no file read", paths, known.DiffID)
		} else if len(blobs) > 0 {
			sc.o.Debugf("store paths %q: %s is held uncompressed at another size than its %d bytes: packed again", paths, known.DiffID, known.Size)
		}
	}
	return cl
}

// heldWhole reports whether the blobs held of a layer are whole: an
// uncompressed one (its digest is the diff_id) has the layer's size. One
// that has not (a cut-short layer tar in manifest-gen --layer-tars DIR, a
// layout's blob changed by hand) is not referred to, so the layer is
// packed again and the destination's copy replaced, rather than the
// consumer failing on it in every rebuild.
func heldWhole(blobs []layerstream.Blob, known layercache.Layer) bool {
	for _, b := range blobs {
		if b.Digest == known.DiffID && b.Size != known.Size {
			return false
		}
	}
	return true
}

// cachedStoreLayer is a store layer seen through the cache.
type cachedStoreLayer struct {
	layer
	sc    *storeCache
	key   layercache.Key
	known *layercache.Layer // what the cache said, nil on a miss
	ref   *layerstream.Ref  // set: written as a reference, nothing read
}

func (l *cachedStoreLayer) measure(ctx context.Context) (int64, error) {
	if l.ref != nil {
		return 0, nil // nothing is walked, listed or read
	}
	return l.layer.measure(ctx)
}

// reemit: a reference has no bytes to hash.
func (l *cachedStoreLayer) reemit() bool {
	t, ok := l.layer.(twoPass)
	return ok && l.ref == nil && t.reemit()
}

func (l *cachedStoreLayer) release() {
	if t, ok := l.layer.(twoPass); ok {
		t.release()
	}
}

func (l *cachedStoreLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	if l.ref != nil {
		return nil
	}
	return l.layer.emit(ctx, p, size)
}

// describe gives a reference its diff_id, size and blobs (the stream
// writer then writes a reference member), and records a packed layer.
func (l *cachedStoreLayer) describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error) {
	info, check := l.layer.describe()
	if l.ref != nil {
		info.DiffID, info.Size, info.Blobs = l.ref.DiffID, l.ref.Size, l.ref.Blobs
		return info, nil
	}
	return info, func(done layerstream.LayerInfo) error {
		if check != nil {
			if err := check(done); err != nil {
				return err
			}
		}
		l.sc.record(l, done)
		return nil
	}
}

// record stores a packed layer's diff_id. A cache that cannot be written
// costs a later build time, not this one its image: it is a warning.
func (sc *storeCache) record(l *cachedStoreLayer, done layerstream.LayerInfo) {
	got := layercache.Layer{DiffID: done.DiffID, Size: done.Size}
	if l.known != nil && *l.known != got {
		// Store paths are immutable, so this means a store was modified
		// by hand or the byte rules changed without a new storeLayerRules.
		sc.o.Logf("warning: the layer cache had %s (%d bytes) for store paths %q, packing them gave %s (%d bytes); the cache entry is replaced", l.known.DiffID, l.known.Size, l.key.Paths, got.DiffID, got.Size)
	}
	if err := sc.c.PutLayer(l.key, got); err != nil {
		sc.o.Logf("warning: %v", err)
	}
}
