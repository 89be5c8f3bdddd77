package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
)

// scanned is one entry of a layer: classified by tarsafe, with where its
// data lies in the uncompressed layer.
type scanned struct {
	e   tarsafe.Entry
	loc location
}

// scanBuf is the read size while skipping over file data.
const scanBuf = 256 << 10

// scanLayer is the first pass over layer i: it reads every byte once (the
// layer's reader hashes them and fails at EOF when they do not match the
// diff_id), classifies every header, and records where each entry's data
// is. Nothing is kept of the data itself.
func scanLayer(ctx context.Context, l *archive.Layer, i int, opts tarsafe.Options) ([]scanned, error) {
	kind, err := l.Compression()
	if err != nil {
		return nil, err
	}
	limit := int64(-1) // bytes in the uncompressed layer, when known for free
	if kind == compress.None {
		limit = l.Stored().Size()
	}
	r, err := l.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cr := &counter{r: r}
	tr := tar.NewReader(cr)
	buf := make([]byte, scanBuf)
	var out []scanned
	last := ""
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Read what is left of the previous entry's data, so the
		// count is at the end of it: the next header starts at the
		// following block boundary.
		if err := drain(tr, buf); err != nil {
			return nil, readError(err, last)
		}
		hdrOff := (cr.n + blockSize - 1) &^ (blockSize - 1)
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(err, last)
		}
		last = hdr.Name
		o := opts
		sparse := isSparse(hdr)
		if limit >= 0 && !sparse {
			// A sparse file's size counts its holes.
			o.MaxSize = limit - cr.n
		}
		e, err := tarsafe.Classify(hdr, o)
		if err != nil {
			return nil, err
		}
		out = append(out, scanned{e: e, loc: location{
			layer: i, dataOff: cr.n, hdrOff: hdrOff, size: hdr.Size, sparse: sparse,
		}})
	}
	// The bytes after the end-of-archive marker count in the diff_id:
	// reading them to EOF is what runs the digest check.
	if err := drain(r, buf); err != nil {
		return nil, readError(err, last)
	}
	return out, nil
}

const blockSize = 512

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// drain reads r to EOF with buf.
func drain(r io.Reader, buf []byte) error {
	for {
		_, err := r.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readError says where a layer stopped making sense.
func readError(err error, last string) error {
	after := "at its first entry"
	if last != "" {
		after = fmt.Sprintf("in or after entry %q", last)
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated %s: %w", after, errdefs.ErrInvalidInput)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("corrupt tar header %s: %w", after, errdefs.ErrInvalidInput)
	}
	return err
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scanResult is a scanned layer, or why it could not be.
type scanResult struct {
	entries []scanned
	err     error
}

// scanAll scans the layers with up to workers layers in flight and hands
// each result to apply in layer order, so the tree is built bottom up
// while later layers are still being hashed.
func scanAll(ctx context.Context, layers []*archive.Layer, opts tarsafe.Options, workers int, apply func(i int, entries []scanned) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan scanResult, len(layers))
	for i := range results {
		results[i] = make(chan scanResult, 1)
	}
	sem := make(chan struct{}, max(workers, 1))
	go func() {
		for i, l := range layers {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] <- scanResult{err: ctx.Err()}
				continue
			}
			go func() {
				entries, err := scanLayer(ctx, l, i, opts)
				<-sem
				results[i] <- scanResult{entries, err}
			}()
		}
	}()
	for i := range layers {
		res := <-results[i]
		if res.err == nil {
			res.err = apply(i, res.entries)
		}
		if res.err != nil {
			return layerError(i, layers[i], res.err)
		}
	}
	return nil
}

// layerError names the layer (1-based, bottom first) and its diff_id.
func layerError(i int, l *archive.Layer, err error) error {
	return fmt.Errorf("layer %d %s: %w", i+1, shortDigest(l.DiffID), err)
}

// shortDigest abbreviates "sha256:<64 hex>" to 12 hex digits for messages.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
