package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fault is what the fake registry does to a blob request.
type fault struct {
	dropAfter   int64 // cut the connection after this many body bytes (0: never)
	dropTimes   int   // how many responses are cut (default 1 when dropAfter is set)
	ignoreRange bool  // answer 200 with the whole blob to a Range request
	badRange    bool  // answer a Range request with a range starting elsewhere
	stallAfter  int64 // stop sending (without closing) after this many bytes, once
	status      []int // statuses answered first, one per request
	corrupt     bool  // flip a byte of the body
	extra       int   // append this many bytes (Content-Length included)
}

// fakeRegistry serves /v2/ and one repository "test/img" holding blobs and
// manifests, with faults, basic auth and a request log.
type fakeRegistry struct {
	t         *testing.T
	srv       *httptest.Server
	blobs     map[string][]byte
	manifests map[string]fakeManifest // by digest and by tag
	user      string
	pass      string

	mu     sync.Mutex
	faults map[string]*fault // by digest
	log    []string
}

type fakeManifest struct {
	body        []byte
	contentType string
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{t: t, blobs: map[string][]byte{}, manifests: map[string]fakeManifest{}, faults: map[string]*fault{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func digestOf(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

func (f *fakeRegistry) addBlob(b []byte, flt *fault) v1.Hash {
	d := digestOf(b)
	f.blobs[d.String()] = b
	if flt != nil {
		if flt.dropAfter > 0 && flt.dropTimes == 0 {
			flt.dropTimes = 1
		}
		f.faults[d.String()] = flt
	}
	return d
}

func (f *fakeRegistry) addManifest(tag string, body []byte, contentType string) v1.Hash {
	d := digestOf(body)
	m := fakeManifest{body: body, contentType: contentType}
	f.manifests[d.String()] = m
	if tag != "" {
		f.manifests[tag] = m
	}
	return d
}

func (f *fakeRegistry) repo() name.Repository {
	r, err := name.NewRepository(strings.TrimPrefix(f.srv.URL, "http://") + "/test/img")
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fakeRegistry) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// writeError answers as a registry does: the status, and a body of one
// error with its code and message.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, message)
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.log = append(f.log, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+r.Header.Get("Range")))
	f.mu.Unlock()
	if f.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
	}
	switch {
	case r.URL.Path == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/v2/test/img/manifests/"):
		m, ok := f.manifests[strings.TrimPrefix(r.URL.Path, "/v2/test/img/manifests/")]
		if !ok {
			writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
			return
		}
		w.Header().Set("Content-Type", m.contentType)
		w.Write(m.body)
	case strings.HasPrefix(r.URL.Path, "/v2/test/img/blobs/"):
		f.serveBlob(w, r, strings.TrimPrefix(r.URL.Path, "/v2/test/img/blobs/"))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeRegistry) serveBlob(w http.ResponseWriter, r *http.Request, dgst string) {
	body, ok := f.blobs[dgst]
	if !ok {
		writeError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry")
		return
	}
	f.mu.Lock()
	flt := f.faults[dgst]
	if flt == nil {
		flt = &fault{}
	}
	var status int
	if len(flt.status) > 0 {
		status, flt.status = flt.status[0], flt.status[1:]
	}
	drop := flt.dropTimes > 0
	if drop {
		flt.dropTimes--
	}
	stall := flt.stallAfter
	flt.stallAfter = 0
	f.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if flt.corrupt {
		body = append([]byte(nil), body...)
		body[len(body)/2] ^= 1
	}
	body = append(body, make([]byte, flt.extra)...)
	start := int64(0)
	if rg := r.Header.Get("Range"); rg != "" && !flt.ignoreRange {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"), 10, 64)
		if err != nil {
			f.t.Errorf("bad Range header %q", rg)
		}
		start = n
		shown := start
		if flt.badRange {
			shown++
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", shown, len(body)-1, len(body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)-int(start)))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
	}
	rest := body[start:]
	switch {
	case drop && flt.dropAfter < int64(len(rest)):
		w.Write(rest[:flt.dropAfter])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cuts the connection mid-body
	case stall > 0 && stall < int64(len(rest)):
		w.Write(rest[:stall])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	w.Write(rest)
}
