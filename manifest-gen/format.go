package main

import (
	"fmt"
	"io"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
)

// imageWriter is an output format. Layers come bottom first, as they
// arrive; finish adds the config and the manifest and ends the output.
type imageWriter interface {
	// addLayer copies the next layer, of exactly size bytes, from r.
	addLayer(size int64, r io.Reader) error
	// addRef adds the next layer as a reference (no bytes), when the
	// format can hold one.
	addRef(ref *layerstream.Ref) error
	finish(config []byte, repoTag func(configHex string) (string, string)) error
	// diffIDs are the digests of the layer tars written, when the format
	// computed them (nil otherwise), for checking the stream's trailer;
	// layers still being written are waited for.
	diffIDs() ([]string, error)
}

// checkFormat checks --format, -o and --layer-compression together (a part
// of Validate).
func (c *command) checkFormat() error {
	kind := c.LayerCompression
	if err := cli.CheckJobs(c.Jobs, 1); err != nil {
		return err
	}
	switch {
	case c.Format == "oci-dir" && c.Output == "-":
		return cli.Usagef("--format oci-dir writes a directory: give it with -o DIR")
	case kind != compress.None && c.Format != "oci" && c.Format != "oci-dir":
		return cli.Usagef("--layer-compression %s: only --format oci and oci-dir store compressed layers", kind)
	case c.PrintBase && c.Format != "docker":
		return cli.Usagef("--print-base-layers writes no image: drop --format")
	case c.LayerTars != "" && c.Format != "docker":
		return cli.Usagef("--layer-tars: only a docker-archive (--format docker) copies layers from a directory of layer tars; a --format oci-dir rebuild links the blobs of -o DIR")
	case c.PrintHoldings && c.Format != "oci-dir" && c.LayerTars == "":
		return cli.Usagef("--print-holdings lists the blobs of an oci-dir layout or the tars of --layer-tars DIR: give --format oci-dir -o DIR, or --layer-tars DIR")
	}
	return nil
}

// openOutput opens -o for the format: a directory for oci-dir, else a file
// or stdout.
func (c *command) openOutput(o *cli.IO) (*output, error) {
	if c.Format == "oci-dir" {
		return openDirOutput(o, c.Output)
	}
	return openOutput(o, c.Output)
}

// newImageWriter returns the writer of --format, writing to w (or into
// the directory of out for oci-dir).
func (c *command) newImageWriter(w io.Writer, out *output) (imageWriter, error) {
	kind := c.LayerCompression
	switch c.Format {
	case "oci":
		return newOCILayout(newTarBlobs(w), kind, c.Jobs)
	case "oci-dir":
		if out.old != nil {
			out.old.verify = c.Verify
		}
		store, err := newDirBlobs(out.dir, out.old)
		if err != nil {
			return nil, err
		}
		l, err := newOCILayout(store, kind, c.Jobs)
		if err == nil && l.par != nil {
			out.settle = l.par.settle
		}
		return l, err
	case "stream":
		return &streamWriter{w: layerstream.NewWriter(w)}, nil
	}
	return newDockerArchive(w), nil
}

func errNeedsBytes(format string, i int) error {
	return fmt.Errorf("layer %d is a reference (no bytes, layer-pack --reuse): %s needs the bytes; write --format stream for push-blob, or pack without --reuse: %w", i, format, errdefs.ErrInvalidInput)
}

// checkDiffIDs compares the diff_ids the writer computed with the ones
// the image config will list (the trailer's and the base image's).
func checkDiffIDs(a imageWriter, layers []layerEntry) error {
	got, err := a.diffIDs()
	if got == nil || err != nil {
		return err
	}
	if len(got) != len(layers) {
		return fmt.Errorf("%d layers written, %d in the stream: %w", len(got), len(layers), errdefs.ErrInvalidInput)
	}
	for i, l := range layers {
		if got[i] != l.DiffID {
			return fmt.Errorf("layer %d: the stream says %s, its bytes hash to %s: %w", i, l.DiffID, got[i], errdefs.ErrDigestMismatch)
		}
	}
	return nil
}

// streamWriter writes --format stream: a layer stream again, with the
// image config as its verbatim config.json, for push-blob. Reference
// layers pass through; every other layer is hashed as it is copied.
type streamWriter struct {
	w *layerstream.Writer
}

func (s *streamWriter) addLayer(size int64, r io.Reader) error {
	_, err := s.w.WriteLayer(size, layerstream.LayerInfo{}, r)
	return err
}

func (s *streamWriter) addRef(ref *layerstream.Ref) error {
	_, err := s.w.WriteRef(*ref, layerstream.LayerInfo{})
	return err
}

func (s *streamWriter) finish(config []byte, _ func(string) (string, string)) error {
	if err := s.w.Config(config); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("writing the stream: %w", err)
	}
	return nil
}

func (s *streamWriter) diffIDs() ([]string, error) {
	var d []string
	for _, l := range s.w.Layers() {
		d = append(d, l.DiffID)
	}
	return d, nil
}
