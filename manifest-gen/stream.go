package main

import (
	"context"
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
	// The layers' sha256 is taken on a goroutine of its own (asyncHash):
	// reading and copying the stream need not wait for it.
	s.r = layerstream.NewReader(cli.ContextReader(ctx, f), layerstream.Options{Verify: verify, NewHash: newAsyncHash})
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
		if l.Ref != nil {
			err = a.addRef(l.Ref)
		} else {
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
	for _, li := range s.r.Trailer().Layers {
		layers = append(layers, layerEntry{DiffID: li.DiffID, Comment: historyComment(li.Comment, li.Paths)})
	}
	return layers, nil
}
