package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestStalledRequestsFail: a registry (or its token server) that stops
// half-way, in a manifest's body, a token's body or while an upload is
// sent, makes the request fail as stalled after the idle timeout, where
// it used to wait forever (here: until the test's deadline).
func TestStalledRequestsFail(t *testing.T) {
	// The handlers wait until the case ends.
	var done chan struct{}
	wait := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
	stall := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("{"))
		w.(http.Flusher).Flush()
		wait(r)
	}
	for _, tc := range []struct {
		name string
		push bool
		h    http.HandlerFunc
	}{
		{name: "ManifestBody", h: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/" {
				stall(w, r)
			}
		}},
		{name: "TokenBody", h: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				stall(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		}},
		{name: "UploadNotRead", push: true, h: func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodPost:
				w.Header().Set("Location", "/v2/test/img/blobs/uploads/1")
				w.WriteHeader(http.StatusAccepted)
			case http.MethodPatch: // the body is never read
				wait(r)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			done = make(chan struct{})
			defer close(done)
			repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://")+"/test/img", name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			// The deadline is what ended the request before idleGuard.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, IdleTimeout: 300 * time.Millisecond, Retries: -1})
			if tc.push {
				var p *Pusher
				if p, err = c.Pusher(ctx, repo, PushOptions{}); err == nil {
					// More than the socket buffers hold.
					data := make([]byte, 32<<20)
					err = p.Upload(ctx, nil, sha(data), int64(len(data)), bytes.NewReader(data))
				}
			} else {
				_, err = c.Manifest(ctx, repo.Tag("1"))
			}
			if !errors.Is(err, errStalled) || ctx.Err() != nil {
				t.Fatalf("error %v, want %v", err, errStalled)
			}
		})
	}
}
