package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
)

// streamInput is the layer stream being read.
type streamInput struct {
	r     *layerstream.Reader
	name  string // for messages: the file, or stdin
	first *layerstream.Layer
	close func() error
	// hash takes each layer's sha256 as it is copied, on a goroutine of
	// its own (hashingWriter), for the trailer's diff_ids to be checked
	// against: see hashWhileCopying.
	hash bool
	sums []string
}

// openStream opens the layer stream and reads its first member, before
// any output is written: input that is not a layer stream at all then
// leaves no output.
func openStream(ctx context.Context, o *cli.IO, file string, verify bool) (*streamInput, error) {
	f, err := o.Open(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = errdefs.ErrNotFound
		}
		return nil, fmt.Errorf("reading the layer stream %q: %w", file, cli.PathCause(err))
	}
	s := &streamInput{name: file, close: f.Close}
	if file == "-" {
		s.name = "stdin"
	}
	// Unbuffered: the Reader buffers it, and copies layers from f past
	// its buffer (see Layer.WriteNTo).
	s.r = layerstream.NewReader(cli.ContextReader(ctx, f), layerstream.Options{Verify: verify})
	if s.first, err = s.r.Next(); err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return s, nil
}

// copyLayers copies the stream's layers into the archive as they arrive,
// refusing the one that would pass maxLayers (nBase layers are already
// there), and returns them as the trailer describes them.
func (s *streamInput) copyLayers(o *cli.IO, a imageWriter, nBase, maxLayers int) ([]layerEntry, error) {
	var err error
	for l := s.first; l != nil; {
		if total := nBase + l.Index + 1; total > maxLayers {
			return nil, fmt.Errorf("%s: layer %d makes %d layers (%d from the base image), more than --max-layers %d: %w", s.name, l.Index, total, nBase, maxLayers, errdefs.ErrTooManyLayers)
		}
		o.Debugf("adding layer %d of the stream (%d bytes)", l.Index, l.Size)
		switch {
		case l.Ref != nil:
			err = a.addRef(l.Ref)
		case s.hash:
			err = s.addHashed(a, l)
		default:
			err = a.addLayer(l.Size, l)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", s.name, l.Index, err)
		}
		if l, err = s.r.Next(); err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	var layers []layerEntry
	for i, li := range s.r.Trailer().Layers {
		if s.hash && s.sums[i] != li.DiffID {
			return nil, fmt.Errorf("%s: layer %d: %s says %s, the bytes hash to %s: %w", s.name, i, layerstream.TrailerMember, li.DiffID, s.sums[i], errdefs.ErrDigestMismatch)
		}
		layers = append(layers, layerEntry{DiffID: li.DiffID, Comment: historyComment(li.Comment, li.Paths)})
	}
	return layers, nil
}

// addHashed copies layer l into a, taking its sha256 on the way.
func (s *streamInput) addHashed(a imageWriter, l *layerstream.Layer) error {
	h := newHashingWriter(io.Discard, sha256.New())
	defer h.close()
	if err := a.addLayer(l.Size, io.TeeReader(l, h)); err != nil {
		return err
	}
	s.sums = append(s.sums, "sha256:"+hex.EncodeToString(h.sum()))
	return nil
}
