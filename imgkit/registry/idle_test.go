package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
			repo := serverRepo(t, srv)
			// The deadline is what ended the request before idleGuard.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, IdleTimeout: 300 * time.Millisecond, Retries: -1})
			var err error
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

// TestTricklingRequestsFail: a registry that sends a body, or takes an
// upload, a byte at a time just inside the idle timeout never stalls, and
// used to keep the request going until the test's deadline; under minRate
// for a span of the idle timeout, the request fails as stalled.
func TestTricklingRequestsFail(t *testing.T) {
	const idle = 300 * time.Millisecond
	t.Run("ManifestBody", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.WriteHeader(http.StatusOK)
			for range 2000 { // 20 s at most
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}))
		defer srv.Close()
		repo := serverRepo(t, srv)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c := fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, IdleTimeout: idle, Retries: -1})
		_, err := c.Manifest(ctx, repo.Tag("1"))
		var se *stallError
		if !errors.As(err, &se) || !se.slow || ctx.Err() != nil {
			t.Fatalf("error %v, want less than %d bytes in %s", err, minBytes(idle), idle)
		}
	})
	t.Run("UploadBody", func(t *testing.T) {
		// A transport that takes the body a byte every 10 ms, as a
		// registry reading it so would once the socket buffers are full.
		slow := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			b := make([]byte, 1)
			for {
				if _, err := req.Body.Read(b); err != nil {
					return nil, err
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
		req, err := http.NewRequest(http.MethodPatch, "http://registry.test/upload", bytes.NewReader(make([]byte, 1<<20)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = idleGuard{next: slow, idle: idle}.RoundTrip(req)
		var se *stallError
		if !errors.As(err, &se) || !se.slow {
			t.Fatalf("error %v, want less than %d bytes in %s", err, minBytes(idle), idle)
		}
	})
}
