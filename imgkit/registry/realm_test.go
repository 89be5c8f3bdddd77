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

// hostsTransport dials the names of hosts (host:port) at the addresses
// they map to, and accepts any certificate (the tests' own).
func hostsTransport(hosts map[string]string) *http.Transport {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if a, ok := hosts[addr]; ok {
			addr = a
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the tests' certificates
}

// tokenRecorder is a token service in plain HTTP that records what it is
// sent (path and Authorization); seen returns that.
func tokenRecorder(t *testing.T) (srv *httptest.Server, seen func() []string) {
	var mu sync.Mutex
	var got []string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, `{"token":"t"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// challengeWith is a registry handler that asks every request for a
// token from realm.
func challengeWith(realm string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="reg"`, realm))
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	}
}

// TestRealmInPlainHTTPGetsNoCredentials: a registry in plain HTTP on a
// loopback address (as any local registry) whose token service is on
// another host in plain HTTP would have the user's basic credentials
// cross the network in clear: go-containerregistry allows an HTTP realm to
// a registry it reached in HTTP. The token request is refused instead
// (plainGuard), and nothing reaches the token host.
func TestRealmInPlainHTTPGetsNoCredentials(t *testing.T) {
	tokens, seen := tokenRecorder(t)
	reg := httptest.NewServer(challengeWith("http://auth.test/token"))
	defer reg.Close()
	tr := hostsTransport(map[string]string{"auth.test:80": tokens.Listener.Addr().String()})
	auth, _ := ParseCreds("alice:s3cr3t")
	c := fastClient(Options{Auth: auth, Retries: -1, Transport: tr})
	_, err := c.Blob(context.Background(), serverRepo(t, reg), v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}, 1)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP to auth.test is refused") {
		t.Fatalf("error %v, want the token request refused", err)
	}
	if s := seen(); len(s) > 0 {
		t.Fatalf("the token host in plain HTTP was sent %q", s)
	}
}

// TestSecureRegistryRealmInPlainHTTP: a registry reached over HTTPS whose
// token service is in plain HTTP does not get the user's credentials sent
// there in clear: the pull fails, naming the realm, and nothing reaches
// the token host.
func TestSecureRegistryRealmInPlainHTTP(t *testing.T) {
	tokens, seen := tokenRecorder(t)
	reg := httptest.NewTLSServer(challengeWith("http://auth.test/token"))
	defer reg.Close()
	tr := hostsTransport(map[string]string{
		"registry.test:443": reg.Listener.Addr().String(),
		"auth.test:80":      tokens.Listener.Addr().String(),
	})
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
	if s := seen(); len(s) > 0 {
		t.Fatalf("the token host in plain HTTP was sent %q", s)
	}
}
