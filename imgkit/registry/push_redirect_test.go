package registry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestPatchRedirectCountsOnce: a PATCH the registry redirects (307) is
// sent again to the new location with its body read afresh (GetBody),
// while the transport may still be sending the first try's: the bar
// counts the chunk once, not the first try's bytes read after it was
// given up as well. (The first try's reader went on counting the bytes
// the transport read after the redirect, and the bar passed the chunk's
// size; the two tries' counters also raced, as go test -race showed.)
func TestPatchRedirectCountsOnce(t *testing.T) {
	blob := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/":
		case "/up/a":
			// Redirected after a first piece, and the rest read on,
			// slowly, as a proxy that answers before the body is in.
			rc := http.NewResponseController(w)
			if err := rc.EnableFullDuplex(); err != nil {
				t.Error(err)
			}
			io.CopyN(io.Discard, r.Body, 64<<10)
			w.Header().Set("Location", "/up/b")
			w.WriteHeader(http.StatusTemporaryRedirect)
			rc.Flush()
			buf := make([]byte, 64<<10)
			for {
				if _, err := r.Body.Read(buf); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		case "/up/b":
			got, _ = io.ReadAll(r.Body)
			w.Header().Set("Location", "/up/c")
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/test/img")
	if err != nil {
		t.Fatal(err)
	}
	bar := &Progress{} // not drawn: counts only
	p, err := New(Options{Insecure: true, Retries: -1}).Pusher(context.Background(), repo, PushOptions{Progress: bar})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := p.patch(context.Background(), srv.URL+"/up/a", bytes.NewReader(blob), 0, int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/up/c") || !bytes.Equal(got, blob) {
		t.Fatalf("next location %s, %d bytes at the new location; want /up/c and the %d bytes", loc, len(got), len(blob))
	}
	time.Sleep(100 * time.Millisecond) // the first try's transport, if still reading, has read on
	if done := bar.done.Load(); done != int64(len(blob)) {
		t.Fatalf("the bar counts %d bytes for a chunk of %d", done, len(blob))
	}
}
