package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestHandshakeInterrupted: a handshake cancelled while the plain HTTP
// attempt waits for a slow registry (after the HTTPS attempt failed) is
// reported as cancelled, so the tool says "interrupted", not the HTTPS
// attempt's "server gave HTTP response to HTTPS client".
func TestHandshakeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the client gives up while the registry is slow
		<-r.Context().Done()
	}))
	defer srv.Close()
	ref := serverRepo(t, srv).Tag("1")
	_, err := fastClient(Options{Insecure: true}).Manifest(ctx, ref)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
