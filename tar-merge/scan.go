package main

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/semaphore"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/tarsafe"
)

// scanned is one entry of a layer: classified by tarsafe, with where its
// data lies in the uncompressed layer.
type scanned struct {
	e   tarsafe.Entry
	loc location
}

// Scanned entries travel to the tree in chunks of chunkLen, at most
// feedChunks chunks ahead per layer: memory stays bounded however many
// entries a layer has, while later layers are hashed in parallel.
const (
	chunkLen   = 1024
	feedChunks = 64
)

// scanLayer is the first pass over layer i: it reads every byte once (the
// layer's reader hashes them and fails at EOF when they do not match the
// diff_id), classifies every header, and sends each entry, with where its
// data is, to out in chunks. Nothing is kept of the data itself, and the
// holes of sparse files are never read (tarsafe.Reader), only counted
// against opts.Expanded.
func scanLayer(ctx context.Context, l *archive.Layer, i int, opts tarsafe.Options, out chan<- []scanned) error {
	kind, err := l.Compression()
	if err != nil {
		return err
	}
	limit := int64(-1) // bytes in the uncompressed layer, when known for free
	if kind == compress.None {
		limit = l.Stored().Size()
	}
	r, err := l.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	tr := tarsafe.NewReader(r, opts)
	chunk := make([]scanned, 0, chunkLen)
	send := func() error {
		select {
		case out <- chunk:
			chunk = make([]scanned, 0, chunkLen)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		if len(chunk) == chunkLen {
			if err := send(); err != nil {
				return err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		o := opts
		sparse := tr.Sparse() != nil
		if limit >= 0 && !sparse {
			// A sparse file's size counts its holes.
			o.MaxSize = limit - tr.DataOffset()
		}
		e, err := tarsafe.Classify(hdr, o)
		if err != nil {
			return err
		}
		chunk = append(chunk, scanned{e: e, loc: location{
			layer: int32(i), dataOff: tr.DataOffset(), hdrOff: tr.HeaderOffset(), size: hdr.Size, sparse: sparse,
		}})
	}
	// The bytes after the end-of-archive marker count in the diff_id:
	// reading them to EOF is what runs the digest check.
	if err := tr.Finish(); err != nil {
		return err
	}
	return send()
}

// feed carries one layer's entries from its scanner to the tree.
type feed struct {
	chunks chan []scanned
	err    error // set before chunks is closed
}

// scanAll scans the layers with up to workers layers in flight and hands
// their entries to apply in layer order, so the tree is built bottom up
// while later layers are still being hashed.
func scanAll(ctx context.Context, layers []*archive.Layer, opts tarsafe.Options, workers int, apply func(i int, entries []scanned) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feeds := make([]*feed, len(layers))
	for i := range feeds {
		feeds[i] = &feed{chunks: make(chan []scanned, feedChunks)}
	}
	sem := semaphore.NewWeighted(int64(max(workers, 1)))
	mem := semaphore.NewWeighted(maxDecoderMemory)
	go func() {
		for i, l := range layers {
			f := feeds[i]
			held, err := acquire(ctx, sem, mem, l)
			if err != nil {
				f.err = err
				close(f.chunks)
				continue
			}
			go func() {
				f.err = scanLayer(ctx, l, i, opts, f.chunks)
				close(f.chunks)
				mem.Release(held)
				sem.Release(1)
			}()
		}
	}()
	for i, f := range feeds {
		for chunk := range f.chunks {
			if err := apply(i, chunk); err != nil {
				return layerError(i, layers[i], err)
			}
		}
		if f.err != nil {
			return layerError(i, layers[i], f.err)
		}
	}
	return nil
}

// acquire takes a worker and what l's decoder may hold (a share of
// maxDecoderMemory, compress.DecoderMemory): the layers scanned at once
// are bounded by both, so that as many cores as layers do not hold as many
// zstd windows of 128 MiB. It returns the memory taken.
func acquire(ctx context.Context, sem, mem *semaphore.Weighted, l *archive.Layer) (int64, error) {
	if err := sem.Acquire(ctx, 1); err != nil {
		return 0, err
	}
	kind, err := l.Compression()
	if err != nil {
		kind = compress.None // scanLayer reports it
	}
	st := l.Stored()
	want := min(compress.DecoderMemory(kind, st, st.Size()), maxDecoderMemory)
	if err := mem.Acquire(ctx, want); err != nil {
		sem.Release(1)
		return 0, err
	}
	return want, nil
}

// layerError names the layer (1-based, bottom first) and its diff_id.
func layerError(i int, l *archive.Layer, err error) error {
	return fmt.Errorf("layer %d %s: %w", i+1, shortDigest(l.DiffID), err)
}

// shortDigest abbreviates "sha256:<64 hex>" to 12 hex digits for messages.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
