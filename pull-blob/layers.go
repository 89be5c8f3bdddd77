package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/registry"
)

type pullOptions struct {
	jobs    int
	lowDisk bool
	// expanded bounds each layer's uncompressed bytes: a few kilobytes of
	// gzip or zstd can stand for terabytes of spool.
	expanded errdefs.Bound
}

// copyBuffer is the size of the chunks layers are copied in.
const copyBuffer = 1 << 20

// pullImage writes img as a layer stream on stdout. Layers are downloaded
// by o.jobs workers, largest first (see fetchOrder), each into a spool file
// where it is verified (digest, then diff_id); the stream writes each layer
// as soon as it and every layer below it are verified, so downloading goes
// on while earlier layers are written. Nothing of a layer reaches stdout
// before all its checks have passed.
func pullImage(ctx context.Context, o *cli.IO, client *registry.Client, img *image, opts pullOptions) error {
	// The bound counts decompressed bytes, which an uncompressed layer,
	// or a compressed one spooled as it is (lowDisk), never passes
	// through: the blob itself may not pass it either, so that a
	// registry cannot announce a terabyte and fill the spool with it.
	// (Compression makes no blob much larger than what it holds.)
	for _, l := range img.layers {
		if l.desc.Size > opts.expanded.Max {
			return fmt.Errorf("layer %d %s: %d bytes: %w", l.index, l.desc.Digest, l.desc.Size, opts.expanded.Past())
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bar := registry.NewProgress(o.Stderr, "pulling", o.Quiet)
	defer bar.Stop()
	for _, l := range img.layers {
		bar.AddTotal(l.desc.Size)
	}

	// The first failure, of a worker or of the writer, is the one
	// reported; it cancels everything else.
	var failOnce sync.Once
	var failure error
	fail := func(err error) {
		failOnce.Do(func() { failure = err; cancel() })
	}

	spools := make([]chan *spooled, len(img.layers))
	for i := range spools {
		spools[i] = make(chan *spooled, 1)
	}
	sched := newSchedule(img.layers, spoolBudget(opts.jobs))
	var wg sync.WaitGroup
	for range min(opts.jobs, len(img.layers)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				l, ok := sched.take(ctx)
				if !ok {
					return
				}
				sp, err := fetchLayer(ctx, client, img, l, opts, bar)
				if err != nil {
					fail(err)
					return
				}
				spools[l.index] <- sp
			}
		}()
	}
	if err := writeStream(ctx, o, img, spools, sched); err != nil {
		fail(err)
	}
	cancel()
	wg.Wait()
	// The spools of a failed pull that the writer did not take: their
	// files go with their descriptors.
	for _, ch := range spools {
		select {
		case sp := <-ch:
			sp.f.Close()
		default:
		}
	}
	return failure
}

// fetchOrder is the order layers are downloaded in: largest (compressed)
// first, and in their own order among equals. A pull takes at least as long
// as its largest layer takes to arrive and be decompressed, so that one
// starts at once; the small ones are fetched beside it and written while it
// is still arriving. (The largest layer is often the last store layer:
// nixpkgs' popularity split puts every path past the cut-off there.)
func fetchOrder(layers []layer) []layer {
	order := slices.Clone(layers)
	slices.SortStableFunc(order, func(a, b layer) int { return cmp.Compare(b.desc.Size, a.desc.Size) })
	return order
}

// writeStream writes the layers in order as their spools arrive, telling
// sched as each is written, then the config verbatim and the trailer. It
// returns early, with the context's error, when a worker fails.
func writeStream(ctx context.Context, o *cli.IO, img *image, spools []chan *spooled, sched *schedule) error {
	cli.GrowPipe(o.Stdout, copyBuffer)
	bw := bufio.NewWriterSize(o.Stdout, copyBuffer)
	w := layerstream.NewWriter(bw)
	buf := make([]byte, copyBuffer)
	for i, ch := range spools {
		var sp *spooled
		select {
		case sp = <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := writeLayer(w, sp, buf); err != nil {
			return err
		}
		sched.written(i)
		o.Debugf("layer %d %s: %d bytes, diff_id %s", i, img.layers[i].desc.Digest, sp.size, sp.diffID)
	}
	if err := w.Config(img.configRaw); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	return nil
}

// writeLayer copies a verified spool into the stream and checks that the
// bytes written are the ones verified.
func writeLayer(w *layerstream.Writer, sp *spooled, buf []byte) error {
	defer sp.f.Close()
	r, err := compress.Decompress(bufio.NewReaderSize(io.NewSectionReader(sp.f, 0, 1<<63-1), copyBuffer), sp.kind)
	if err != nil {
		return err
	}
	defer r.Close()
	lw, err := w.BeginLayer(sp.size)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(lw, io.LimitReader(r, sp.size), buf); err != nil {
		return fmt.Errorf("layer %d: writing the stream: %w", sp.index, err)
	}
	info, err := lw.Close(layerstream.LayerInfo{})
	if err != nil {
		return fmt.Errorf("layer %d: %w", sp.index, err)
	}
	if info.DiffID != sp.diffID {
		return fmt.Errorf("layer %d: its spool changed after it was verified (%s, then %s): %w", sp.index, sp.diffID, info.DiffID, errdefs.ErrChanged)
	}
	return nil
}
