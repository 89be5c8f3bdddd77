package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// cmdMkref is the script command
//
//	mkref IN OUT N...
//
// It copies the layer stream IN to OUT with each layer N turned into a
// reference (as layer-pack --reuse writes one): no bytes, its diff_id and
// size, and a made-up gzip blob.
func cmdMkref(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: mkref IN OUT N...")
	}
	refs := map[int]bool{}
	for _, a := range args[2:] {
		n, err := strconv.Atoi(a)
		ts.Check(err)
		refs[n] = true
	}
	in, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer in.Close()
	out, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	defer func() { ts.Check(out.Close()) }()
	r := layerstream.NewReader(in, layerstream.Options{})
	w := layerstream.NewWriter(out)
	var layers []*layerstream.Layer
	var data [][]byte
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		ts.Check(err)
		b, err := io.ReadAll(l)
		ts.Check(err)
		layers, data = append(layers, l), append(data, b)
	}
	for i, info := range r.Trailer().Layers {
		if refs[i] {
			blob := layerstream.Blob{MediaType: oci.LayerMediaType("gzip"), Digest: "sha256:" + strings.Repeat("e", 64), Size: 123}
			_, err = w.WriteRef(layerstream.Ref{DiffID: info.DiffID, Size: info.Size, Blobs: []layerstream.Blob{blob}}, info)
		} else {
			_, err = w.WriteLayer(layers[i].Size, info, bytes.NewReader(data[i]))
		}
		ts.Check(err)
	}
	if c := r.Config(); c != nil {
		ts.Check(w.Config(c))
	}
	ts.Check(w.Close())
}
