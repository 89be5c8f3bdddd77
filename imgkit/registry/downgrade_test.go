package registry

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestRedirectToPlainHTTPRefused: a registry reached over HTTPS (not on a
// loopback or private address, and without --tls-verify=false) that
// redirects its ping to plain HTTP made go-containerregistry take the
// registry for an HTTP one: every request after it, credentials
// included, went in clear to port 80 of the registry's host. A request in
// plain HTTP to such a host is refused now, as the help says plain HTTP
// is.
func TestRedirectToPlainHTTPRefused(t *testing.T) {
	var mu sync.Mutex
	var clear []string // what the plain HTTP server was sent
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		clear = append(clear, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://registry.test"+r.URL.Path, http.StatusFound)
	}))
	defer secure.Close()
	// registry.test is the secure server on 443 and the plain one on 80.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		switch addr {
		case "registry.test:443":
			addr = secure.Listener.Addr().String()
		case "registry.test:80":
			addr = plain.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr := &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the test's certificate
	auth, err := ParseCreds("alice:s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference("registry.test/app:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = fastClient(Options{Auth: auth, Transport: tr, Retries: -1}).Manifest(context.Background(), ref)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Errorf("error %v, want plain HTTP refused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(clear) > 0 {
		t.Errorf("sent in plain HTTP: %q", clear)
	}
}
