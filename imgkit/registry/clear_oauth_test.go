package registry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// TestIdentityTokenNotInClearOnPrivateNetwork: an identity token (docker
// login's "identitytoken" in config.json, a credential helper's <token>)
// is exchanged for a registry token by an OAuth2 form POST, the refresh
// token in its body and no Authorization header. clearGuard looked at
// that header alone: to a registry on a private address whose HTTPS
// someone on the network made fail, the refresh token, a long-lived
// secret, went in plain HTTP. It goes as a password does: to loopback,
// or with --tls-verify=false.
func TestIdentityTokenNotInClearOnPrivateNetwork(t *testing.T) {
	var mu sync.Mutex
	var bodies []string // what the plain HTTP server was sent
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+string(body))
		mu.Unlock()
		switch {
		case r.URL.Path == "/token":
			io.WriteString(w, `{"token":"registry-t0ken"}`)
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://192.168.77.2:5000/token",service="reg"`)
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		default:
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "no such manifest")
		}
	}))
	defer plain.Close()
	tr := hostsTransport(map[string]string{"192.168.77.2:5000": plain.Listener.Addr().String()})
	ref, err := name.ParseReference("192.168.77.2:5000/app:1")
	if err != nil {
		t.Fatal(err)
	}
	auth := authn.FromConfig(authn.AuthConfig{IdentityToken: "id-refresh-t0ken"})
	pull := func(opts Options) (error, []string) {
		mu.Lock()
		bodies = nil
		mu.Unlock()
		opts.Auth, opts.Transport, opts.Retries = auth, tr, -1
		_, err := fastClient(opts).Manifest(context.Background(), ref)
		mu.Lock()
		defer mu.Unlock()
		return err, bodies
	}
	err, sent := pull(Options{})
	if err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Errorf("error %v, want the identity token refused in clear", err)
	}
	for _, s := range sent {
		if strings.Contains(s, "id-refresh-t0ken") {
			t.Errorf("sent in plain HTTP: %q", s)
		}
	}
	// With --tls-verify=false the user says the network is theirs.
	if err, sent := pull(Options{Insecure: true}); err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") || !strings.Contains(strings.Join(sent, "\n"), "id-refresh-t0ken") {
		t.Errorf("Insecure: error %v, sent %q; want the token exchanged and the registry's MANIFEST_UNKNOWN", err, sent)
	}
}
