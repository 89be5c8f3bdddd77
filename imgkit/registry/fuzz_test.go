package registry

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// multiPlatform is an index of several platforms, an attestation and a
// nested index, as registries serve them.
const multiPlatform = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"architecture":"amd64","os":"linux"}},
{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":2,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:3333333333333333333333333333333333333333333333333333333333333333","size":3,"platform":{"architecture":"unknown","os":"unknown"}},
{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","size":4}]}`

// ociDocuments returns the index.json and blobs (manifests, configs) of
// OCI layouts of the fixtures' layers.
func ociDocuments(f *testing.F) [][]byte {
	var out [][]byte
	for i, fx := range testkit.FixtureTars(f) {
		if i%8 != 0 {
			continue // a few layouts give every shape of document
		}
		name := testkit.ImageOf(f, [][]byte{fx.Data}, testkit.ImageOptions{OCI: true, Tags: []string{"app:1"}})
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		tr := tar.NewReader(bytes.NewReader(data))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(tr)
			if json.Valid(b) && filepath.Base(h.Name) != "oci-layout" {
				out = append(out, b)
			}
		}
	}
	return out
}

// FuzzManifest: a manifest body (with the Content-Type a registry sent)
// is typed as an image manifest or a list, never as schema 1, and as the
// mediaType it names when it names one we read; otherwise it is refused
// with one line, invalid or unsupported. A list ChooseImage resolves (its
// nested lists fetched from the second input) gives an image manifest
// entry of the list or of a nested one, for the platform asked; one it
// cannot resolve gives one line that is not found, unsupported, or the
// fetch's error.
func FuzzManifest(f *testing.F) {
	docs := append(ociDocuments(f), []byte(multiPlatform))
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		docs = append(docs, fx.Data)
	}
	for i, d := range docs {
		f.Add(d, "", docs[(i+1)%len(docs)])
	}
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`), "application/vnd.docker.distribution.manifest.list.v2+json", []byte(multiPlatform))
	f.Add([]byte(`{"schemaVersion":1,"fsLayers":[]}`), "application/vnd.docker.distribution.manifest.v1+prettyjws", []byte(nil))
	errNested := errors.New("no such nested list")
	f.Fuzz(func(t *testing.T, raw []byte, contentType string, nested []byte) {
		mt, err := mediaType(raw, contentType)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput, ErrUnsupported)
			return
		}
		if !isIndex(string(mt)) && !isImageManifest(string(mt)) {
			t.Fatalf("typed as %q", mt)
		}
		var probe struct {
			MediaType string `json:"mediaType"`
		}
		json.Unmarshal(raw, &probe)
		if (isIndex(probe.MediaType) || isImageManifest(probe.MediaType)) && string(mt) != probe.MediaType {
			t.Fatalf("a body of mediaType %q typed as %q", probe.MediaType, mt)
		}
		if !isIndex(string(mt)) {
			v1.ParseManifest(bytes.NewReader(raw))
			return
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return
		}
		lists := []*v1.IndexManifest{idx}
		fetch := func(v1.Descriptor) (*v1.IndexManifest, error) {
			n, err := v1.ParseIndexManifest(bytes.NewReader(nested))
			if err != nil {
				return nil, errNested
			}
			lists = append(lists, n)
			return n, nil
		}
		wants := []v1.Platform{HostPlatform(), {OS: "linux", Architecture: "arm64", Variant: "v8"}}
		for _, d := range idx.Manifests {
			if d.Platform != nil {
				wants = append(wants, *d.Platform)
			}
		}
		for _, want := range wants[:min(len(wants), 8)] {
			d, err := ChooseImage(idx, want, fetch)
			if err != nil {
				if !errors.Is(err, errNested) {
					testkit.CheckError(t, err, errdefs.ErrNotFound, ErrUnsupported)
				}
				continue
			}
			if !isImageManifest(string(d.MediaType)) || !servesItself(d.Platform, want) || !listed(lists, d) {
				t.Fatalf("for %s ChooseImage gives %+v", want.String(), d)
			}
		}
	})
}

// servesItself reports whether want takes an image for have.
func servesItself(have *v1.Platform, want v1.Platform) bool {
	_, ok := serves(have, want)
	return ok
}

// listed reports whether d is an entry of one of the lists.
func listed(lists []*v1.IndexManifest, d v1.Descriptor) bool {
	for _, l := range lists {
		for _, e := range l.Manifests {
			if reflect.DeepEqual(e, d) {
				return true
			}
		}
	}
	return false
}
