package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/cli"
)

// holdBlob serves the blob at path halfway, then holds it until release
// is closed; every other request passes.
func holdBlob(path string, release <-chan struct{}, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != path {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		<-release
		w.Write(body[len(body)/2:])
	})
}

// spoolsOpen waits until this process holds a file of dir open (a spool
// being written, as /proc/self/fd shows it) and returns what its
// descriptors name there; the test fails after a minute without one.
func spoolsOpen(t *testing.T, dir string) []string {
	t.Helper()
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(5 * time.Millisecond) {
		fds, _ := os.ReadDir("/proc/self/fd")
		var open []string
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir+"/") {
				open = append(open, target)
			}
		}
		if open != nil {
			return open
		}
	}
	t.Fatal("no spool was opened in $TMPDIR")
	return nil
}

// TestKilledPullLeavesNoSpool: what a pull spools in $TMPDIR has no name
// there while the pull runs, so a pull killed by a signal it cannot catch
// (SIGKILL: the OOM killer, a workflow ending a step that does not stop)
// leaves nothing behind: named spools left every layer downloaded so far
// for good, up to the whole image uncompressed, and each killed pull
// added its own. Checked at the moment a kill would come: layers 1 and 2
// (the largest, fetched first, with --jobs 1) verified and waiting for
// layer 0, which is half downloaded (a spool open); and a --blob half
// downloaded.
func TestKilledPullLeavesNoSpool(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var reg http.Handler
	var handler atomic.Pointer[http.Handler] // switched between the cases
	f := newFixtureVia(t, func(r http.Handler) http.Handler {
		reg = r
		handler.Store(&reg)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) })
	})
	var layers []v1.Descriptor
	var diffIDs []v1.Hash
	for i, size := range []int{1000, 50000, 40000} {
		tr := layerTar(t, strings.Repeat(fmt.Sprint(i), size))
		layers = append(layers, f.blob(tr, types.OCIUncompressedLayer))
		diffIDs = append(diffIDs, sha(tr))
	}
	for _, c := range []struct {
		name string
		cmd  command
		hold v1.Descriptor
	}{
		{"image", command{Ref: f.image(layers, diffIDs), OS: "linux", Arch: "amd64", TLSVerify: true, Jobs: 1, Output: "-", MaxExpanded: 64 << 30}, layers[0]},
		{"blob", command{Ref: f.repo.Digest(layers[1].Digest.String()).String(), TLSVerify: true, Blob: true, Jobs: 1, Output: "-", MaxExpanded: 64 << 30}, layers[1]},
	} {
		t.Run(c.name, func(t *testing.T) {
			release := make(chan struct{})
			held := holdBlob("/v2/test/img/blobs/"+c.hold.Digest.String(), release, reg)
			handler.Store(&held)
			done := make(chan error, 1)
			go func() { done <- validateAndRun(&c.cmd, &cli.IO{Stdout: io.Discard, Stderr: io.Discard}) }()
			open := spoolsOpen(t, tmp)
			left, lerr := os.ReadDir(tmp)
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if lerr != nil {
				t.Fatal(lerr)
			}
			var names []string
			for _, e := range left {
				names = append(names, e.Name())
			}
			if len(names) > 0 {
				t.Fatalf("with a spool being written (%q), $TMPDIR holds %q: a kill now would leave them", open, names)
			}
		})
	}
}
