package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"dockertools.dev/imgkit/errdefs"
)

// uploadFaults is what the fake upload server does wrong.
type uploadFaults struct {
	cutAt       int64  // once: keep the session's first cutAt bytes of a PATCH, then cut the connection
	loseSession bool   // after the cut, the session is gone (GET and PATCH: 404)
	zeroRange   bool   // GET reports "0-0" whatever the session holds
	patchStatus []int  // statuses answered to PATCHes first (the body is not kept)
	putStatus   []int  // statuses answered to the manifest PUT first
	putDigest   string // the Docker-Content-Digest answered to a manifest PUT
	headSize    string // the Content-Length a blob HEAD answers ("none": no header); default the blob's
}

// fakeUploads is a registry with blob uploads for repository "test/img".
type fakeUploads struct {
	t   *testing.T
	srv *httptest.Server
	f   uploadFaults

	mu       sync.Mutex
	blobs    map[string][]byte
	sessions map[string][]byte
	next     int
	received int64 // PATCH body bytes kept, all sessions
	mounts   map[string]string
	manifest []byte
	log      []string
}

func newFakeUploads(t *testing.T, f uploadFaults) *fakeUploads {
	u := &fakeUploads{t: t, f: f, blobs: map[string][]byte{}, sessions: map[string][]byte{}, mounts: map[string]string{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fakeUploads) pusher(t *testing.T, chunk int64) *Pusher {
	repo, err := name.NewRepository(strings.TrimPrefix(u.srv.URL, "http://") + "/test/img")
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Insecure: true, Retries: 3, Backoff: time.Millisecond})
	p, err := c.Pusher(context.Background(), repo, PushOptions{Chunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func (u *fakeUploads) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.log = append(u.log, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Range"))
	const up = "/v2/test/img/blobs/uploads/"
	switch {
	case r.URL.Path == "/v2/":
	case r.Method == http.MethodHead && strings.HasPrefix(r.URL.Path, "/v2/test/img/blobs/"):
		data, ok := u.blobs[strings.TrimPrefix(r.URL.Path, "/v2/test/img/blobs/")]
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
		case u.f.headSize != "":
			if u.f.headSize != "none" {
				w.Header().Set("Content-Length", u.f.headSize)
			}
		default: // as distribution answers
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		}
	case r.Method == http.MethodPost && r.URL.Path == up:
		if d := r.URL.Query().Get("mount"); d != "" && r.URL.Query().Get("from") == "other/img" {
			if _, ok := u.mounts[d]; ok {
				u.blobs[d] = []byte(u.mounts[d])
				w.WriteHeader(http.StatusCreated)
				return
			}
		}
		u.next++
		id := strconv.Itoa(u.next)
		u.sessions[id] = []byte{}
		w.Header().Set("Location", up+id+"?_state=s"+id)
		w.WriteHeader(http.StatusAccepted)
	case strings.HasPrefix(r.URL.Path, up):
		u.session(w, r, strings.TrimPrefix(r.URL.Path, up))
	case r.Method == http.MethodPut && r.URL.Path == "/v2/test/img/manifests/v1":
		if len(u.f.putStatus) > 0 {
			w.WriteHeader(u.f.putStatus[0])
			u.f.putStatus = u.f.putStatus[1:]
			return
		}
		u.manifest, _ = io.ReadAll(r.Body)
		if u.f.putDigest != "" {
			w.Header().Set("Docker-Content-Digest", u.f.putDigest)
		}
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (u *fakeUploads) session(w http.ResponseWriter, r *http.Request, id string) {
	data, ok := u.sessions[id]
	if !ok {
		writeError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown")
		return
	}
	rangeHeader := func(n int) string {
		if n == 0 || u.f.zeroRange {
			return "0-0"
		}
		return fmt.Sprintf("0-%d", n-1)
	}
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Location", r.URL.Path)
		w.Header().Set("Range", rangeHeader(len(data)))
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		delete(u.sessions, id)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		if len(u.f.patchStatus) > 0 {
			w.WriteHeader(u.f.patchStatus[0])
			u.f.patchStatus = u.f.patchStatus[1:]
			return
		}
		if cr := r.Header.Get("Content-Range"); cr != "" {
			start, _, _ := strings.Cut(cr, "-")
			if s, _ := strconv.Atoi(start); s != len(data) {
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
		} else if len(data) != 0 {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if u.f.cutAt > 0 && int64(len(data)+len(body)) > u.f.cutAt {
			keep := u.f.cutAt - int64(len(data))
			u.sessions[id] = append(data, body[:keep]...)
			u.received += keep
			u.f.cutAt = 0
			if u.f.loseSession {
				delete(u.sessions, id)
			}
			panic(http.ErrAbortHandler)
		}
		u.sessions[id] = append(data, body...)
		u.received += int64(len(body))
		w.Header().Set("Location", r.URL.Path+"?_state=more")
		w.Header().Set("Range", rangeHeader(len(u.sessions[id])))
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPut:
		if d := r.URL.Query().Get("digest"); d != sha(data) {
			writeError(w, http.StatusBadRequest, "DIGEST_INVALID", "provided digest did not match uploaded content")
			return
		}
		u.blobs[sha(data)] = data
		delete(u.sessions, id)
		w.WriteHeader(http.StatusCreated)
	}
}

func TestUpload(t *testing.T) {
	blob := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for _, c := range []struct {
		name    string
		f       uploadFaults
		chunk   int64
		maxRecv int64 // bytes the registry may receive in all
	}{
		{name: "OneRequest", maxRecv: 64 << 10},
		{name: "Chunked", chunk: 10000, maxRecv: 64 << 10},
		{name: "CutResumes", f: uploadFaults{cutAt: 40000}, maxRecv: 64 << 10},
		{name: "CutChunkedResumes", f: uploadFaults{cutAt: 25000}, chunk: 10000, maxRecv: 64 << 10},
		{name: "LostSessionStartsOver", f: uploadFaults{cutAt: 40000, loseSession: true}, maxRecv: 40000 + 64<<10},
		{name: "AmbiguousRangeStartsOver", f: uploadFaults{cutAt: 40000, zeroRange: true}, maxRecv: 40000 + 64<<10},
		{name: "ServerErrorRetried", f: uploadFaults{patchStatus: []int{503, 502}}, maxRecv: 64 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newFakeUploads(t, c.f)
			p := u.pusher(t, c.chunk)
			ctx := context.Background()
			if has, _, err := p.StatBlob(ctx, sha(blob)); err != nil || has {
				t.Fatalf("StatBlob before: %v %v", has, err)
			}
			if err := p.Upload(ctx, nil, sha(blob), int64(len(blob)), bytes.NewReader(blob)); err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(u.log, "\n"))
			}
			if has, size, err := p.StatBlob(ctx, sha(blob)); err != nil || !has || size != int64(len(blob)) {
				t.Fatalf("StatBlob after: %v %d %v", has, size, err)
			}
			if u.received > c.maxRecv {
				t.Errorf("the registry received %d bytes for a %d-byte blob", u.received, len(blob))
			}
		})
	}
}

// TestStatBlobSize: StatBlob gives the size the registry says a blob has,
// and -1 when it gives none, for push-blob to compare with the size it
// would write in a manifest.
func TestStatBlobSize(t *testing.T) {
	blob := []byte("some layer")
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		headSize string
		want     int64
	}{
		{"AsStored", "", int64(len(blob))},
		{"OtherSize", "3", 3},
		{"NoLength", "none", -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newFakeUploads(t, uploadFaults{headSize: c.headSize})
			u.blobs[sha(blob)] = blob
			p := u.pusher(t, 0)
			held, size, err := p.StatBlob(ctx, sha(blob))
			if err != nil || !held || size != c.want {
				t.Fatalf("StatBlob = %v %d %v, want true %d", held, size, err, c.want)
			}
			if held, _, err := p.StatBlob(ctx, sha([]byte("absent"))); err != nil || held {
				t.Fatalf("absent blob: %v %v", held, err)
			}
		})
	}
}

