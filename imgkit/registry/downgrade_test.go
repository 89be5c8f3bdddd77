package registry

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
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
	tr := hostsTransport(map[string]string{
		"registry.test:443": secure.Listener.Addr().String(),
		"registry.test:80":  plain.Listener.Addr().String(),
	})
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

// TestPlainRegistryRedirectsToPlainStorage: a registry in plain HTTP (on
// a loopback or private address, as go-containerregistry allows) that
// sends a blob on to its storage in plain HTTP, as the registry's S3
// driver does with a MinIO endpoint like http://minio:9000, was refused
// once plainGuard came: its storage's host is a name, or (here) a
// loopback address go-containerregistry's rule does not know. The
// connection was in clear from the start, so nothing is downgraded: a
// redirect from a request in plain HTTP may go on in plain HTTP.
func TestPlainRegistryRedirectsToPlainStorage(t *testing.T) {
	data := []byte("a blob kept in the registry's storage")
	d, _, _ := v1.SHA256(bytes.NewReader(data))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	storage := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(data)
	})}}
	storage.Start()
	defer storage.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		http.Redirect(w, r, storage.URL+"/bucket/"+d.Hex, http.StatusTemporaryRedirect)
	}))
	defer reg.Close()
	repo, err := name.NewRepository(strings.TrimPrefix(reg.URL, "http://") + "/app")
	if err != nil {
		t.Fatal(err)
	}
	br, err := fastClient(Options{Keychain: emptyKeychain{}, Retries: -1}).Blob(context.Background(), repo, d, int64(len(data)))
	if err == nil {
		var got []byte
		got, err = io.ReadAll(br)
		br.Close()
		if err == nil && !bytes.Equal(got, data) {
			t.Fatalf("got %q, want %q", got, data)
		}
	}
	if err != nil {
		t.Fatalf("blob: %v", err)
	}
}

// TestPlainGuard: which requests in plain HTTP plainGuard lets through.
func TestPlainGuard(t *testing.T) {
	redirect := func(from, to string) *http.Request {
		first := httptest.NewRequest(http.MethodGet, from, nil)
		req := httptest.NewRequest(http.MethodGet, to, nil)
		req.Response = &http.Response{Request: first}
		return req
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		pass bool
	}{
		{"PublicHost", httptest.NewRequest(http.MethodGet, "http://registry.test/v2/", nil), false},
		{"PrivateAddress", httptest.NewRequest(http.MethodGet, "http://10.1.2.3:5000/v2/", nil), true},
		{"RedirectFromHTTPS", redirect("https://registry.test/v2/", "http://registry.test/v2/"), false},
		{"RedirectFromPlainHTTP", redirect("http://10.1.2.3:5000/v2/app/blobs/x", "http://minio:9000/b/x"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			passed := false
			next := roundTripFunc(func(*http.Request) (*http.Response, error) {
				passed = true
				return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
			})
			_, err := plainGuard{next: next}.RoundTrip(tc.req)
			if passed != tc.pass || (err == nil) != tc.pass {
				t.Errorf("passed %v (error %v), want %v", passed, err, tc.pass)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCredentialsNotInClearOnPrivateNetwork: a registry on a private
// address (go-containerregistry's rule lets it use plain HTTP) is tried
// in HTTPS first and in plain HTTP when that fails, and whichever
// answers is taken. Someone on the network between (ARP spoofing on an
// office LAN) who made the HTTPS handshake fail and answered in plain
// HTTP with a Basic challenge was sent the password in clear; docker
// uses plain HTTP only for a registry in its insecure-registries (of
// private addresses, 127.0.0.0/8 alone by default). Credentials and
// tokens now go in plain HTTP only to a loopback address, or with
// --tls-verify=false; an anonymous pull still may.
func TestCredentialsNotInClearOnPrivateNetwork(t *testing.T) {
	var mu sync.Mutex
	var seen []string // what the plain HTTP server was sent
	bearer := false
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		challenge := `Basic realm="registry"`
		if bearer {
			challenge = `Bearer realm="http://192.168.77.1:5000/token",service="reg"`
		}
		mu.Unlock()
		switch {
		case r.URL.Path == "/token":
			io.WriteString(w, `{"token":"registry-t0ken"}`)
		case r.Header.Get("Authorization") == "" && !strings.HasPrefix(r.URL.Path, "/v2/public/"):
			w.Header().Set("WWW-Authenticate", challenge)
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		default:
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "no such manifest")
		}
	}))
	defer plain.Close()
	// The registry's address: its HTTPS fails (the server speaks HTTP), its
	// plain HTTP is the server.
	tr := hostsTransport(map[string]string{"192.168.77.1:5000": plain.Listener.Addr().String()})
	auth, err := ParseCreds("alice:s3cr3t-pw")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference("192.168.77.1:5000/app:1")
	if err != nil {
		t.Fatal(err)
	}
	pull := func(opts Options) (err error, sent []string) {
		mu.Lock()
		seen = nil
		mu.Unlock()
		opts.Transport, opts.Retries = tr, -1
		_, err = fastClient(opts).Manifest(context.Background(), ref)
		mu.Lock()
		defer mu.Unlock()
		return err, seen
	}
	for _, b := range []bool{false, true} {
		mu.Lock()
		bearer = b
		mu.Unlock()
		err, seen := pull(Options{Auth: auth})
		if err == nil || !strings.Contains(err.Error(), "in clear") {
			t.Errorf("bearer=%v: error %v, want the credentials refused in clear", b, err)
		}
		for _, s := range seen {
			if !strings.HasSuffix(s, "auth=") {
				t.Errorf("bearer=%v: sent in plain HTTP: %q", b, s)
			}
		}
		// With --tls-verify=false the user says the network is theirs.
		if err, _ := pull(Options{Auth: auth, Insecure: true}); err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
			t.Errorf("bearer=%v, Insecure: error %v, want the registry's MANIFEST_UNKNOWN", b, err)
		}
	}
	// Anonymous pulls in plain HTTP go on: nothing secret travels, and
	// every blob is checked against its digest.
	ref, err = name.ParseReference("192.168.77.1:5000/public/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err, _ := pull(Options{Keychain: emptyKeychain{}}); err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
		t.Errorf("anonymous: error %v, want the registry's MANIFEST_UNKNOWN", err)
	}
}

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
