package testkit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The proxy forwards requests, keeps the Host header, logs one line per
// request, and cuts the first long blob download once, calling OnCut.
func TestProxyCutsOnce(t *testing.T) {
	blob := strings.Repeat("x", 10000)
	var hosts []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		io.WriteString(w, blob)
	}))
	defer upstream.Close()
	var cuts atomic.Int32
	logFile := filepath.Join(t.TempDir(), "proxy.log")
	p, err := StartProxy(strings.TrimPrefix(upstream.URL, "http://"), logFile, ProxyOptions{CutAfter: 4000, OnCut: func() { cuts.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	get := func(path string) (int, error) {
		resp, err := http.Get("http://" + p.Addr + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return len(b), err
	}
	if n, err := get("/v2/"); err != nil || n != len(blob) {
		t.Fatalf("/v2/: %d bytes, %v", n, err)
	}
	if n, err := get("/v2/r/blobs/sha256:00"); err == nil || n > 4000 {
		t.Fatalf("the first blob download was not cut: %d bytes, %v", n, err)
	}
	if n, err := get("/v2/r/blobs/sha256:00"); err != nil || n != len(blob) {
		t.Fatalf("the second blob download: %d bytes, %v", n, err)
	}
	if cuts.Load() != 1 {
		t.Errorf("OnCut ran %d times", cuts.Load())
	}
	for _, h := range hosts {
		if h != p.Addr {
			t.Errorf("upstream saw Host %q, want the proxy's %q", h, p.Addr)
		}
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "GET /v2/ range=- status=200 bytes=10000\n" +
		"GET /v2/r/blobs/sha256:00 range=- status=200 bytes=4000 cut\n" +
		"GET /v2/r/blobs/sha256:00 range=- status=200 bytes=10000\n"
	if string(log) != want {
		t.Errorf("log:\n%s\nwant:\n%s", log, want)
	}
}
