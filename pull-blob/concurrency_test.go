package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/cli"
)

// gate holds every layer download until want of them are in flight at
// once: a pull that fetched layers one at a time would wait at the gate
// until the failsafe (30s after the first arrival) opens it for good, and
// be seen doing so.
type gate struct {
	layers map[string]bool // blob paths of the layers
	want   int
	timer  *time.Timer

	mu       sync.Mutex
	inFlight int
	most     int
	open     chan struct{}
	once     sync.Once
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !g.layers[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		openGate := func() { g.once.Do(func() { close(g.open) }) }
		g.mu.Lock()
		if g.timer == nil {
			g.timer = time.AfterFunc(30*time.Second, openGate) // the test fails below, it does not hang
		}
		g.inFlight++
		g.most = max(g.most, g.inFlight)
		if g.inFlight >= g.want {
			openGate()
		}
		g.mu.Unlock()
		<-g.open
		next.ServeHTTP(w, r)
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	})
}

// TestLayersDownloadConcurrently: with --jobs 3, three layers are being
// downloaded at the same moment (issue 6: layers download concurrently).
func TestLayersDownloadConcurrently(t *testing.T) {
	g := &gate{layers: map[string]bool{}, want: 3, open: make(chan struct{})}
	srv := httptest.NewServer(g.wrap(ggcr.New(ggcr.Logger(nopLogger()))))
	t.Cleanup(srv.Close)
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/test/img")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, repo: repo}
	var layers []v1.Descriptor
	var diffIDs []v1.Hash
	for i := range 6 {
		tr := layerTar(t, fmt.Sprintf("layer %d", i))
		d := f.blob(gzipped(tr), types.OCILayer)
		g.layers["/v2/test/img/blobs/"+d.Digest.String()] = true
		layers = append(layers, d)
		diffIDs = append(diffIDs, sha(tr))
	}
	ref := f.image(layers, diffIDs)

	var stdout, stderr bytes.Buffer
	c := &command{Ref: ref, OS: "linux", Arch: "amd64", TLSVerify: true, Jobs: 3, Output: "-", MaxExpanded: 64 << 30}
	start := time.Now()
	if err := validateAndRun(c, &cli.IO{Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.timer != nil {
		g.timer.Stop()
	}
	if g.most < 3 {
		t.Fatalf("at most %d layer downloads at once (after %v at the gate), want 3", g.most, time.Since(start).Round(time.Second))
	}
	if !bytes.Contains(stdout.Bytes(), []byte("stream.json")) {
		t.Fatal("the stream has no trailer")
	}
}
