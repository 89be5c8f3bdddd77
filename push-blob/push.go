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

// pusher pushes to one repository: an image, or the images of an index.
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
	// refused is the warning that the registry refused to say what the
	// tag holds, told only once the push is through (see newPusher).
	refused string
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

// reset starts the counts of the next image (of an index) at zero.
func (s *stats) reset() {
	s.add(func(s *stats) { s.present, s.mounted, s.uploaded, s.uploadedBytes = 0, 0, 0, 0 })
}

// push pushes img, puts its manifest under the tag and attaches the
// --sbom documents to it; it returns the manifest's digest. Nothing is
// tagged until every blob is in the registry.
func push(ctx context.Context, o *cli.IO, client *registry.Client, img *image, opts *pushOptions) (string, error) {
	ps, err := newPusher(ctx, o, client, opts)
	if err != nil {
		return "", err
	}
	defer ps.bar.Stop()
	manifest, err := ps.pushImage(ctx, img)
	if err != nil {
		return "", err
	}
	digest, err := ps.tag(ctx, oci.ManifestMediaType, manifest)
	if err != nil {
		return "", err
	}
	for _, doc := range ps.opts.sboms {
		if err := ps.attach(ctx, manifest, doc); err != nil {
			return "", err
		}
	}
	return digest, nil
}

// pushIndex pushes a multi-platform image: each image as push does, its
// manifest put by digest, then the index of them under the tag; it
// returns the index's digest. The index is imgkit/oci's PlatformIndex,
// as tar-merge --index writes it, of the platforms the configs name.
func pushIndex(ctx context.Context, o *cli.IO, client *registry.Client, imgs []*image, opts *pushOptions) (string, error) {
	ps, err := newPusher(ctx, o, client, opts)
	if err != nil {
		return "", err
	}
	defer ps.bar.Stop()
	entries := make([]oci.PlatformImage, len(imgs))
	for i, img := range imgs {
		manifest, err := ps.pushImage(ctx, img)
		if err != nil {
			return "", err
		}
		entries[i] = oci.PlatformImage{Manifest: manifest, Platform: img.platform}
		d := oci.DigestOf(manifest)
		ps.o.Debugf("%s: manifest %s", oci.PlatformString(img.platform), d)
		if err := ps.p.PutManifest(ctx, d, oci.ManifestMediaType, manifest); err != nil {
			return "", err
		}
	}
	return ps.tag(ctx, oci.IndexMediaType, oci.PlatformIndex(entries))
}

// probeWorkers is how many layers of an archive are asked for at once
// (see pushImage).
const probeWorkers = 16

// newPusher does the registry's handshake and reads what the destination
// tag holds (unless --no-tag-reuse).
func newPusher(ctx context.Context, o *cli.IO, client *registry.Client, opts *pushOptions) (*pusher, error) {
	bar := registry.NewProgress(o.Stderr, "pushing", o.Quiet)
	rp, err := client.Pusher(ctx, opts.dest.Context(), registry.PushOptions{Chunk: opts.chunk, MountFrom: opts.mountFrom, Progress: bar})
	if err != nil {
		bar.Stop()
		return nil, err
	}
	ps := &pusher{o: o, opts: opts, p: rp, bar: bar, host: opts.dest.RegistryStr(), repo: opts.dest.RepositoryStr(), busy: make(chan struct{}, opts.jobs)}
	if opts.tagReuse {
		// Reuse saves work; a tag whose image cannot be read (schema 1,
		// a foreign config) only loses that.
		if ps.held, err = tagHoldings(ctx, o, client, opts.dest); err != nil {
			if ctx.Err() != nil {
				bar.Stop()
				return nil, ctx.Err()
			}
			warning := fmt.Sprintf("warning: %v; its layers are not reused", err)
			if errors.Is(err, registry.ErrUnauthorized) {
				// Refused (a wrong password): so is the push, with its
				// own error line, which is then the only one. Should
				// the push go through (an account that may write what
				// it may not read), the warning comes after it.
				ps.refused = warning
			} else {
				o.Logf("%s", warning)
			}
		}
	}
	return ps, nil
}

// pushImage pushes img's layers as they come, then its config, and
// returns its manifest, for the caller to put. At most --jobs
// layers are compressed or uploaded at once; when the input's layers cost
// nothing to hold (an archive, read in place), more are asked for at the
// same time, since a warm push is mostly HEAD requests that wait on the
// network.
func (ps *pusher) pushImage(ctx context.Context, img *image) ([]byte, error) {
	// A registry takes an image of any depth, and every pull of it fails.
	if img.layers > oci.RuntimeLayerLimit {
		return nil, fmt.Errorf("%s: %d layers, more than the %d runtimes accept: %w", img.name, img.layers, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
	}
	ps.stats.reset() // the summary in finish is this image's
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

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
	workers := ps.opts.jobs
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
		if l.ref != nil {
			// Before any worker has it: the first such layer is named.
			if err := ps.checkRefBlobs(l.ref); err != nil {
				return fmt.Errorf("%s: layer %d %s: %w", img.name, l.index, l.diffID, err)
			}
		}
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
		return nil, firstErr
	}
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, fmt.Errorf("%s: the image has no layers", img.name)
	}
	layers := make([]layerstream.Blob, count)
	for i := range layers {
		layers[i] = blobs[i]
	}
	return ps.finish(ctx, config, layers)
}

// finish uploads the config if the registry lacks it, records where the
// blobs are, and returns the image's manifest.
func (ps *pusher) finish(ctx context.Context, config []byte, layers []layerstream.Blob) ([]byte, error) {
	cb := oci.ConfigDescriptor(config)
	configBlob := layerstream.Blob{MediaType: cb.MediaType, Digest: string(cb.Digest), Size: cb.Size}
	if err := ps.putSmall(ctx, configBlob, config, "the config"); err != nil {
		return nil, err
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
	return oci.Manifest(config, layers), nil
}

// tag puts a manifest (an image's or an index) under the tag, once every
// blob it names is in the registry, and returns its digest.
func (ps *pusher) tag(ctx context.Context, mediaType string, manifest []byte) (string, error) {
	if err := ps.p.PutManifest(ctx, ps.opts.dest.TagStr(), mediaType, manifest); err != nil {
		return "", err
	}
	if ps.refused != "" {
		ps.o.Logf("%s", ps.refused)
	}
	return oci.DigestOf(manifest), nil
}

// putSmall uploads a blob held in memory (the config, an SBOM) unless
// the registry has it.
func (ps *pusher) putSmall(ctx context.Context, b layerstream.Blob, data []byte, what string) error {
	has, err := ps.ensure(ctx, b, what, false)
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
