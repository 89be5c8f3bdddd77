package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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
