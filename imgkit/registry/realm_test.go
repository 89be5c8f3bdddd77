package registry

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestRealmInPlainHTTPGetsNoCredentials: a registry in plain HTTP on a
// loopback address (as any local registry) whose token service is on
// another host in plain HTTP would have the user's basic credentials
// cross the network in clear: go-containerregistry allows an HTTP realm to
// a registry it reached in HTTP. The token request is refused instead
// (plainGuard), and nothing reaches the token host.
func TestRealmInPlainHTTPGetsNoCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, `{"token":"t"}`)
	}))
	defer tokens.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://auth.test/token",service="reg"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	}))
	defer reg.Close()
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "auth.test:80" {
			addr = tokens.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	auth, _ := ParseCreds("alice:s3cr3t")
	c := fastClient(Options{Auth: auth, Retries: -1, Transport: &http.Transport{DialContext: dial}})
	_, err := c.Blob(context.Background(), serverRepo(t, reg), v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}, 1)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP to auth.test is refused") {
		t.Fatalf("error %v, want the token request refused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) > 0 {
		t.Fatalf("the token host in plain HTTP was sent %q", seen)
	}
}

// TestSecureRegistryRealmInPlainHTTP: a registry reached over HTTPS whose
// token service is in plain HTTP does not get the user's credentials sent
// there in clear: the pull fails, naming the realm, and nothing reaches
// the token host.
func TestSecureRegistryRealmInPlainHTTP(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, `{"token":"t"}`)
	}))
	defer tokens.Close()
	reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://auth.test/token",service="reg"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	}))
	defer reg.Close()
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		switch addr {
		case "registry.test:443":
			addr = reg.Listener.Addr().String()
		case "auth.test:80":
			addr = tokens.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr := &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the test's certificate
	auth, _ := ParseCreds("alice:s3cr3t")
	repo, err := name.NewRepository("registry.test/app")
	if err != nil {
		t.Fatal(err)
	}
	c := fastClient(Options{Auth: auth, Retries: -1, Transport: tr})
	_, err = c.Blob(context.Background(), repo, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}, 1)
	if err == nil || !strings.Contains(err.Error(), "realm") {
		t.Fatalf("error %v, want the realm refused", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) > 0 {
		t.Fatalf("the token host in plain HTTP was sent %q", seen)
	}
}
