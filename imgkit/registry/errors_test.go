package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestRegistryTextInErrorsIsPrintable: what a hostile registry or token
// server says and the tool repeats in its error (an error body, a token
// answer without a token, a URL it redirects to) can neither split the
// error line, rewrite it on a terminal (carriage return, escape sequences)
// nor make it kilobytes long.
func TestRegistryTextInErrorsIsPrintable(t *testing.T) {
	long := strings.Repeat("z", 50000)
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"ErrorBody", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"errors":[{"code":"MANIFEST_UNKNOWN\u001b[2J","message":"gone\rpull-blob: all is well\u001b[8m%s"}]}`, long)
		}},
		{"TokenAnswerWithoutToken", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				fmt.Fprintf(w, "{\"no\":\"token\",\n\"x\":\"\\u001b[2J\\r%s\"}", long[:60000/2])
				return
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		}},
		{"RedirectedToLongURL", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			http.Redirect(w, r, "/"+long[:4000]+r.URL.Path, http.StatusFound)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://")+"/test/img:1", name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, Retries: -1}).Manifest(context.Background(), ref)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
				t.Errorf("the error holds control character %q: %q", msg[i], msg)
			}
			if len(msg) > 2048 {
				t.Errorf("the error is %d bytes long: %.300q…", len(msg), msg)
			}
		})
	}
}
