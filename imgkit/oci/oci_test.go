package oci

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/iotest"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
)

// sample is 4 MiB of half-compressible bytes: random runs and repeats.
func sample() []byte {
	rng := rand.New(rand.NewChaCha8([32]byte{'o', 'c', 'i'}))
	var b bytes.Buffer
	for b.Len() < 4<<20 {
		run := make([]byte, 1+rng.IntN(4096))
		for i := range run {
			run[i] = byte(rng.IntN(16))
		}
		b.Write(run)
		b.Write(bytes.Repeat([]byte("nix/store "), rng.IntN(64)))
	}
	return b.Bytes()
}

// TestRecipesArePinned fails when the compressed bytes of a recipe change
// (a klauspost/compress update, a writer option): bump the recipe's number
// in Recipe, then update the digests here.
func TestRecipesArePinned(t *testing.T) {
	data := sample()
	for _, c := range []struct {
		kind   compress.Kind
		recipe string
		digest string
	}{
		{compress.None, "none", "sha256:5348193e5906261ed3d04da8022fc64aeb592fd83888fed9458724c103e53443"},
		{compress.Gzip, "gzip.1", "sha256:c985e4fb61bd0e27a1d36f831265e7d221b0900be129133c9db49bf335b641ca"},
		{compress.Zstd, "zstd.1", "sha256:372d9f6b8d9ae6c101292a2e693e91630a2bae2e874a94a5a3553fa550be2482"},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			if r := Recipe(c.kind); r != c.recipe {
				t.Fatalf("Recipe = %q, want %q", r, c.recipe)
			}
			var out bytes.Buffer
			l, err := WriteBlob(&out, bytes.NewReader(data), c.kind)
			if err != nil {
				t.Fatal(err)
			}
			if l.Blob.Digest != c.digest {
				t.Errorf("digest %s, pinned %s", l.Blob.Digest, c.digest)
			}
			if l.DiffID != DigestOf(data) || l.Size != int64(len(data)) || l.Blob.Size != int64(out.Len()) || l.Blob.Digest != DigestOf(out.Bytes()) {
				t.Errorf("layer %+v for %d bytes stored as %d", l, len(data), out.Len())
			}
			if l.Blob.MediaType != LayerMediaType(c.kind) {
				t.Errorf("media type %q", l.Blob.MediaType)
			}
			back, kind, err := compress.NewReader(&out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(back)
			if err != nil || !bytes.Equal(got, data) || kind != c.kind {
				t.Fatalf("round trip: %v, %s, equal %v", err, kind, bytes.Equal(got, data))
			}
		})
	}
}

// TestWriteBlobIgnoresReadSizes: the stored bytes depend on the layer
// only, not on how it arrives.
func TestWriteBlobIgnoresReadSizes(t *testing.T) {
	data := sample()[:1<<20]
	for _, kind := range []compress.Kind{compress.Gzip, compress.Zstd} {
		whole, err := WriteBlob(io.Discard, bytes.NewReader(data), kind)
		if err != nil {
			t.Fatal(err)
		}
		bytewise, err := WriteBlob(io.Discard, iotest.OneByteReader(bytes.NewReader(data)), kind)
		if err != nil {
			t.Fatal(err)
		}
		if whole != bytewise {
			t.Errorf("%s: %+v read whole, %+v read a byte at a time", kind, whole, bytewise)
		}
	}
}

func TestMediaTypes(t *testing.T) {
	for _, kind := range []compress.Kind{compress.None, compress.Gzip, compress.Zstd} {
		if k, ok := LayerKind(LayerMediaType(kind)); !ok || k != kind {
			t.Errorf("%s: LayerKind(LayerMediaType) = %s %v", kind, k, ok)
		}
	}
	for _, mt := range []string{DockerLayerGzip, DockerLayer, DockerLayerZstd} {
		if _, ok := LayerKind(mt); !ok {
			t.Errorf("%s not a layer", mt)
		}
	}
	if _, ok := LayerKind("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"); ok {
		t.Error("a foreign layer taken for a layer")
	}
}

func TestManifestAndIndexJSON(t *testing.T) {
	config := []byte(`{"a":1}`)
	m := Manifest(config, []layerstream.Blob{{MediaType: LayerMediaType(compress.Gzip), Digest: "sha256:" + string(bytes.Repeat([]byte("1"), 64)), Size: 5}})
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862","size":7},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":5}]}`
	if string(m) != want {
		t.Errorf("manifest\n%s\nwant\n%s", m, want)
	}
	idx := Index(m, "docker.io/library/app:v1", "v1")
	wantIdx := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + DigestOf(m) + `","size":` + strconv.Itoa(len(m)) + `,"annotations":{"io.containerd.image.name":"docker.io/library/app:v1","org.opencontainers.image.ref.name":"v1"}}]}`
	if string(idx) != wantIdx {
		t.Errorf("index\n%s\nwant\n%s", idx, wantIdx)
	}
}
