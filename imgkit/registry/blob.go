package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"dockertools.dev/imgkit/errdefs"
)

// Blob opens the blob dgst of repo, of size bytes (-1 when unknown: the
// registry's Content-Length is then used, and the digest still decides).
// The reader verifies as package doc says and resumes a broken-off body.
// Errors of the first request (not found, not authorized) are returned here.
// Errors do not name the blob: callers say which one it is.
func (c *Client) Blob(ctx context.Context, repo name.Repository, dgst v1.Hash, size int64) (*BlobReader, error) {
	if dgst.Algorithm != "sha256" {
		return nil, fmt.Errorf("%s: only sha256 digests are supported: %w", dgst, ErrUnsupported)
	}
	rc, err := c.repoClient(ctx, repo)
	if err != nil {
		return nil, err
	}
	b := &BlobReader{c: c, hc: rc.hc, ctx: ctx, url: endpoint(repo, "blobs", dgst.String()), want: dgst, size: size, h: sha256.New()}
	if err := b.open(); err != nil {
		return nil, fmt.Errorf("fetching: %w", rc.explain(err))
	}
	return b, nil
}

// BlobReader reads one blob; see Client.Blob.
type BlobReader struct {
	c    *Client
	hc   *http.Client
	ctx  context.Context
	url  string
	want v1.Hash
	size int64 // expected size, -1 while unknown
	h    hash.Hash
	off  int64 // bytes returned so far

	body   io.ReadCloser
	cancel context.CancelFunc

	broken error // why the last body broke off
	tries  int   // resumptions in a row that brought little
	fresh  int64 // bytes read from the current body
	err    error // sticky result
}

// Size is the blob's size: the expected one, or the registry's
// Content-Length when none was given (-1 when neither is known).
func (b *BlobReader) Size() int64 { return b.size }

// progressReset is how much a body must bring before breaking off for the
// count of retries to start again.
const progressReset = 1 << 20

// open sends the GET for the bytes from b.off on.
func (b *BlobReader) open() error {
	ctx, cancel := context.WithCancel(b.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	if err != nil {
		cancel()
		return err
	}
	if b.off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", b.off))
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		cancel()
		return describe(err)
	}
	if err := b.accept(resp); err != nil {
		resp.Body.Close()
		cancel()
		return err
	}
	b.body, b.cancel = resp.Body, cancel
	b.fresh = 0
	return nil
}

// accept checks a response: a 206 must start where we stopped; a 200 to a
// resumption is read again from its start, skipping what we have.
func (b *BlobReader) accept(resp *http.Response) error {
	switch {
	case resp.StatusCode == http.StatusPartialContent && b.off > 0:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != b.off || (b.size >= 0 && total >= 0 && total != b.size) {
			return fmt.Errorf("resuming at byte %d: the registry answered with range %s: %w", b.off, errdefs.Quote(resp.Header.Get("Content-Range")), errdefs.ErrInvalidInput)
		}
		return nil
	case resp.StatusCode == http.StatusOK:
		if cl := resp.ContentLength; cl >= 0 {
			if b.size < 0 {
				b.size = cl
			} else if cl != b.size {
				return fmt.Errorf("the registry announces %d bytes, the manifest %d: %w", cl, b.size, errdefs.ErrDigestMismatch)
			}
		}
		if b.off > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, b.off); err != nil {
				return describe(err)
			}
		}
		return nil
	}
	return describe(transport.CheckError(resp, http.StatusOK))
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be "*": -1).
func contentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	span, tot, found := strings.Cut(rest, "/")
	first, _, found2 := strings.Cut(span, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

func (b *BlobReader) closeBody() {
	if b.body == nil {
		return
	}
	b.body.Close()
	b.cancel()
	b.body = nil
}

// Read returns the blob's bytes; at the end, io.EOF once size and digest
// are checked, or an error wrapping errdefs.ErrDigestMismatch.
func (b *BlobReader) Read(p []byte) (int, error) {
	for {
		if b.err != nil {
			return 0, b.err
		}
		if b.body == nil {
			if err := b.resume(); err != nil {
				b.err = err
				return 0, err
			}
		}
		n, err := b.body.Read(p)
		if n > 0 {
			if b.size >= 0 && b.off+int64(n) > b.size {
				b.closeBody()
				b.err = fmt.Errorf("more than the %d bytes announced: %w", b.size, errdefs.ErrDigestMismatch)
				return 0, b.err
			}
			b.h.Write(p[:n])
			b.off += int64(n)
			b.fresh += int64(n)
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && b.size < 0, b.size >= 0 && b.off == b.size:
			// The end, or a connection lost after the last byte: there
			// is nothing left to resume.
			b.closeBody()
			b.err = b.verify()
			if n > 0 {
				return n, nil
			}
			return 0, b.err
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
		// The body broke off. A body that brought a good amount before
		// breaking restarts the count of retries; one that brings a few
		// bytes each time does not, so a bad server cannot keep us forever.
		// A body that stalls fails with a *stallError (see idleGuard).
		b.closeBody()
		if b.fresh >= progressReset {
			b.tries = 0
		}
		switch {
		case b.ctx.Err() != nil:
			b.err = b.ctx.Err()
		case retryable(err):
			b.broken = describe(err)
		default:
			b.err = fmt.Errorf("after %d bytes: %w", b.off, describe(err))
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume waits, then asks for the rest of the blob. The transport has
// already retried the request itself; what is counted here is bodies that
// broke off (see progressReset).
func (b *BlobReader) resume() error {
	b.tries++
	if b.tries > b.c.opts.Retries {
		return fmt.Errorf("broken off after %d bytes, %d retries: %w", b.off, b.c.opts.Retries, b.broken)
	}
	if err := b.c.wait(b.ctx, b.tries); err != nil {
		return err
	}
	if err := b.open(); err != nil {
		return fmt.Errorf("resuming after %d bytes (%v): %w", b.off, b.broken, err)
	}
	return nil
}

func (b *BlobReader) verify() error {
	if b.size >= 0 && b.off != b.size {
		return fmt.Errorf("%d bytes, %d announced: %w", b.off, b.size, errdefs.ErrDigestMismatch)
	}
	got := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", b.h.Sum(nil))}
	if got != b.want {
		return fmt.Errorf("the registry's bytes hash to %s: %w", got, errdefs.ErrDigestMismatch)
	}
	return io.EOF
}

// Close releases the connection. It does not verify: read to io.EOF.
func (b *BlobReader) Close() error {
	b.closeBody()
	if b.err == nil {
		b.err = errors.New("blob reader closed")
	}
	return nil
}
