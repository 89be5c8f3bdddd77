package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"dockertools.dev/imgkit/errdefs"
)

// TestPingAnswerWithoutEnd: a registry whose answer to the ping (GET /v2/)
// never ends kept the handshake reading it until the test's deadline; only
// its first bytes are read now, and the pull goes on (here to the
// registry's 404).
func TestPingAnswerWithoutEnd(t *testing.T) {
	pingWithoutEnd(t, "/v2/")
}

// TestPingRedirectedAnswerWithoutEnd: the ping follows redirects, so a
// registry that sent it on to another path, answered there without end,
// kept the handshake reading for ever too.
func TestPingRedirectedAnswerWithoutEnd(t *testing.T) {
	pingWithoutEnd(t, "/v2/elsewhere")
}

// pingWithoutEnd pulls from a registry that answers the ping at path
// (redirected there from /v2/ unless it is /v2/) without end.
func pingWithoutEnd(t *testing.T, path string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case path:
		case "/v2/":
			http.Redirect(w, r, path, http.StatusFound)
			return
		default:
			w.WriteHeader(http.StatusNotFound)
			return
		}
		b := make([]byte, 1<<20)
		for {
			if _, err := w.Write(b); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ref := serverRepo(t, srv).Tag("1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, Retries: -1}).Manifest(ctx, ref)
	if !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("error %v, want the registry's not found", err)
	}
}
