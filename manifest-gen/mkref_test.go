package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// cmdMkref is the script command
//
//	mkref IN OUT N[,N...] [HOLDINGS]
//
// It copies the layer stream IN to OUT with each layer N turned into a
// reference (as layer-pack --reuse writes one): no bytes, its diff_id and
// size, and a made-up gzip blob, or the blobs the holdings list HOLDINGS
// gives for its diff_id.
func cmdMkref(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 && len(args) != 4 {
		ts.Fatalf("usage: mkref IN OUT N[,N...] [HOLDINGS]")
	}
	refs := map[int]bool{}
	for _, a := range strings.Split(args[2], ",") {
		n, err := strconv.Atoi(a)
		ts.Check(err)
		refs[n] = true
	}
	var held layercache.Holdings
	if len(args) == 4 {
		f, err := os.Open(ts.MkAbs(args[3]))
		ts.Check(err)
		held, err = layercache.ReadHoldings(f)
		f.Close()
		ts.Check(err)
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
			blobs := []layerstream.Blob{{MediaType: oci.LayerMediaType("gzip"), Digest: "sha256:" + strings.Repeat("e", 64), Size: 123}}
			if held != nil {
				blobs = held[info.DiffID]
			}
			_, err = w.WriteRef(layerstream.Ref{DiffID: info.DiffID, Size: info.Size, Blobs: blobs}, info)
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
