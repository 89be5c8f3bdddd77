package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTokenAnswerNotQuoted: a token service whose answer holds no "token"
// (nor "access_token") but other secrets, a refresh token or a token
// under another name, fails the pull without the answer in the error,
// whether at the handshake or when a token that expired is renewed:
// go-containerregistry's "no token in bearer response" quoted it whole,
// and the error line went to the terminal and CI logs.
func TestTokenAnswerNotQuoted(t *testing.T) {
	for _, renewal := range []bool{false, true} {
		t.Run(fmt.Sprintf("renewal=%v", renewal), func(t *testing.T) {
			var answers atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					if renewal && answers.Add(1) == 1 {
						fmt.Fprint(w, `{"token":"first"}`)
						return
					}
					fmt.Fprint(w, `{"refresh_token":"R3fresh-s3cret","id_token":"eyJ-1d-s3cret","expires_in":300}`)
					return
				}
				// /v2/ takes the first token; the manifest finds it expired.
				if r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "Bearer first" {
					return
				}
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host))
				writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			}))
			defer srv.Close()
			auth, _ := ParseCreds("alice:pw")
			_, err := fastClient(Options{Insecure: true, Auth: auth, Retries: -1}).Manifest(context.Background(), serverRepo(t, srv).Tag("1"))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error quotes the token service's answer: %v", err)
			}
			if !strings.Contains(err.Error(), "the token service's answer holds no token") {
				t.Fatalf("error %v, want it to say the answer holds no token", err)
			}
			if renewal && answers.Load() < 2 {
				t.Fatalf("the token was not renewed: %v", err)
			}
		})
	}
}
