package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/layerstream"
)

// cmdMkstream is the script command
//
//	mkstream [-config FILE] [-diffid N=sha256:HEX]... OUT LAYER...
//
// It writes a layer stream (docs/formats.md §3) of the LAYER files, each
// given as FILE, FILE@PATH,PATH… (the layer's store paths) or FILE#COMMENT
// (its history comment). -config adds a verbatim config member; -diffid
// puts another diff_id for layer N in the trailer (a forged stream, to test
// what trusts it).
func cmdMkstream(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("mkstream", flag.ContinueOnError)
	config := fs.String("config", "", "")
	forged := map[int]string{}
	fs.Func("diffid", "", func(s string) error {
		n, d, _ := strings.Cut(s, "=")
		i, err := strconv.Atoi(n)
		forged[i] = d
		return err
	})
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 {
		ts.Fatalf("usage: mkstream [-config FILE] [-diffid N=DIGEST]... OUT LAYER...")
	}
	out, err := os.Create(ts.MkAbs(fs.Arg(0)))
	ts.Check(err)
	defer func() { ts.Check(out.Close()) }()
	tw := tar.NewWriter(out)
	member := func(name string, data []byte) {
		ts.Check(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, Format: tar.FormatUSTAR}))
		_, err := tw.Write(data)
		ts.Check(err)
	}
	trailer := layerstream.Trailer{Version: layerstream.Version, Layers: []layerstream.LayerInfo{}}
	for i, spec := range fs.Args()[1:] {
		var info layerstream.LayerInfo
		file, comment, hasComment := strings.Cut(spec, "#")
		file, paths, hasPaths := strings.Cut(file, "@")
		if hasComment {
			info.Comment = comment
		}
		if hasPaths {
			info.Paths = strings.Split(paths, ",")
		}
		data, err := os.ReadFile(ts.MkAbs(file))
		ts.Check(err)
		sum := sha256.Sum256(data)
		info.DiffID, info.Size = "sha256:"+hex.EncodeToString(sum[:]), int64(len(data))
		if d, ok := forged[i]; ok {
			info.DiffID = d
		}
		member(layerstream.MemberName(i), data)
		trailer.Layers = append(trailer.Layers, info)
	}
	if *config != "" {
		data, err := os.ReadFile(ts.MkAbs(*config))
		ts.Check(err)
		member(layerstream.ConfigMember, data)
	}
	data, err := json.Marshal(trailer)
	ts.Check(err)
	member(layerstream.TrailerMember, data)
	ts.Check(tw.Close())
}
