package registry

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// plainGuard refuses a request in plain HTTP to a host that is not on a
// loopback or private address (go-containerregistry's rule for which
// registries may use HTTP, name.Registry.Scheme), unless it was
// redirected from a request in plain HTTP; Client puts it under every
// request unless Options.Insecure. The ping and the requests Client
// makes use HTTPS for such a registry, but a registry may redirect
// anywhere, or name any Location for an upload: a ping redirected to
// plain HTTP made go-containerregistry take the registry for an HTTP one,
// and every request after it, credentials included, went in clear to port
// 80 of its host. A registry reached in plain HTTP has nothing to
// downgrade, and its storage may be plain too (the registry's S3 driver
// redirecting to http://minio:9000): its redirects are let through.
type plainGuard struct{ next http.RoundTripper }

func (g plainGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if plainRefused(req) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("plain HTTP to %s is refused (--tls-verify=false allows it)", Shown(req.URL.Host))
	}
	return g.next.RoundTrip(req)
}

// plainRefused reports whether plainGuard refuses req.
func plainRefused(req *http.Request) bool {
	return req.URL.Scheme == "http" && !mayUsePlainHTTP(req.URL.Host) && !redirectedFromPlainHTTP(req)
}

func mayUsePlainHTTP(host string) bool {
	reg, err := name.NewRegistry(host, name.WeakValidation)
	return err == nil && reg.Scheme() == "http"
}

// redirectedFromPlainHTTP reports whether req is a redirect of a request
// that was in plain HTTP. (A request made anew, as an upload's Location or
// after a ping that said HTTP, is not one.)
func redirectedFromPlainHTTP(req *http.Request) bool {
	first := firstOfRedirects(req)
	return first != req && first.URL.Scheme == "http"
}

// clearGuard refuses a request that carries credentials (a password, a
// token got with one) in plain HTTP to a host that is not this machine.
// go-containerregistry tries a registry on a private address in HTTPS
// and in plain HTTP, and takes whichever answers (plainGuard lets it):
// someone on the network between who made the HTTPS handshake fail and
// answered in plain HTTP with a challenge was sent the password in
// clear. Docker uses plain HTTP only for its insecure-registries
// (127.0.0.0/8 alone by default), skopeo only with --tls-verify=false.
// Client puts it under the requests of a repository it has credentials
// for, unless Options.Insecure (guardCreds); anonymous pulls from such a
// registry go on in plain HTTP, their tokens giving nobody more than
// anyone may have, and every blob checked against its digest.
type clearGuard struct{ next http.RoundTripper }

func (g clearGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	// What plainGuard refuses, below, it refuses in its own words.
	if req.URL.Scheme == "http" && carriesCreds(req) && !loopbackHost(req.URL.Hostname()) && !plainRefused(req) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("plain HTTP to %s would carry the credentials in clear (someone on the network may have made HTTPS fail): refused (--tls-verify=false allows it)", Shown(req.URL.Host))
	}
	return g.next.RoundTrip(req)
}

// carriesCreds reports whether req carries credentials: in its
// Authorization header (a password, a token got with one), or in its
// body when it is an OAuth2 token request, a form POST, which
// go-containerregistry sends with no Authorization, its refresh token (an
// identity token: docker login's "identitytoken", a credential helper's
// <token>) in the form. The registry API itself posts no forms.
func carriesCreds(req *http.Request) bool {
	if req.Header.Get("Authorization") != "" {
		return true
	}
	media, _, _ := strings.Cut(req.Header.Get("Content-Type"), ";")
	return req.Method == http.MethodPost && strings.EqualFold(strings.TrimSpace(media), "application/x-www-form-urlencoded")
}

// guardCreds returns t under a clearGuard when auth holds credentials and
// Options.Insecure is not set.
func (c *Client) guardCreds(auth authn.Authenticator, t http.RoundTripper) http.RoundTripper {
	if auth == authn.Anonymous || c.opts.Insecure {
		return t
	}
	return clearGuard{next: t}
}

// loopbackHost reports whether host (no port) is this machine: what goes
// there in plain HTTP crosses no network.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
