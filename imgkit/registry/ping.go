package registry

import (
	"io"
	"net/http"
)

// maxPing bounds what is read of the answer to the ping (GET /v2/).
const maxPing = 64 << 10

// pingLimit ends the body of the answer to the ping after maxPing bytes.
// go-containerregistry reads that body to its end, to reuse the
// connection, and uses nothing in it: a registry that answered without
// end kept the handshake reading for ever, gigabytes a minute. The ping
// follows redirects, so the answer at the end of them is the ping's too.
type pingLimit struct{ next http.RoundTripper }

func (p pingLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if first := firstOfRedirects(req); err == nil && first.Method == http.MethodGet && first.URL.Path == "/v2/" {
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxPing), Closer: resp.Body}
	}
	return resp, err
}

// firstOfRedirects returns the request that req was redirected from, at
// the start of the chain (req itself when it was not redirected).
func firstOfRedirects(req *http.Request) *http.Request {
	for req.Response != nil && req.Response.Request != nil {
		req = req.Response.Request
	}
	return req
}

type limitedBody struct {
	io.Reader
	io.Closer
}
