package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/registry"
)

// maxHeldImages bounds how many images of a multi-platform tag are read.
const maxHeldImages = 16

// tagHoldings reads what the tag's current image holds: for each of its
// layers, the diff_id (from its config) and the blob (from its manifest),
// with the blob's media type in OCI's words. A tag that does not exist
// holds nothing, nor does an artifact (registry.IsArtifact), at the tag or in
// its index. For a multi-platform tag, every image's layers count. The
// config is verified against its digest; the pairing of blob and diff_id
// is the pusher's word, as every pull takes it (a wrong one makes clients
// refuse the image at pull, where diff_ids are checked).
func tagHoldings(ctx context.Context, o *cli.IO, client *registry.Client, tag name.Tag) (layercache.Holdings, error) {
	m, err := client.Manifest(ctx, tag)
	if errors.Is(err, errdefs.ErrNotFound) {
		o.Debugf("%s does not exist yet", tag)
		return layercache.Holdings{}, nil
	}
	if err != nil {
		return nil, err
	}
	var manifests []*registry.Manifest
	if m.IsIndex() {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(m.Raw))
		if err != nil {
			return nil, fmt.Errorf("manifest list %s: %v: %w", tag, err, errdefs.ErrInvalidInput)
		}
		for i, d := range idx.Manifests {
			if i == maxHeldImages {
				break
			}
			if !d.MediaType.IsImage() {
				continue
			}
			im, err := client.Manifest(ctx, tag.Context().Digest(d.Digest.String()))
			if err != nil {
				return nil, err
			}
			manifests = append(manifests, im)
		}
	} else {
		manifests = []*registry.Manifest{m}
	}
	held := layercache.Holdings{}
	for _, im := range manifests {
		if err := addHoldings(ctx, client, tag.Context(), im, held); err != nil {
			return nil, fmt.Errorf("reading %s: %w", tag, err)
		}
	}
	o.Debugf("%s holds %d layers", tag, len(held))
	return held, nil
}

func addHoldings(ctx context.Context, client *registry.Client, repo name.Repository, m *registry.Manifest, held layercache.Holdings) error {
	mf, err := v1.ParseManifest(bytes.NewReader(m.Raw))
	if err != nil {
		return fmt.Errorf("manifest %s: %v: %w", m.Digest, err, errdefs.ErrInvalidInput)
	}
	if registry.IsArtifact(mf) {
		return nil // an SBOM, a signature (oras push, cosign): no layers of an image
	}
	br, err := client.Blob(ctx, repo, mf.Config.Digest, mf.Config.Size)
	if err != nil {
		return fmt.Errorf("config %s: %w", mf.Config.Digest, err)
	}
	raw, err := io.ReadAll(io.LimitReader(br, 64<<20))
	br.Close()
	if err != nil {
		return fmt.Errorf("config %s: %w", mf.Config.Digest, err)
	}
	var cfg struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil || len(cfg.RootFS.DiffIDs) != len(mf.Layers) {
		return fmt.Errorf("config %s does not list one diff_id per layer: %w", mf.Config.Digest, errdefs.ErrInvalidInput)
	}
	for i, l := range mf.Layers {
		kind, ok := oci.LayerKind(string(l.MediaType))
		if !ok || l.Size < 0 {
			continue // foreign, non-distributable or of no size: not ours to refer to
		}
		b := layerstream.Blob{MediaType: oci.LayerMediaType(kind), Digest: l.Digest.String(), Size: l.Size}
		d := cfg.RootFS.DiffIDs[i]
		if !contains(held[d], b) {
			held[d] = append(held[d], b)
		}
	}
	return nil
}

func contains(blobs []layerstream.Blob, b layerstream.Blob) bool {
	for _, x := range blobs {
		if x == b {
			return true
		}
	}
	return false
}

// listPresent prints the tag's holdings whose blobs the registry does
// hold at the manifest's size (each is asked for), for layer-pack --reuse.
func listPresent(ctx context.Context, o *cli.IO, client *registry.Client, tag name.Tag, jobs int) error {
	held, err := tagHoldings(ctx, o, client, tag)
	if err != nil {
		return err
	}
	p, err := client.Pusher(ctx, tag.Context(), registry.PushOptions{})
	if err != nil {
		return err
	}
	present := layercache.Holdings{}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for d, blobs := range held {
		for _, b := range blobs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				held, size, err := p.StatBlob(ctx, b.Digest)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if held && size == b.Size {
					present[d] = append(present[d], b)
				}
			}()
		}
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := layercache.WriteHoldings(o.Stdout, present); err != nil {
		return fmt.Errorf("writing the list: %w", err)
	}
	return nil
}
