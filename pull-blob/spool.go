package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/registry"
)

// spooled is a verified layer waiting in its spool file.
type spooled struct {
	index  int
	f      *os.File      // the spool, unlinked (newSpool): closing it frees it
	kind   compress.Kind // compression of the file: None, or the blob's with --low-disk
	size   int64         // uncompressed size
	diffID string        // "sha256:<hex>" of the uncompressed bytes, as the config says
}

// fetchLayer downloads layer l and verifies it: its blob's size and digest
// (by the registry.BlobReader), then its uncompressed bytes' diff_id.
//
// By default the blob is decompressed as it arrives into an uncompressed
// spool file, hashed on the way: one decompression, and the network and
// the decompressor overlap; the spool holds the uncompressed layer. With
// lowDisk the compressed blob is spooled and decompressed once to hash it
// and once more when the stream is written: the spool is as small as the
// download, at the cost of a second decompression. Either way the
// uncompressed bytes may not pass opts.expanded.
func fetchLayer(ctx context.Context, client *registry.Client, img *image, l layer, opts pullOptions, bar *registry.Progress) (*spooled, error) {
	where := fmt.Sprintf("layer %d %s", l.index, l.desc.Digest)
	// Cancelled when the layer is given up half-read, so that the
	// goroutines reading it stop at once.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	br, err := client.Blob(ctx, img.repo, l.desc.Digest, l.desc.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer br.Close()
	f, err := newSpool()
	if err != nil {
		return nil, err
	}
	sp := &spooled{index: l.index, f: f, kind: compress.None}
	kept := false // the spool goes to the writer only when verified
	defer func() {
		if !kept {
			f.Close()
		}
	}()
	// The blob is received and hashed (by the BlobReader) in a goroutine
	// of its own, ahead of the decompressor.
	blob := newReadahead(bar.Reader(br), cancel)
	defer blob.Close()
	uncompressed := sha256.New()
	switch {
	case l.kind == compress.None:
		sp.size, err = copyHashed(f, blob, uncompressed)
	case opts.lowDisk:
		sp.kind = l.kind
		if _, err = io.Copy(writer{f}, blob); err == nil {
			sp.size, err = measure(f, l.kind, opts.expanded, uncompressed)
		}
	default:
		sp.size, err = decompressTo(f, blob, l.kind, opts.expanded, uncompressed, cancel)
	}
	// The blob reader's verdict on size and digest comes at its EOF, which
	// the decompressor may not have reached. When decompression failed,
	// the verdict still comes first: bytes that are not the blob explain
	// a decompression error better than the decompressor does.
	var werr *writeError
	if err == nil || !errors.As(err, &werr) {
		if _, verr := io.Copy(io.Discard, blob); verr != nil {
			err = verr
		} else if err != nil && !errors.Is(err, errdefs.ErrInvalidInput) {
			// What the decompressor did not call invalid input (a
			// stream cut short) is: the blob is the one named.
			err = fmt.Errorf("%w: %w", err, errdefs.ErrInvalidInput)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	sp.diffID = "sha256:" + hex.EncodeToString(uncompressed.Sum(nil))
	if sp.diffID != l.diffID.String() {
		return nil, fmt.Errorf("%s: uncompressed, it hashes to %s, the config's diff_id is %s: %w", where, sp.diffID, l.diffID, errdefs.ErrDigestMismatch)
	}
	kept = true
	return sp, nil
}

// copyHashed copies r to w, hashing what passes. Errors of w are
// *writeError. (r is a readahead: its chunks are written as they are, with
// no copy buffer between.)
func copyHashed(w io.Writer, r io.Reader, h hash.Hash) (int64, error) {
	return io.Copy(io.MultiWriter(writer{w}, h), r)
}

// writeError marks a failure to write the spool, as opposed to one of
// reading or decompressing the blob.
type writeError struct{ err error }

func (e *writeError) Error() string { return "writing the spool: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

type writer struct{ w io.Writer }

func (w writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// decompressTo decompresses r into w, hashing the uncompressed bytes, and
// fails once they pass bound. The
// decompressor runs in a goroutine of its own, ahead of the hashing and
// writing; stop (or nil) is called when w fails, to stop the reading of r
// (see readahead).
func decompressTo(w io.Writer, r io.Reader, kind compress.Kind, bound errdefs.Bound, h hash.Hash, stop func()) (int64, error) {
	dec, err := compress.Decompress(bufio.NewReaderSize(r, copyBuffer), kind)
	if err != nil {
		return 0, err
	}
	defer dec.Close()
	out := newReadahead(compress.Bounded(dec, bound), stop)
	defer out.Close()
	n, err := copyHashed(w, out, h)
	if err != nil {
		return n, fmt.Errorf("decompressing (%s): %w", kind, err)
	}
	return n, nil
}

// measure decompresses the spool file f from its start, hashing and
// counting the uncompressed bytes, up to bound.
func measure(f *os.File, kind compress.Kind, bound errdefs.Bound, h hash.Hash) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return decompressTo(io.Discard, f, kind, bound, h, nil)
}

// newSpool creates a spool file, unlinked at once (cli.UnlinkedTemp): a
// pull killed by SIGKILL (the OOM killer, a workflow ending a step that
// does not stop) left every layer downloaded so far, uncompressed, in
// $TMPDIR for good.
func newSpool() (*os.File, error) {
	f, err := cli.UnlinkedTemp("pull-blob")
	if err != nil {
		return nil, fmt.Errorf("creating a spool file: %w", err)
	}
	return f, nil
}
