package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// streamImage pushes a layer stream that carries its image config
// (manifest-gen --format stream, pull-blob). Its layers arrive one after
// the other and stdin is never seeked: each layer is copied into a
// temporary file in $TMPDIR (unlinked at once) and hashed on the way, so
// the workers can compress and upload it while the next one is read. The
// number of such files is bounded by the workers (send blocks until one is
// free); each is removed once its layer is pushed.
func streamImage(r io.Reader, display string, closeInput func()) *image {
	produce := func(ctx context.Context, send func(*pushLayer) error) ([]byte, error) {
		lr := layerstream.NewReader(bufio.NewReaderSize(r, 1<<20), layerstream.Options{})
		var diffIDs []string
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			l, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", display, err)
			}
			if l.Index >= oci.RuntimeLayerLimit {
				return nil, fmt.Errorf("%s: layer %d: more than the %d layers runtimes accept: %w", display, l.Index, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
			}
			pl := &pushLayer{index: l.Index, ref: l.Ref, size: l.Size}
			if l.Ref != nil {
				pl.diffID = l.Ref.DiffID
			} else if err := spoolLayer(pl, l); err != nil {
				return nil, fmt.Errorf("%s: layer %d: %w", display, l.Index, err)
			}
			diffIDs = append(diffIDs, pl.diffID)
			if err := send(pl); err != nil {
				return nil, err
			}
		}
		for i, l := range lr.Trailer().Layers {
			if l.DiffID != diffIDs[i] {
				return nil, fmt.Errorf("%s: layer %d: the trailer says %s, the bytes hash to %s: %w", display, i, l.DiffID, diffIDs[i], errdefs.ErrDigestMismatch)
			}
		}
		config := lr.Config()
		if config == nil {
			return nil, fmt.Errorf("%s: the layer stream has no image config (config.json); make one with manifest-gen --format stream: %w", display, errdefs.ErrInvalidInput)
		}
		if err := checkConfig(config, diffIDs); err != nil {
			return nil, fmt.Errorf("%s: %w", display, err)
		}
		return config, nil
	}
	return &image{name: display, produce: produce, close: closeInput}
}

// spoolLayer copies a layer into an unlinked temporary file, hashing it.
func spoolLayer(pl *pushLayer, l io.Reader) error {
	f, err := cli.UnlinkedTemp("push-blob-layer")
	if err != nil {
		return fmt.Errorf("spooling: %w", err)
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := io.Copy(io.MultiWriter(bw, h), l)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("spooling: %w", err)
	}
	pl.diffID = "sha256:" + hex.EncodeToString(h.Sum(nil))
	pl.size, pl.stored, pl.storedKind, pl.storedDigest = n, io.NewSectionReader(f, 0, n), compress.None, pl.diffID
	pl.open = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, n)), nil }
	pl.release = func() { f.Close() }
	return nil
}

// checkConfig checks that a config lists exactly the layers' diff_ids: a
// registry takes any config, and a client finds the mismatch only when it
// pulls.
func checkConfig(config []byte, diffIDs []string) error {
	var doc struct {
		RootFS *struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(config, &doc); err != nil || doc.RootFS == nil {
		return fmt.Errorf("the image config is not JSON with a rootfs: %w", errdefs.ErrInvalidInput)
	}
	if !slices.Equal(doc.RootFS.DiffIDs, diffIDs) {
		return fmt.Errorf("the image config lists %d diff_ids %v, the layers are %v: %w", len(doc.RootFS.DiffIDs), doc.RootFS.DiffIDs, diffIDs, errdefs.ErrDigestMismatch)
	}
	return nil
}
