package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/registry"
)

// pusher pushes one image.
type pusher struct {
	o     *cli.IO
	opts  *pushOptions
	p     *registry.Pusher
	held  map[string][]layerstream.Blob // the destination tag's layers, by diff_id
	bar   *registry.Progress
	host  string
	repo  string // repository path on the registry
	stats stats
	// busy bounds the layers being compressed or uploaded to --jobs;
	// more workers may be asking the registry at the same time.
	busy chan struct{}
}

type stats struct {
	mu                         sync.Mutex
	present, mounted, uploaded int
	uploadedBytes              int64
}

func (s *stats) add(f func(*stats)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// push pushes img: its layers as they come, then the config, then the
// manifest, which it returns the digest of. Nothing is tagged until every
// blob is in the registry. At most --jobs layers are compressed or
// uploaded at once; when the input's layers cost nothing to hold (an
// archive, read in place), more are asked for at the same time, since a
// warm push is mostly HEAD requests that wait on the network.
const probeWorkers = 16

func push(ctx context.Context, o *cli.IO, client *registry.Client, img *image, opts *pushOptions) (string, error) {
	// A registry takes an image of any depth, and every pull of it fails.
	if img.layers > oci.RuntimeLayerLimit {
		return "", fmt.Errorf("%s: %d layers, more than the %d runtimes accept: %w", img.name, img.layers, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bar := registry.NewProgress(o.Stderr, "pushing", o.Quiet)
	defer bar.Stop()
	rp, err := client.Pusher(ctx, opts.dest.Context(), registry.PushOptions{Chunk: opts.chunk, MountFrom: opts.mountFrom, Progress: bar})
	if err != nil {
		return "", err
	}
	ps := &pusher{o: o, opts: opts, p: rp, bar: bar, host: opts.dest.RegistryStr(), repo: opts.dest.RepositoryStr(), busy: make(chan struct{}, opts.jobs)}
	if opts.tagReuse {
		// Reuse saves work; a tag whose image cannot be read (schema 1,
		// a foreign config) only loses that.
		if ps.held, err = tagHoldings(ctx, o, client, opts.dest); err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			o.Logf("warning: %v; its layers are not reused", err)
		}
	}

	// Workers push layers; the first error stops everything.
	var (
		mu       sync.Mutex
		blobs    = map[int]layerstream.Blob{}
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	work := make(chan *pushLayer)
	workers := opts.jobs
	if img.randomAccess {
		workers = max(workers, probeWorkers)
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range work {
				b, err := ps.pushLayer(ctx, l)
				if l.release != nil {
					l.release()
				}
				if err != nil {
					fail(fmt.Errorf("%s: layer %d %s: %w", img.name, l.index, l.diffID, err))
					continue
				}
				mu.Lock()
				blobs[l.index] = b
				mu.Unlock()
			}
		}()
	}
	count := 0
	config, err := img.produce(ctx, func(l *pushLayer) error {
		count++
		select {
		case work <- l:
			return nil
		case <-ctx.Done():
			if l.release != nil {
				l.release()
			}
			return ctx.Err()
		}
	})
	close(work)
	if err != nil {
		cancel() // the image is bad: stop what is being pushed
	}
	wg.Wait()
	// A worker's failure cancels the producer: the worker's error, not the
	// producer's cancellation, is the one that explains.
	if firstErr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return "", firstErr
	}
	if err != nil {
		return "", err
	}
	if count == 0 {
		return "", fmt.Errorf("%s: the image has no layers", img.name)
	}
	layers := make([]layerstream.Blob, count)
	for i := range layers {
		layers[i] = blobs[i]
	}
	return ps.finish(ctx, config, layers)
}

// finish uploads the config if the registry lacks it, then puts the
// manifest under the tag and records where the blobs are.
func (ps *pusher) finish(ctx context.Context, config []byte, layers []layerstream.Blob) (string, error) {
	cb := oci.ConfigDescriptor(config)
	configBlob := layerstream.Blob{MediaType: cb.MediaType, Digest: string(cb.Digest), Size: cb.Size}
	if err := ps.putSmall(ctx, configBlob, config, "the config"); err != nil {
		return "", err
	}
	manifest := oci.Manifest(config, layers)
	if err := ps.p.PutManifest(ctx, ps.opts.dest.TagStr(), oci.ManifestMediaType, manifest); err != nil {
		return "", err
	}
	for _, doc := range ps.opts.sboms {
		if err := ps.attach(ctx, manifest, doc); err != nil {
			return "", err
		}
	}
	if c := ps.opts.cache; c != nil {
		for _, b := range append(layers, configBlob) {
			if err := c.PutSource(ps.host, b.Digest, ps.repo); err != nil {
				ps.o.Logf("warning: %v", err)
			}
		}
	}
	s := &ps.stats
	ps.o.Debugf("%d layers: %d uploaded (%d bytes), %d mounted, %d already there", len(layers), s.uploaded, s.uploadedBytes, s.mounted, s.present)
	return oci.DigestOf(manifest), nil
}

// putSmall uploads a blob held in memory (the config, an SBOM) unless
// the registry has it.
func (ps *pusher) putSmall(ctx context.Context, b layerstream.Blob, data []byte, what string) error {
	has, err := ps.ensure(ctx, b, what)
	if err != nil && !errors.Is(err, errOtherSize) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !has {
		ps.o.Debugf("uploading %s %s", what, b.Digest)
		ps.bar.AddTotal(b.Size) // as upload does for layers: the bar's total counts every byte sent
		if err := ps.p.Upload(ctx, nil, b.Digest, b.Size, bytes.NewReader(data)); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
