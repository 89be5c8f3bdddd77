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
// end kept the handshake reading for ever, gigabytes a minute.
type pingLimit struct{ next http.RoundTripper }

func (p pingLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodGet && req.URL.Path == "/v2/" {
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxPing), Closer: resp.Body}
	}
	return resp, err
}

type limitedBody struct {
	io.Reader
	io.Closer
}
