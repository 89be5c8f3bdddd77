package main

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"runtime"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/tarsafe"
)

// flatten writes img's root filesystem to w as one tar. Pass one reads
// every layer once (verifying its diff_id) and builds the merged tree of
// paths; pass two writes the tree in sorted order, reading each surviving
// file's bytes back from its layer.
func flatten(ctx context.Context, o *cli.IO, a *archive.Archive, img *archive.Image, w io.Writer, opts tarsafe.Options) error {
	t := newTree()
	counts := make([]int, len(img.Layers))
	err := scanAll(ctx, img.Layers, opts, runtime.GOMAXPROCS(0), func(i int, entries []scanned) error {
		counts[i] += len(entries)
		for _, s := range entries {
			if err := tarsafe.CheckPlace(s.e, t); err != nil {
				return err
			}
			if err := t.apply(s.e, s.loc, int32(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, n := range counts {
		o.Debugf("layer %d %s: %d entries applied", i+1, shortDigest(img.Layers[i].DiffID), n)
	}
	em := &emitter{ctx: ctx, tw: tar.NewWriter(w), w: w, opts: opts, written: map[*inode]string{}, buf: make([]byte, 1<<20)}
	pool := &decoders{}
	for _, l := range img.Layers {
		s, err := newLayerSource(l, pool)
		if err != nil {
			return err
		}
		defer s.close()
		em.sources = append(em.sources, s)
	}
	if err := em.emitTree(t); err != nil {
		return err
	}
	for i, s := range em.sources {
		if s.restarts > 0 {
			o.Debugf("layer %d: decompressed %d more times to read files out of order", i+1, s.restarts)
		}
	}
	if err := em.tw.Close(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	// The second pass read the archive again without a digest check.
	return a.Unchanged()
}
