package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
)

// TestHugeFirstLayerIsAStream: a layer stream whose first layer is 8 GiB
// or more (a PAX header, 1 KiB, comes before the member's own) is taken as
// a layer stream, from a file or a pipe. (The first KiB was all that was
// looked at: such a stream from manifest-gen --format stream was read as
// an image archive and refused, "no manifest.json (docker-archive) or
// index.json (OCI layout)".)
func TestHugeFirstLayerIsAStream(t *testing.T) {
	var buf bytes.Buffer
	lw, err := layerstream.NewWriter(&buf).BeginLayer(9 << 30)
	if err != nil {
		t.Fatal(err)
	}
	// The head only: the 9 GiB are not written, and nothing here reads
	// past the first member's header.
	if _, err := lw.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "stream")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file string
		stdin      bool
	}{
		{"File", file, false},
		{"Pipe", "-", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := &cli.IO{}
			if c.stdin {
				o.Stdin = bytes.NewReader(buf.Bytes())
			}
			imgs, _, err := openImage(o, c.file, "")
			if err != nil {
				t.Fatalf("not taken as a layer stream: %v", err)
			}
			defer imgs[0].close()
			if len(imgs) != 1 || imgs[0].randomAccess {
				t.Errorf("%d images, random access %v: want one layer stream", len(imgs), imgs[0].randomAccess)
			}
		})
	}
}
