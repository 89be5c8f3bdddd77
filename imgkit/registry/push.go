package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// Pusher writes blobs and manifests to one repository. Like Client's
// reads, it does the registry's few requests itself over
// go-containerregistry's authenticated transport, because remote.Write can
// neither upload in chunks nor resume an upload that broke off: it starts
// every failed blob again from its first byte.
//
// # Requests
//
//   - StatBlob: HEAD /v2/REPO/blobs/DIGEST (200 with the size as
//     Content-Length, or 404).
//   - Mount: POST /v2/REPO/blobs/uploads/?mount=DIGEST&from=OTHER, a
//     cross-repository mount (201); a registry that cannot mount starts an
//     upload instead (202), which Upload then uses.
//   - Upload: POST to start a session, then the bytes in PATCH requests (one
//     for the whole blob, or Options.Chunk bytes each with a Content-Range),
//     then PUT ?digest=DIGEST, which the registry refuses unless the bytes
//     hash to it.
//   - PutManifest: PUT /v2/REPO/manifests/TAG.
//   - PutReferrer: PUT /v2/REPO/manifests/DIGEST of an artifact, then
//     (referrers.go) GET /v2/REPO/referrers/SUBJECT or the referrers tag
//     schema's GET and PUT of /v2/REPO/manifests/sha256-HEX.
//
// # Retries and resuming
//
// Requests without a body are retried by the transport (5xx, 408, 429,
// refused or reset connections, Options.Retries times with backoff). A
// PATCH that fails the same way is not sent again blindly: the registry is
// asked how much of the session it holds (GET on the session: "Range:
// 0-LAST"), and the upload goes on from there with a Content-Range, so a
// broken connection costs at most the bytes in flight. A session the
// registry lost (404) is started again from the first byte. Retries count
// failures in a row; a PATCH that takes the upload further than it ever
// got resets the count.
type Pusher struct {
	c    *Client
	repo name.Repository
	hc   *http.Client // authenticated; bodiless requests are retried
	// anonymous: no credentials were found. A registry may give an
	// anonymous token for pull only and refuse the first write: the
	// refusal says to give credentials, as a pull's does.
	anonymous bool
	chunk     int64
	progress  *Progress
}

// PushOptions configure a Pusher.
type PushOptions struct {
	// Chunk, when > 0, uploads a blob in PATCH requests of this many
	// bytes; 0 sends it in one (a registry need not support chunks).
	Chunk int64
	// MountFrom are the repositories (of the same registry) blobs may be
	// mounted from: the token asks for pull access to them too.
	MountFrom []name.Repository
	// Progress counts the bytes sent (nil: none).
	Progress *Progress
}

// Pusher does the handshake for pushing to repo (push and pull access, and
// pull access to the repositories blobs may be mounted from).
func (c *Client) Pusher(ctx context.Context, repo name.Repository, opts PushOptions) (*Pusher, error) {
	auth, err := c.authenticator(ctx, repo)
	if err != nil {
		return nil, err
	}
	scopes := []string{repo.Scope(transport.PushScope)}
	for _, m := range opts.MountFrom {
		if m.RegistryStr() == repo.RegistryStr() && m.RepositoryStr() != repo.RepositoryStr() {
			scopes = append(scopes, m.Scope(transport.PullScope))
		}
	}
	once := transport.NewUserAgent(c.base, c.opts.UserAgent)
	t, err := transport.NewWithContext(ctx, repo.Registry, auth, c.guardCreds(auth, bodyAware{retry: c.retry, once: once, idle: c.opts.IdleTimeout}), scopes)
	if err != nil {
		return nil, c.handshakeError(ctx, repo.Registry, auth == authn.Anonymous, err)
	}
	return &Pusher{c: c, repo: repo, hc: &http.Client{Transport: t}, anonymous: auth == authn.Anonymous, chunk: opts.Chunk, progress: opts.Progress}, nil
}

// bodyAware retries requests without a body and sends the others once:
// their body is spent after one try, and Upload resumes them itself.
//
// Once is not always once: go-containerregistry's bearer transport, above
// this one, sends a request again as it is when the registry refuses its
// token (401, a token that expired in the middle of a push), after getting
// a new one. The body of the first try is spent by then; the second try
// takes a new one from GetBody, once the transport closed the first (it
// may still be reading it when the 401 comes; the wait is bounded by the
// idle time). Without it the upload failed with "ContentLength=N with
// Body length 0".
type bodyAware struct {
	retry, once http.RoundTripper
	idle        time.Duration // how long the first body may take to be closed
}

func (b bodyAware) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.retry.RoundTrip(r)
	}
	if prev, again := r.Body.(*spentBody); again {
		if r.GetBody == nil {
			return nil, errors.New("cannot send the request again: its body is spent")
		}
		t := time.NewTimer(b.idle)
		defer t.Stop()
		select {
		case <-prev.closed:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-t.C:
			return nil, fmt.Errorf("cannot send the request again: its first body was not closed in %s", b.idle)
		}
		body, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	r.Body = &spentBody{ReadCloser: r.Body, closed: make(chan struct{})}
	return b.once.RoundTrip(r)
}

