package registry

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// TestUploadTokenExpires: a registry whose tokens are good for one request
// each (a token that expires in the middle of a push) answers 401 and a
// challenge to PATCHes and PUTs whose body is on its way; go-containerregistry
// gets a new token and sends the request again, with its body sent afresh,
// and the push completes. Before, the second try went with the body spent:
// "ContentLength=N with Body length 0".
func TestUploadTokenExpires(t *testing.T) {
	blob := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for _, tc := range []struct {
		chunk int64
		h2    bool // HTTPS and HTTP/2, as most hosted registries speak
	}{{0, false}, {10000, false}, {0, true}, {10000, true}} {
		chunk := tc.chunk
		t.Run(fmt.Sprintf("chunk=%d,h2=%v", chunk, tc.h2), func(t *testing.T) {
			u := &fakeUploads{t: t, blobs: map[string][]byte{}, sessions: map[string][]byte{}, mounts: map[string]string{}}
			var mu sync.Mutex
			tokens := map[string]bool{} // issued and not used yet
			n, expired := 0, 0
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				if r.URL.Path == "/token" {
					n++
					tok := fmt.Sprintf("t%d", n)
					tokens[tok] = true
					mu.Unlock()
					fmt.Fprintf(w, `{"token":%q}`, tok)
					return
				}
				tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				fresh := tokens[tok]
				delete(tokens, tok)
				if !fresh && tok != "" && r.URL.Path != "/v2/" {
					expired++
				}
				mu.Unlock()
				if !fresh {
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s://%s/token",service="test"`, scheme(r), r.Host))
					writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "token expired")
					return
				}
				if tc.h2 && r.ProtoMajor != 2 {
					t.Errorf("%s %s over %s", r.Method, r.URL.Path, r.Proto)
				}
				u.serve(w, r)
			}))
			if tc.h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			repo, err := name.NewRepository(strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://") + "/test/img")
			if err != nil {
				t.Fatal(err)
			}
			c := New(Options{Insecure: true, Auth: &authn.Basic{Username: "u", Password: "p"}, Retries: -1, Backoff: time.Millisecond})
			ctx := context.Background()
			p, err := c.Pusher(ctx, repo, PushOptions{Chunk: chunk})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Upload(ctx, nil, sha(blob), int64(len(blob)), bytes.NewReader(blob)); err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(u.log, "\n"))
			}
			if err := p.PutManifest(ctx, "v1", "application/vnd.oci.image.manifest.v1+json", []byte(`{"m":1}`)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(u.blobs[sha(blob)], blob) || string(u.manifest) != `{"m":1}` {
				t.Fatalf("the registry holds %d bytes of the blob and manifest %q", len(u.blobs[sha(blob)]), u.manifest)
			}
			if expired < 3 {
				t.Errorf("%d requests met an expired token; want every one after the first", expired)
			}
		})
	}
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
