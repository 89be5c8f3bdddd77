package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
)

// Layer describes a layer tar and one stored form of it.
type Layer struct {
	DiffID string // sha256 of the layer tar
	Size   int64  // length of the layer tar
	Blob   layerstream.Blob
}

// WriteBlob reads a layer tar from r to EOF and writes its stored form,
// compressed as kind, to w; it returns the digests and sizes of both. The
// bytes are those of compress.NewWriter: deterministic.
func WriteBlob(w io.Writer, r io.Reader, kind compress.Kind) (Layer, error) {
	stored := &hashWriter{w: w}
	if kind != compress.None {
		stored.h = sha256.New() // uncompressed, the stored bytes are the layer
	}
	zw, err := compress.NewWriter(stored, kind)
	if err != nil {
		return Layer{}, err
	}
	diff := sha256.New()
	n, err := io.Copy(io.MultiWriter(zw, diff), r)
	if err != nil {
		zw.Close()
		return Layer{}, err
	}
	if err := zw.Close(); err != nil {
		return Layer{}, fmt.Errorf("compressing: %w", err)
	}
	l := Layer{DiffID: Digest(diff), Size: n, Blob: layerstream.Blob{MediaType: LayerMediaType(kind), Size: stored.n}}
	if kind == compress.None {
		l.Blob.Digest = l.DiffID
	} else {
		l.Blob.Digest = Digest(stored.h)
	}
	return l, nil
}

// Digest formats a sha256 hash as "sha256:<hex>".
func Digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// DigestOf is the "sha256:<hex>" of data.
func DigestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	if hw.h != nil {
		hw.h.Write(p[:n])
	}
	hw.n += int64(n)
	return n, err
}
