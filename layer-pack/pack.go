package main

import (
	"context"
	"fmt"
	"io"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
)

// measured is the size of one layer, or why it could not be measured.
type measured struct {
	size int64
	err  error
}

// measureAhead measures the layers in order on its own goroutine, one
// layer ahead of the writer, so that walking the next layer's metadata
// overlaps with reading and hashing the current one. The channel is
// unbuffered: at most two layers' entry caches exist at a time.
func measureAhead(ctx context.Context, layers []layer) <-chan measured {
	ch := make(chan measured)
	go func() {
		defer close(ch)
		for _, l := range layers {
			n, err := l.measure(ctx)
			select {
			case ch <- measured{n, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// pack writes the layers as a layer stream to w. Each layer's size is
// known before its first byte; every file is read once, on the producer
// goroutine, while the consumer hashes and writes.
func pack(ctx context.Context, o *cli.IO, layers []layer, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sw := layerstream.NewWriter(w)
	p := startPipeline(sw)
	sizes := measureAhead(ctx, layers)
	err := func() error {
		for i, l := range layers {
			m, ok := <-sizes
			if !ok {
				return ctx.Err()
			}
			if m.err != nil {
				return fmt.Errorf("layer %d: %w", i, m.err)
			}
			o.Debugf("layer %d: %d bytes", i, m.size)
			if err := p.begin(m.size); err != nil {
				return err
			}
			if err := l.emit(ctx, p, m.size); err != nil {
				return fmt.Errorf("layer %d: %w", i, err)
			}
			info, check := l.describe()
			if err := p.end(info, check); err != nil {
				return err
			}
		}
		return nil
	}()
	cancel()
	if err := p.finish(err); err != nil {
		return err
	}
	for i, info := range p.infos {
		o.Debugf("layer %d: %s", i, info.DiffID)
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("writing the layer stream: %w", err)
	}
	return nil
}