// spentBody marks a body sent once; closed is closed when the transport
// is done with it.
type spentBody struct {
	io.ReadCloser
	once   sync.Once
	closed chan struct{}
}

func (s *spentBody) Close() error {
	err := s.ReadCloser.Close()
	s.once.Do(func() { close(s.closed) })
	return err
}

func (p *Pusher) url(resource, id string) string { return endpoint(p.repo, resource, id) }

// describe is describe, a refusal saying what to do about it.
func (p *Pusher) describe(err error) error { return explain(describe(err), p.anonymous) }

// do sends a request and checks its status; on an error the response
// body is closed.
func (p *Pusher) do(req *http.Request, want ...int) (*http.Response, error) {
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, p.describe(err)
	}
	if err := transport.CheckError(resp, want...); err != nil {
		resp.Body.Close()
		return nil, p.describe(err)
	}
	return resp, nil
}

// StatBlob asks whether the repository holds the blob digest, and at what
// size: the Content-Length of the HEAD response, -1 when the registry
// gives none. A caller about to refer to a blob it did not upload compares
// the size with the one it will write in the manifest: a registry that
// holds the digest at another size (or will not say) is not to be
// referred to.
func (p *Pusher) StatBlob(ctx context.Context, digest string) (held bool, size int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, p.url("blobs", digest), nil)
	if err != nil {
		return false, 0, err
	}
	resp, err := p.do(req, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, 0, fmt.Errorf("asking for blob %s: %w", digest, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, 0, nil
	}
	return true, resp.ContentLength, nil
}

// Upload is an upload session, started by Mount or Upload.
type Upload struct{ location string }

// Mount asks the registry to mount the blob digest from repository from
// (a name on the same registry). It returns true when mounted; otherwise
// the upload session the registry started instead, for Upload.
func (p *Pusher) Mount(ctx context.Context, digest, from string) (bool, *Upload, error) {
	q := url.Values{"mount": {digest}, "from": {from}}
	return p.start(ctx, q)
}

func (p *Pusher) start(ctx context.Context, q url.Values) (bool, *Upload, error) {
	u := p.url("blobs", "uploads/")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return false, nil, err
	}
	resp, err := p.do(req, http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return false, nil, fmt.Errorf("starting an upload: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return true, nil, nil
	}
	loc, err := location(resp)
	if err != nil {
		return false, nil, fmt.Errorf("starting an upload: %w", err)
	}
	return false, &Upload{location: loc}, nil
}

// location resolves a response's Location header against its request.
func location(resp *http.Response) (string, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return "", errors.New("the registry gave no Location for the upload")
	}
	u, err := resp.Request.URL.Parse(l)
	if err != nil {
		var ue *url.Error // it repeats the location
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("upload location %s: %w", errdefs.Quote(l), err)
	}
	return u.String(), nil
}

// Upload sends the blob digest of size bytes, read from src, in session s
// (nil starts one), and commits it. See the type's doc for retries.
func (p *Pusher) Upload(ctx context.Context, s *Upload, digest string, size int64, src io.ReaderAt) error {
	if err := p.upload(ctx, s, digest, size, src); err != nil {
		return fmt.Errorf("uploading blob %s: %w", digest, err)
	}
	return nil
}

func (p *Pusher) upload(ctx context.Context, s *Upload, digest string, size int64, src io.ReaderAt) error {
	if s == nil {
		var err error
		if _, s, err = p.start(ctx, nil); err != nil {
			return err
		}
	}
	// reached is the furthest the upload got: only a PATCH that goes
	// past it resets the count of failures, so a registry that loses the
	// session after each first chunk cannot keep the upload going round.
	var off, reached int64
	failures := 0
	for off < size {
		n := size - off
		if p.chunk > 0 {
			n = min(n, p.chunk)
		}
		loc, err := p.patch(ctx, s.location, src, off, n)
		if err == nil {
			s.location, off = loc, off+n
			if off > reached {
				reached, failures = off, 0
			}
			continue
		}
		if !resumable(err) || failures >= p.c.opts.Retries {
			p.cancel(s)
			return err
		}
		failures++
		if err := p.c.wait(ctx, failures); err != nil {
			return err
		}
		at, err := p.resumeAt(ctx, s, size)
		if err != nil {
			return err
		}
		// The failed PATCH's bytes were taken off the bar; those the
		// registry kept count again (a new session loses all).
		p.progress.Add(at - off)
		off = at
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, withQuery(s.location, "digest", digest), nil)
	if err != nil {
		return err
	}
	resp, err := p.do(req, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	resp.Body.Close()
	return nil
}

// errResume marks a PATCH failure that asking the registry can recover
// from: a broken connection, a 5xx, 408, 429, or 416 (our offset is not
// the registry's).
type errResume struct{ err error }

func (e errResume) Error() string { return e.err.Error() }
func (e errResume) Unwrap() error { return e.err }

func resumable(err error) bool {
	var r errResume
	return errors.As(err, &r)
}

// patch sends n bytes of src from off; it returns the next location.
func (p *Pusher) patch(ctx context.Context, loc string, src io.ReaderAt, off, n int64) (string, error) {
	// A PATCH may be sent again (see tryBody): each try reads the bytes
	// afresh, and the bar loses those of the try before.
	var sent *tryBody
	body := func() (io.ReadCloser, error) {
		sent.withdraw()
		sent = &tryBody{r: io.NewSectionReader(src, off, n), progress: p.progress}
		return sent, nil
	}
	first, _ := body()
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, loc, first)
	if err != nil {
		return "", err
	}
	req.GetBody = body
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	if p.chunk > 0 || off > 0 {
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		sent.withdraw()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if retryable(err) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", errResume{p.describe(err)}
		}
		return "", p.describe(err)
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusAccepted, http.StatusNoContent, http.StatusCreated); err != nil {
		sent.withdraw()
		switch resp.StatusCode {
		case http.StatusRequestedRangeNotSatisfiable, http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return "", errResume{p.describe(err)}
		}
		return "", p.describe(err)
	}
	return location(resp)
}

