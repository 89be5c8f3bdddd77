package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/oci"
)

// referrersRegistry is go-containerregistry's in-memory registry, with or
// without its referrers API, optionally answering a manifest PUT that has
// a subject with OCI-Subject (as registries that process the subject do;
// go-containerregistry's does not), logging every request.
type referrersRegistry struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []string
}

func newReferrersRegistry(t *testing.T, api, subjectHeader bool) *referrersRegistry {
	r := &referrersRegistry{}
	h := ggcr.New(ggcr.WithReferrersSupport(api), ggcr.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.log = append(r.log, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		if subjectHeader && req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/") {
			var body bytes.Buffer
			body.ReadFrom(req.Body)
			var m struct{ Subject *v1.Descriptor }
			if json.Unmarshal(body.Bytes(), &m) == nil && m.Subject != nil {
				w.Header().Set("OCI-Subject", string(m.Subject.Digest))
			}
			req.Body = readCloser{bytes.NewReader(body.Bytes())}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func (r *referrersRegistry) requests(method, part string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.log {
		if strings.HasPrefix(l, method+" ") && strings.Contains(l, part) {
			n++
		}
	}
	return n
}

// pushSubject puts an image manifest (its blobs do not matter to the
// referrers machinery) and returns its descriptor.
func pushSubject(t *testing.T, p *Pusher) v1.Descriptor {
	m := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	if err := p.Upload(context.Background(), nil, oci.DigestOf(oci.EmptyConfig), 2, bytes.NewReader(oci.EmptyConfig)); err != nil {
		t.Fatal(err)
	}
	if err := p.PutManifest(context.Background(), "latest", v1.MediaTypeImageManifest, m); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.Digest(oci.DigestOf(m)), Size: int64(len(m))}
}

// pushArtifact uploads doc and puts the artifact manifest referring to
// subject.
func pushArtifact(t *testing.T, p *Pusher, subject v1.Descriptor, mediaType, doc string) ([]byte, string) {
	d := v1.Descriptor{MediaType: mediaType, Digest: digest.Digest(oci.DigestOf([]byte(doc))), Size: int64(len(doc))}
	if err := p.Upload(context.Background(), nil, string(d.Digest), d.Size, strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	m := oci.ArtifactManifest(d, subject)
	via, err := p.PutReferrer(context.Background(), m, string(subject.Digest))
	if err != nil {
		t.Fatal(err)
	}
	return m, via
}

func (r *referrersRegistry) pusher(t *testing.T) *Pusher {
	repo, err := name.NewRepository(strings.TrimPrefix(r.srv.URL, "http://") + "/test/img")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Insecure: true, Retries: 1, Backoff: time.Millisecond}).Pusher(context.Background(), repo, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// getJSON fetches a registry path as the given media type.
func (r *referrersRegistry) get(t *testing.T, path, accept string) (int, []byte) {
	req, _ := http.NewRequest(http.MethodGet, r.srv.URL+path, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

func indexed(t *testing.T, index []byte) []string {
	var idx v1.Index
	if err := json.Unmarshal(index, &idx); err != nil {
		t.Fatalf("%s: %v", index, err)
	}
	var out []string
	for _, d := range idx.Manifests {
		out = append(out, string(d.Digest)+" "+d.ArtifactType)
	}
	return out
}

// TestPutReferrerAPI: a registry whose referrers API lists the artifact
// (go-containerregistry's indexes subjects itself) needs no tag: the
// artifact is at GET /v2/NAME/referrers/DIGEST and sha256-HEX stays
// unknown.
func TestPutReferrerAPI(t *testing.T) {
	r := newReferrersRegistry(t, true, false)
	p := r.pusher(t)
	subject := pushSubject(t, p)
	m, via := pushArtifact(t, p, subject, "application/vnd.cyclonedx+json", `{"bomFormat":"CycloneDX"}`)
	if via != ReferrersAPI {
		t.Fatalf("via %s", via)
	}
	// go-containerregistry 0.22 lists the config's media type as the
	// artifactType: only the digest is checked.
	code, body := r.get(t, "/v2/test/img/referrers/"+string(subject.Digest), v1.MediaTypeImageIndex)
	if got := indexed(t, body); code != 200 || len(got) != 1 || !strings.HasPrefix(got[0], oci.DigestOf(m)+" ") {
		t.Fatalf("referrers: %d %s", code, body)
	}
	if code, _ := r.get(t, "/v2/test/img/manifests/"+oci.ReferrersTag(string(subject.Digest)), v1.MediaTypeImageIndex); code != 404 {
		t.Fatalf("the referrers tag exists (%d) on a registry with the API", code)
	}
}

// TestPutReferrerSubjectHeader: a registry that answers OCI-Subject is
// not asked anything more.
func TestPutReferrerSubjectHeader(t *testing.T) {
	r := newReferrersRegistry(t, true, true)
	p := r.pusher(t)
	subject := pushSubject(t, p)
	if _, via := pushArtifact(t, p, subject, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`); via != ReferrersAPI {
		t.Fatalf("via %s", via)
	}
	if n := r.requests("GET", "/referrers/"); n != 0 {
		t.Fatalf("%d referrers requests after OCI-Subject", n)
	}
}

// TestPutReferrerTagSchema: without the API the artifacts are listed in
// the index under sha256-HEX: the first creates it, a second is appended,
// the same one again is not listed twice.
func TestPutReferrerTagSchema(t *testing.T) {
	r := newReferrersRegistry(t, false, false)
	p := r.pusher(t)
	subject := pushSubject(t, p)
	cdx, via := pushArtifact(t, p, subject, "application/vnd.cyclonedx+json", `{"bomFormat":"CycloneDX"}`)
	if via != ReferrersTag {
		t.Fatalf("via %s", via)
	}
	spdx, _ := pushArtifact(t, p, subject, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	pushArtifact(t, p, subject, "application/vnd.cyclonedx+json", `{"bomFormat":"CycloneDX"}`)
	code, body := r.get(t, "/v2/test/img/manifests/"+oci.ReferrersTag(string(subject.Digest)), v1.MediaTypeImageIndex)
	want := []string{oci.DigestOf(cdx) + " application/vnd.cyclonedx+json", oci.DigestOf(spdx) + " application/spdx+json"}
	if got := indexed(t, body); code != 200 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tag index %d:\n%s\nwant\n%s", code, body, strings.Join(want, "\n"))
	}
}
