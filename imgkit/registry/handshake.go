package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// certRecorder remembers, per host, the last certificate that failed
// verification. go-containerregistry tries plain HTTP after HTTPS for a
// registry on a loopback or private address, and reports only the HTTP
// attempt's error: against an HTTPS server with a certificate no authority
// signed, "HTTP 400 Bad Request", which hides the cause and the remedy.
type certRecorder struct {
	next http.RoundTripper

	mu     sync.Mutex
	failed map[string]error // host:port → the verification error
}

func (r *certRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	var cv *tls.CertificateVerificationError
	if err != nil && errors.As(err, &cv) {
		r.mu.Lock()
		if r.failed == nil {
			r.failed = map[string]error{}
		}
		r.failed[req.URL.Host] = cv
		r.mu.Unlock()
	}
	return resp, err
}

// certError returns the certificate error seen for host, if any.
func (r *certRecorder) certError(host string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed[host]
}

// handshakeError describes a failed handshake (ping, credentials, token)
// with reg: what the registry said, what to do about a refusal, and, when
// its certificate failed verification, that. A handshake cut short by ctx
// is that: go-containerregistry would report the HTTPS attempt's error
// when the plain HTTP one after it is cancelled.
func (c *Client) handshakeError(ctx context.Context, reg name.Registry, anonymous bool, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("contacting %s: %w", reg.RegistryStr(), ctx.Err())
	}
	err = explain(describe(err), anonymous)
	if cert := c.certs.certError(reg.RegistryStr()); cert != nil && !errors.Is(err, ErrUnauthorized) {
		err = fmt.Errorf("%w (over HTTPS: %v; --tls-verify=false skips the certificate check)", err, cert)
	}
	return fmt.Errorf("contacting %s: %w", reg.RegistryStr(), err)
}