var rangeRE = regexp.MustCompile(`^(?:bytes=)?0-([0-9]+)$`)

// resumeAt asks the registry how many bytes session s holds of a blob of
// size bytes and returns that offset (s moves to the location it gives).
// A lost session, or an answer that cannot tell (more bytes than the blob
// has), starts a new session from byte 0.
func (p *Pusher) resumeAt(ctx context.Context, s *Upload, size int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.location, nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.do(req, http.StatusNoContent, http.StatusOK)
	if err == nil {
		defer resp.Body.Close()
		m := rangeRE.FindStringSubmatch(resp.Header.Get("Range"))
		last, perr := int64(-1), error(nil)
		if m != nil {
			last, perr = strconv.ParseInt(m[1], 10, 64)
		}
		// "0-0" is ambiguous (distribution writes it for 0 bytes and
		// for 1): only a longer range is trusted.
		if loc, lerr := location(resp); lerr == nil && perr == nil && last > 0 && last < size {
			s.location = loc
			return last + 1, nil
		}
	}
	p.cancel(s)
	_, ns, err := p.start(ctx, nil)
	if err != nil {
		return 0, err
	}
	*s = *ns
	return 0, nil
}

// Cancel abandons an upload session (one a failed mount started), as a
// courtesy to the registry.
func (p *Pusher) Cancel(s *Upload) { p.cancel(s) }

func (p *Pusher) cancel(s *Upload) {
	req, err := http.NewRequest(http.MethodDelete, s.location, nil)
	if err != nil {
		return
	}
	if resp, err := p.hc.Do(req); err == nil {
		resp.Body.Close()
	}
}

func withQuery(loc, key, value string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// PutManifest stores a manifest under tag (or digest).
func (p *Pusher) PutManifest(ctx context.Context, tag, mediaType string, data []byte) error {
	_, err := p.putManifest(ctx, tag, mediaType, data)
	return err
}

// storedAsSent refuses a manifest PUT the registry answers with another
// digest than the bytes sent have (a registry or proxy that rewrites
// manifests): the digest a push prints, and that an index names its
// manifests by, would not pull. No Docker-Content-Digest header is no
// answer (the distribution-spec only says a registry SHOULD send it).
func storedAsSent(h http.Header, data []byte) error {
	got := h.Get("Docker-Content-Digest")
	if want := oci.DigestOf(data); got != "" && got != want {
		return fmt.Errorf("putting the manifest %s: the registry says it stored %s: %w", want, errdefs.Quote(got), errdefs.ErrDigestMismatch)
	}
	return nil
}

// putManifest is PutManifest, returning the registry's response headers
// (a registry with the referrers API says OCI-Subject there).
func (p *Pusher) putManifest(ctx context.Context, tag, mediaType string, data []byte) (http.Header, error) {
	var err error
	for try := 0; ; try++ {
		if try > 0 {
			if werr := p.c.wait(ctx, try); werr != nil {
				return nil, werr
			}
		}
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, http.MethodPut, p.url("manifests", tag), bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", mediaType)
		var resp *http.Response
		resp, err = p.hc.Do(req)
		if err == nil {
			err = transport.CheckError(resp, http.StatusCreated, http.StatusOK, http.StatusAccepted)
			if err != nil && !retryStatus(resp.StatusCode) {
				resp.Body.Close()
				return nil, fmt.Errorf("putting the manifest: %w", p.describe(err))
			}
			resp.Body.Close()
			if err == nil {
				return resp.Header, storedAsSent(resp.Header, data)
			}
		} else if !retryable(err) {
			return nil, fmt.Errorf("putting the manifest: %w", p.describe(err))
		}
		if try >= p.c.opts.Retries {
			return nil, fmt.Errorf("putting the manifest: %w", p.describe(err))
		}
	}
}

func retryStatus(code int) bool {
	for _, c := range retryStatusCodes {
		if c == code {
			return true
		}
	}
	return false
}
