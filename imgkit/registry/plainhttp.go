package registry

import (
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
)

// plainGuard refuses a request in plain HTTP to a host that is not on a
// loopback or private address (go-containerregistry's rule for which
// registries may use HTTP, name.Registry.Scheme); Client puts it under
// every request unless Options.Insecure. The ping and the requests Client
// makes use HTTPS for such a registry, but a registry may redirect
// anywhere, or name any Location for an upload: a ping redirected to
// plain HTTP made go-containerregistry take the registry for an HTTP one,
// and every request after it, credentials included, went in clear to port
// 80 of its host.
type plainGuard struct{ next http.RoundTripper }

func (g plainGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !mayUsePlainHTTP(req.URL.Host) {
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
