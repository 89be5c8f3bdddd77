package registry

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Auth, when set, is used for every registry (from --creds, see
	// ParseCreds). Otherwise credentials come from Keychain.
	Auth authn.Authenticator
	// Keychain resolves credentials per registry; nil means the files
	// docker, podman and skopeo keep them in (fileKeychain).
	Keychain authn.Keychain
	// Insecure skips TLS certificate checks and allows plain HTTP
	// (--tls-verify=false). Use the same value for ParseReference.
	Insecure bool
	// Retries is how many times a failed request, or a broken-off blob,
	// is tried again. 0 means DefaultRetries; a negative value, none.
	Retries int
	// Backoff is the first wait between tries; it doubles after each.
	// 0 means one second.
	Backoff time.Duration
	// IdleTimeout is how long a request may go without progress (its body
	// taken, its response coming, its response body delivering while it is
	// read) before it is treated as broken, and the span over which a
	// body moving at less than 1 KiB a second is. 0 means one minute.
	IdleTimeout time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Transport replaces the HTTP transport under the registry handshake
	// (tests put a proxy or a fault injector there). nil means a transport
	// with the timeouts above and TLS verification per Insecure.
	Transport http.RoundTripper
}

// DefaultRetries is the number of retries when Options.Retries is 0: with
// the default backoff, 1+2+4+8+16 = 31 seconds of waiting, enough for a
// registry to restart.
const DefaultRetries = 5

// Client talks to registries. It is safe for concurrent use; the
// handshake with each repository (ping, token) is done once and shared.
type Client struct {
	opts  Options
	base  http.RoundTripper // the HTTP transport, through certs
	retry http.RoundTripper // base with retries and the user agent
	certs *certRecorder     // certificates that failed verification

	mu    sync.Mutex
	repos map[string]*repoClient
}

type repoClient struct {
	once      sync.Once
	hc        *http.Client
	anonymous bool // no credentials were found for the repository
	err       error
}

// New returns a Client.
func New(opts Options) *Client {
	if opts.Retries == 0 {
		opts.Retries = DefaultRetries
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = time.Minute
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "dockertools-go"
	}
	base := opts.Transport
	if base == nil {
		base = baseTransport(opts)
	}
	base = pingLimit{next: base}
	if !opts.Insecure {
		base = plainGuard{next: base}
	}
	certs := &certRecorder{next: idleGuard{next: base, idle: opts.IdleTimeout}}
	c := &Client{opts: opts, base: certs, certs: certs, repos: map[string]*repoClient{}}
	c.retry = transport.NewRetry(c.base,
		transport.WithRetryBackoff(c.backoff()),
		transport.WithRetryPredicate(retryable),
		transport.WithRetryStatusCodes(retryStatusCodes...))
	c.retry = transport.NewUserAgent(c.retry, opts.UserAgent)
	return c
}

func baseTransport(opts Options) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: opts.IdleTimeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: opts.Insecure}, //nolint:gosec // --tls-verify=false asks for it
	}
}

// repoClient returns the authenticated client for repo, doing the
// handshake (ping, credentials, token) the first time.
func (c *Client) repoClient(ctx context.Context, repo name.Repository) (*repoClient, error) {
	key := repo.Name()
	c.mu.Lock()
	rc := c.repos[key]
	if rc == nil {
		rc = &repoClient{}
		c.repos[key] = rc
	}
	c.mu.Unlock()
	rc.once.Do(func() {
		auth, err := c.authenticator(ctx, repo)
		if err != nil {
			rc.err = err
			return
		}
		rc.anonymous = auth == authn.Anonymous
		t, err := transport.NewWithContext(ctx, repo.Registry, auth, c.guardCreds(auth, c.retry), []string{repo.Scope(transport.PullScope)})
		if err != nil {
			rc.err = c.handshakeError(ctx, repo.Registry, rc.anonymous, err)
			return
		}
		rc.hc = &http.Client{Transport: t}
	})
	return rc, rc.err
}

// FlagOptions returns the Options of the flags pull-blob and push-blob
// share: --tls-verify, --retries (0 meaning none, as the flag says) and
// --creds USER:PASS (empty: the keychain). The error is about --creds.
func FlagOptions(tlsVerify bool, retries int, creds string) (Options, error) {
	opts := Options{Insecure: !tlsVerify, Retries: retries}
	if opts.Retries == 0 {
		opts.Retries = -1 // Options: 0 means the default
	}
	if creds != "" {
		auth, err := ParseCreds(creds)
		if err != nil {
			return opts, fmt.Errorf("--creds: %w", err)
		}
		opts.Auth = auth
	}
	return opts, nil
}
