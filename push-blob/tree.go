package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/registry"
)

// asSaved is the archive's own index to push as it is, or nil when its
// images are pushed as push and pushIndex push them (the manifests and
// index made anew): when it lacks blobs (docker save leaves out what
// docker never pulled: other platforms, their attestations), said in a
// warning, since the digest is then not the saved one; or when an OCI
// layout's layers are not stored as --layer-compression asks (a docker
// save's are pushed as stored, as docker push pushes them).
func asSaved(o *cli.IO, s *savedIndex, kind compress.Kind, display string) *archive.Tree {
	if s == nil {
		return nil
	}
	t := s.tree
	if len(t.Missing) > 0 {
		o.Logf("warning: %s holds its image index %s without %d of the blobs it names (%s first: content never pulled); pushing the images it holds in full, under a digest that is not the saved one", display, s.digest, len(t.Missing), t.Missing[0])
		return nil
	}
	if !s.docker {
		for _, b := range t.Blobs {
			if k, ok := oci.LayerKind(b.MediaType); b.Layer != nil && (!ok || k != kind) {
				o.Debugf("%s stores the layer %s as %s, not as --layer-compression %s asks: the index is made anew", display, b.Digest, b.MediaType, kind)
				return nil
			}
		}
	}
	return t
}

// pushTree pushes an archive's own image index as the archive holds it,
// as docker push pushes a multi-platform image of the containerd image
// store: every config and layer as stored (each asked for first, and
// mounted when the cache or --mount-from knows where), then every manifest
// and nested index by digest, each after what it names, attestation
// manifests included, and last the index, unchanged, under the tag. It
// returns the index's digest, the one the archive names. An image layer's
// bytes are read only to be uploaded, checked first against its digest
// and diff_id; every other blob archive.Tree checked before this began.
func pushTree(ctx context.Context, o *cli.IO, client *registry.Client, t *archive.Tree, opts *pushOptions) (string, error) {
	ps, err := newPusher(ctx, o, client, opts)
	if err != nil {
		return "", err
	}
	defer ps.bar.Stop()
	if err := ps.pushTreeBlobs(ctx, t.Blobs); err != nil {
		return "", err
	}
	if c := ps.opts.cache; c != nil {
		for _, b := range t.Blobs {
			if err := c.PutSource(ps.host, b.Digest, ps.repo); err != nil {
				ps.o.Logf("warning: %v", err)
			}
		}
	}
	s := &ps.stats
	ps.o.Debugf("%d blobs: %d uploaded (%d bytes), %d mounted, %d already there", len(t.Blobs), s.uploaded, s.uploadedBytes, s.mounted, s.present)
	root := t.Docs[len(t.Docs)-1]
	for _, d := range t.Docs[:len(t.Docs)-1] {
		ps.o.Debugf("manifest %s (%s)", d.Digest, d.MediaType)
		if err := ps.p.PutManifest(ctx, d.Digest, d.MediaType, d.Raw); err != nil {
			return "", fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
	}
	return ps.tag(ctx, root.MediaType, root.Raw)
}

// pushTreeBlobs makes sure the registry holds every blob, probeWorkers
// asked for at once and --jobs uploaded at once; the first error stops
// the others.
func (ps *pusher) pushTreeBlobs(ctx context.Context, blobs []*archive.TreeBlob) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan *archive.TreeBlob)
	for range min(probeWorkers, len(blobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := ps.pushTreeBlob(ctx, b); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("blob %s: %w", b.Digest, err)
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, b := range blobs {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// pushTreeBlob uploads b unless the registry holds it (at its size) or
// a mount brings it.
func (ps *pusher) pushTreeBlob(ctx context.Context, b *archive.TreeBlob) error {
	blob := layerstream.Blob{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size}
	// Every blob counts in the summary: the tree's is of all of them.
	ok, err := ps.ensure(ctx, blob, "as the archive stores it", true)
	if err != nil && !errors.Is(err, errOtherSize) {
		return err
	}
	if ok {
		return nil
	}
	select {
	case ps.busy <- struct{}{}:
		defer func() { <-ps.busy }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if b.Layer != nil {
		if err := cli.ReadToEnd(ctx, b.Layer.Open); err != nil {
			return err
		}
	}
	return ps.upload(ctx, "blob", blob, b.Stored())
}
