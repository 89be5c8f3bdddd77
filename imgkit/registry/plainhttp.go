package registry

import (
	"fmt"
	"net/http"

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
	if req.URL.Scheme == "http" && !mayUsePlainHTTP(req.URL.Host) && !redirectedFromPlainHTTP(req) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("plain HTTP to %s is refused (--tls-verify=false allows it)", Shown(req.URL.Host))
	}
	return g.next.RoundTrip(req)
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
