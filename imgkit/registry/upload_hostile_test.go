package registry

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestUploadRestartsAreBounded: a registry that takes a chunked upload's
// first chunk, fails the second and then has lost the session makes the
// upload start over; an upload that gets no further than before counts
// as failing, so the retries run out, where an accepted first chunk used
// to reset the count and the upload went round forever.
func TestUploadRestartsAreBounded(t *testing.T) {
	var patches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "/v2/test/img/blobs/uploads/"+strconv.FormatInt(patches.Load(), 10))
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPatch && patches.Add(1) > 1000:
			w.WriteHeader(http.StatusForbidden) // what the loop comes to
		case r.Method == http.MethodPatch && strings.HasPrefix(r.Header.Get("Content-Range"), "0-"):
			w.Header().Set("Location", r.URL.Path)
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPatch:
			w.WriteHeader(http.StatusServiceUnavailable)
		default: // the session is lost
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	uploadFails503(t, srv)
	if n := patches.Load(); n > 20 {
		t.Fatalf("%d PATCH requests for a blob of 3 chunks", n)
	}
}

// TestUploadRangeBeyondTheBlob: asked how much of a failed upload it
// holds, a registry answered with more bytes than the blob has: the last
// byte 2^63-1 made the offset overflow and the upload panic slicing the
// blob at a negative offset; a smaller lie made the upload skip to the
// commit. Such an answer tells nothing, and the upload starts over (here
// until the retries run out on the registry's 503).
func TestUploadRangeBeyondTheBlob(t *testing.T) {
	for _, rng := range []string{"0-9223372036854775807", "0-100000", "0-10"} {
		t.Run(rng, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/v2/":
				case r.Method == http.MethodPost:
					w.Header().Set("Location", "/v2/test/img/blobs/uploads/1")
					w.WriteHeader(http.StatusAccepted)
				case r.Method == http.MethodPatch:
					w.WriteHeader(http.StatusServiceUnavailable)
				case r.Method == http.MethodGet:
					w.Header().Set("Location", r.URL.Path)
					w.Header().Set("Range", rng)
					w.WriteHeader(http.StatusNoContent)
				case r.Method == http.MethodPut:
					w.WriteHeader(http.StatusCreated)
				}
			}))
			defer srv.Close()
			uploadFails503(t, srv)
		})
	}
}

// uploadFails503 uploads a blob of 3 chunks to srv, with 3 retries, and
// fails t unless the upload fails with the registry's 503.
func uploadFails503(t *testing.T, srv *httptest.Server) {
	t.Helper()
	repo := serverRepo(t, srv)
	c := New(Options{Insecure: true, Keychain: emptyKeychain{}, Retries: 3, Backoff: time.Microsecond})
	p, err := c.Pusher(context.Background(), repo, PushOptions{Chunk: 4})
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("0123456789")
	err = p.Upload(context.Background(), nil, sha(blob), int64(len(blob)), bytes.NewReader(blob))
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v, want the registry's 503", err)
	}
}