func TestUploadRefused(t *testing.T) {
	blob := []byte("some layer")
	ctx := context.Background()
	t.Run("WrongDigest", func(t *testing.T) {
		p := newFakeUploads(t, uploadFaults{}).pusher(t, 0)
		err := p.Upload(ctx, nil, sha([]byte("other")), int64(len(blob)), bytes.NewReader(blob))
		if err == nil || !strings.Contains(err.Error(), "DIGEST_INVALID") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("RetriesExhausted", func(t *testing.T) {
		p := newFakeUploads(t, uploadFaults{patchStatus: []int{503, 503, 503, 503, 503}}).pusher(t, 0)
		if err := p.Upload(ctx, nil, sha(blob), int64(len(blob)), bytes.NewReader(blob)); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("Forbidden", func(t *testing.T) {
		p := newFakeUploads(t, uploadFaults{patchStatus: []int{403}}).pusher(t, 0)
		err := p.Upload(ctx, nil, sha(blob), int64(len(blob)), bytes.NewReader(blob))
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestMount(t *testing.T) {
	u := newFakeUploads(t, uploadFaults{})
	u.mounts[sha([]byte("shared"))] = "shared"
	p := u.pusher(t, 0)
	ctx := context.Background()
	mounted, s, err := p.Mount(ctx, sha([]byte("shared")), "other/img")
	if err != nil || !mounted || s != nil {
		t.Fatalf("Mount: %v %v %v", mounted, s, err)
	}
	// Not mountable: the session the registry started serves the upload.
	mounted, s, err = p.Mount(ctx, sha([]byte("new")), "other/img")
	if err != nil || mounted || s == nil {
		t.Fatalf("Mount: %v %v %v", mounted, s, err)
	}
	if err := p.Upload(ctx, s, sha([]byte("new")), 3, strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if u.next != 1 {
		t.Errorf("%d sessions started, want 1 (the mount's)", u.next)
	}
}

func TestPutManifest(t *testing.T) {
	ctx := context.Background()
	u := newFakeUploads(t, uploadFaults{putStatus: []int{503}})
	if err := u.pusher(t, 0).PutManifest(ctx, "v1", "application/vnd.oci.image.manifest.v1+json", []byte(`{"m":1}`)); err != nil {
		t.Fatal(err)
	}
	if string(u.manifest) != `{"m":1}` {
		t.Fatalf("manifest %q (a retry must send the body again)", u.manifest)
	}
	u = newFakeUploads(t, uploadFaults{putStatus: []int{400}})
	if err := u.pusher(t, 0).PutManifest(ctx, "v1", "m", []byte(`{}`)); err == nil {
		t.Fatal("a 400 accepted")
	}
}

// TestPutManifestOtherDigest: a registry answering a manifest PUT with
// another digest than the bytes' (one that rewrote the manifest) fails
// the PUT, naming both; the bytes' own digest, or none, is success.
func TestPutManifestOtherDigest(t *testing.T) {
	ctx := context.Background()
	data := []byte(`{"m":1}`)
	other := "sha256:" + strings.Repeat("ab", 32)
	u := newFakeUploads(t, uploadFaults{putDigest: other})
	err := u.pusher(t, 0).PutManifest(ctx, "v1", "application/vnd.oci.image.manifest.v1+json", data)
	if !errors.Is(err, errdefs.ErrDigestMismatch) || !strings.Contains(err.Error(), sha(data)) || !strings.Contains(err.Error(), other) {
		t.Fatalf("PUT answered with %s: %v, want a digest mismatch naming it and %s", other, err, sha(data))
	}
	for _, answer := range []string{sha(data), ""} {
		u = newFakeUploads(t, uploadFaults{putDigest: answer})
		if err := u.pusher(t, 0).PutManifest(ctx, "v1", "application/vnd.oci.image.manifest.v1+json", data); err != nil {
			t.Fatalf("PUT answered with %q: %v", answer, err)
		}
	}
}
