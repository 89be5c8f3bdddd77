package registry

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/errdefs"
)

func TestManifest(t *testing.T) {
	const (
		image  = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`
		bare   = `{"schemaVersion":2,"config":{},"layers":[]}`
		index  = `{"schemaVersion":2,"manifests":[]}`
		docker = `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{},"layers":[]}`
		v1     = `{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}`
	)
	for _, tc := range []struct {
		name, body, contentType string
		byTag                   bool
		tamper                  bool // serve other bytes under the digest
		want                    types.MediaType
		wantErr                 error
	}{
		{name: "OCIImage", body: image, want: types.OCIManifestSchema1},
		{name: "DockerImageByTag", body: docker, byTag: true, want: types.DockerManifestSchema2},
		{name: "IndexFromContentType", body: index, contentType: string(types.DockerManifestList), want: types.DockerManifestList},
		{name: "IndexFromShape", body: index, want: types.OCIImageIndex},
		{name: "ImageFromShape", body: bare, contentType: "application/json", want: types.OCIManifestSchema1},
		{name: "Schema1Refused", body: v1, contentType: "application/vnd.docker.distribution.manifest.v1+prettyjws", wantErr: ErrUnsupported},
		{name: "Schema1WithoutType", body: v1, byTag: true, wantErr: ErrUnsupported},
		{name: "OtherArtifact", body: `{"schemaVersion":2,"mediaType":"application/vnd.example+json"}`, wantErr: ErrUnsupported},
		{name: "NotJSON", body: "<html>", wantErr: errdefs.ErrInvalidInput},
		{name: "Tampered", body: image, tamper: true, wantErr: errdefs.ErrDigestMismatch},
		{name: "Unknown", body: "", wantErr: errdefs.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegistry(t)
			var ref name.Reference
			d := digestOf([]byte(tc.body))
			if tc.body != "" {
				d = reg.addManifest("v1", []byte(tc.body), tc.contentType)
			}
			if tc.tamper {
				reg.manifests[d.String()] = fakeManifest{body: []byte(tc.body + " "), contentType: tc.contentType}
			}
			if tc.byTag {
				ref = reg.repo().Tag("v1")
			} else {
				ref = reg.repo().Digest(d.String())
			}
			m, err := fastClient(Options{Keychain: emptyKeychain{}}).Manifest(context.Background(), ref)
			if !checkError(t, err, tc.wantErr) {
				return
			}
			if m.MediaType != tc.want || m.Digest != d || string(m.Raw) != tc.body {
				t.Fatalf("got %s %s, want %s %s", m.MediaType, m.Digest, tc.want, d)
			}
		})
	}
}

func TestContentRange(t *testing.T) {
	for _, tc := range []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */200", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes x-1/2", 0, 0, false},
		{"", 0, 0, false},
	} {
		start, total, ok := contentRange(tc.in)
		if ok != tc.ok || ok && (start != tc.start || total != tc.total) {
			t.Errorf("%q: got %d %d %v", tc.in, start, total, ok)
		}
	}
}
