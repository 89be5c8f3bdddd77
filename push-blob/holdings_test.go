package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/oci"
)

// TestPushRefersToNoBlobOfNegativeSize: the destination tag's image
// named the layer's blob with size -1, and the registry answered the
// blob's HEAD without a Content-Length (-1 too): the sizes "agreed", and
// push-blob wrote that blob with size -1 into the manifest it pushed,
// which every client refuses, and exited 0. A blob whose size the
// registry does not give, or that a manifest gives as negative, is not
// referred to.
func TestPushRefersToNoBlobOfNegativeSize(t *testing.T) {
	reg := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w = noLength{w}
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	file := writeIndex(t, `{"os":"linux","architecture":"amd64"}`)
	diffID := oci.DigestOf(make([]byte, 1024*2)) // writeIndex's first layer

	// The tag's image: a blob of other bytes, given as that layer's
	// gzip blob of size -1.
	repo, err := name.NewRepository(host+"/app", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	other := static.NewLayer([]byte("not the layer"), types.OCILayer)
	if err := remote.WriteLayer(repo, other); err != nil {
		t.Fatal(err)
	}
	od, _ := other.Digest()
	config, _ := json.Marshal(map[string]any{"os": "linux", "architecture": "amd64", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}}})
	cl := static.NewLayer(config, types.OCIConfigJSON)
	if err := remote.WriteLayer(repo, cl); err != nil {
		t.Fatal(err)
	}
	cd, _ := cl.Digest()
	m, _ := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: cd, Size: int64(len(config))},
		Layers: []v1.Descriptor{{MediaType: types.OCILayer, Digest: od, Size: -1}}})
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/v2/app/manifests/1", bytes.NewReader(m))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", string(types.OCIManifestSchema1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("putting the tag's manifest: %s", resp.Status)
	}

	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), "push-blob", manual, &command{},
		[]string{"--dest", host + "/app:1", "--tls-verify=false", "--retries", "0", file}, &cli.IO{Stdout: &stdout, Stderr: &stderr})
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	idx, err := remote.Index(repo.Tag("1"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range pushed.Layers {
		if l.Size < 0 {
			t.Fatalf("the pushed manifest names blob %s of size %d", l.Digest, l.Size)
		}
	}
}

// noLength answers without a Content-Length.
type noLength struct{ http.ResponseWriter }

func (n noLength) WriteHeader(code int) {
	n.Header().Del("Content-Length")
	n.ResponseWriter.WriteHeader(code)
}
