package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/testkit"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// windowBomb writes an OCI layout of n zstd layers whose frames declare a
// window of 128 MiB, each a few kilobytes: 120 MiB of zeros in a file the
// next layer whites out, then a small file that survives. Reading the
// small file back decompresses the zeros, which fills the decoder's
// window; the small files of the layers interleave in the output, so
// every layer is read again at once.
func windowBomb(t *testing.T, file string, n int) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lw := archive.NewLayoutWriter(f)
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	var layers []desc
	var diffIDs []string
	for i := range n {
		var z bytes.Buffer
		zw, err := zstd.NewWriter(&z, zstd.WithWindowSize(128<<20), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		tw := tar.NewWriter(io.MultiWriter(zw, h))
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("junk%02d", i), Mode: 0o644, Size: 120 << 20})
		io.CopyN(tw, zeros{}, 120<<20)
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("keep%02d", i), Mode: 0o644, Size: 1})
		tw.Write([]byte("k"))
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf(".wh.junk%02d", i-1), Mode: 0o644})
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(h.Sum(nil)))
		d := desc{"application/vnd.oci.image.layer.v1.tar+zstd", digestOf(z.Bytes()), z.Len()}
		layers = append(layers, d)
		if err := lw.Blob(d.Digest, int64(d.Size), &z); err != nil {
			t.Fatal(err)
		}
	}
	blob := func(v any) desc {
		b, _ := json.Marshal(v)
		if err := lw.Blob(digestOf(b), int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return desc{Digest: digestOf(b), Size: len(b)}
	}
	cfg := blob(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	cfg.MediaType = "application/vnd.oci.image.config.v1+json"
	m := blob(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers})
	m.MediaType = "application/vnd.oci.image.manifest.v1+json"
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []desc{m}})
	if err := lw.File("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		t.Fatal(err)
	}
	if err := lw.File("index.json", idx); err != nil {
		t.Fatal(err)
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFlattenDecoderMemory: decoders hold what their windows declare; 32
// layers of a few kilobytes, each with a window of 128 MiB filled, held
// 4 GiB at once in pass two, which keeps a decoder per layer open, and
// 4.5 GiB in pass one on 16 cores, which scans 16 layers at once. Within
// maxDecoderMemory (1 GiB) pass two closes the least recently read and
// pass one scans fewer layers at once, and the peak stays under 3 GiB,
// however many such layers or cores there are.
func TestFlattenDecoderMemory(t *testing.T) {
	testkit.Need(t, "python3")
	if testing.Short() {
		t.Skip("SKIP: -short: decompresses 8 GiB")
	}
	img := filepath.Join(t.TempDir(), "bomb.tar")
	windowBomb(t, img, 32)
	// Pass one scans as many layers at once as there are cores: as if
	// on a machine of 16.
	t.Setenv("GOMAXPROCS", "16")
	rss := peakRSS(t, "--flatten", "-o", os.DevNull, img)
	t.Logf("peak RSS: %d KiB", rss)
	const limit = 3 << 20 // KiB
	if rss > limit {
		t.Fatalf("peak RSS %d KiB, more than %d KiB: the decoders' windows are all held at once", rss, limit)
	}
}
