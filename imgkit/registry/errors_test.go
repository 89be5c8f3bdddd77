package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
			ref := serverRepo(t, srv).Tag("1")
			_, err := fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, Retries: -1}).Manifest(context.Background(), ref)
			checkPrintable(t, err)
		})
	}
}

// checkPrintable fails t unless err is an error of one short printable
// line.
func checkPrintable(t *testing.T, err error) {
	t.Helper()
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
}

// TestRegistryFieldsInErrorsAreCut: what a registry puts in a manifest's
// mediaType, a Content-Range or an upload's Location, and the error
// repeats, is cut: 100 KB of it made a line of 100 KB.
func TestRegistryFieldsInErrorsAreCut(t *testing.T) {
	long := strings.Repeat("z", 100000)
	blob := testBlob(1000)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		do   func(c *Client, repo name.Repository) error
	}{
		{"MediaType", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"schemaVersion":2,"mediaType":"%s"}`, long)
		}, func(c *Client, repo name.Repository) error {
			_, err := c.Manifest(ctx, repo.Tag("1"))
			return err
		}},
		{"ContentRange", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") == "" { // cut after 10 bytes
				w.Header().Set("Content-Length", fmt.Sprint(len(blob)))
				w.Write(blob[:10])
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			}
			w.Header().Set("Content-Range", "bytes "+long)
			w.WriteHeader(http.StatusPartialContent)
		}, func(c *Client, repo name.Repository) error {
			br, err := c.Blob(ctx, repo, digestOf(blob), int64(len(blob)))
			if err == nil {
				_, err = io.ReadAll(br)
			}
			return err
		}},
		{"Location", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/%zz"+long)
			w.WriteHeader(http.StatusAccepted)
		}, func(c *Client, repo name.Repository) error {
			p, err := c.Pusher(ctx, repo, PushOptions{})
			if err != nil {
				return err
			}
			return p.Upload(ctx, nil, digestOf(blob).String(), int64(len(blob)), bytes.NewReader(blob))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v2/" {
					tc.h(w, r)
				}
			}))
			defer srv.Close()
			repo := serverRepo(t, srv)
			checkPrintable(t, tc.do(fastClient(Options{Insecure: true, Keychain: emptyKeychain{}, Retries: 1}), repo))
		})
	}
}
