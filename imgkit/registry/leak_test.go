package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// TestCredentialsStayWithTheRegistry: a registry that sends blob reads to
// its storage on another host (a redirect), whose storage even asks for a
// bearer token of its own, never has the user's password or the
// registry's token sent there, whether the registry takes basic
// credentials or tokens from a token service that wants them (the
// storage's own token is asked for anonymously).
func TestCredentialsStayWithTheRegistry(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		t.Run(fmt.Sprintf("bearer=%v", bearer), func(t *testing.T) {
			blob := testBlob(1000)
			dgst := digestOf(blob)
			var mu sync.Mutex
			var storageAuth []string // Authorization headers the storage saw
			storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				storageAuth = append(storageAuth, r.URL.Path+" "+r.Header.Get("Authorization"))
				mu.Unlock()
				switch {
				case r.URL.Path == "/token":
					io.WriteString(w, `{"token":"storage-token"}`)
				case bearer && r.Header.Get("Authorization") != "Bearer storage-token":
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="storage"`, r.Host))
					writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "storage wants its token")
				default:
					w.Write(blob)
				}
			}))
			defer storage.Close()
			var reg *httptest.Server
			reg = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user, pass, basic := r.BasicAuth()
				authorized := basic && user == "alice" && pass == "s3cret"
				challenge := `Basic realm="reg"`
				if bearer {
					if r.URL.Path == "/token" {
						if !authorized {
							writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "bad credentials")
							return
						}
						io.WriteString(w, `{"token":"reg-token"}`)
						return
					}
					authorized = r.Header.Get("Authorization") == "Bearer reg-token"
					challenge = fmt.Sprintf(`Bearer realm="%s/token",service="reg"`, reg.URL)
				}
				if !authorized {
					w.Header().Set("WWW-Authenticate", challenge)
					writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
					return
				}
				if strings.HasPrefix(r.URL.Path, "/v2/test/img/blobs/") {
					http.Redirect(w, r, storage.URL+"/storage/"+dgst.Hex+"?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
				}
			}))
			defer reg.Close()
			c := fastClient(Options{Auth: &authn.Basic{Username: "alice", Password: "s3cret"}, Retries: -1})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			b, err := c.Blob(ctx, serverRepo(t, reg), dgst, int64(len(blob)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, b); err != nil {
				t.Fatal(err)
			}
			b.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, a := range storageAuth {
				if strings.Contains(a, "Basic") || strings.Contains(a, "reg-token") {
					t.Errorf("the storage got the registry's credentials: %s", a)
				}
			}
			if bearer && len(storageAuth) != 3 {
				t.Errorf("the storage saw %q; want its challenge, the token asked anonymously and the read with it", storageAuth)
			}
		})
	}
}

// TestUploadElsewhereGetsNoCredentials: a registry whose upload Location
// is on another host (its storage, or a hostile one) does not get the
// user's credentials sent there with the blob: the credentials go only to
// the registry they are for, as docker sends them (to the hosts that
// challenged it). Another port of the same address is another host.
func TestUploadElsewhereGetsNoCredentials(t *testing.T) {
	blob := testBlob(1000)
	dgst := digestOf(blob)
	var mu sync.Mutex
	var storageAuth []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		storageAuth = append(storageAuth, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPatch {
			w.Header().Set("Location", r.URL.Path)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer storage.Close()
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="reg"`)
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
		if r.Method == http.MethodPost {
			w.Header().Set("Location", storage.URL+"/upload/1")
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer reg.Close()
	c := fastClient(Options{Auth: &authn.Basic{Username: "alice", Password: "s3cret"}, Retries: -1})
	p, err := c.Pusher(context.Background(), serverRepo(t, reg), PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Upload(context.Background(), nil, dgst.String(), int64(len(blob)), bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(storageAuth) == 0 {
		t.Fatal("the storage got no upload")
	}
	for _, a := range storageAuth {
		if !strings.HasSuffix(a, "auth=") {
			t.Errorf("the storage got the registry's credentials: %s", a)
		}
	}
}
