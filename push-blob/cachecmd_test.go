package main

import (
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// cacheCommands are the scripts' commands for the layer cache:
//
//	cache-blob-record DIR SPECFILE
//	    writes into the layer cache DIR, through imgkit/layercache, the
//	    gzip blob record SPECFILE gives as "DIFF_ID DIGEST SIZE": a record
//	    whole and verified in its form whatever it claims, as a cache
//	    written by another program, or by hand with the checksum redone,
//	    may hold.
func cacheCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"cache-blob-record": cmdCacheBlobRecord,
	}
}

func cmdCacheBlobRecord(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cache-blob-record DIR SPECFILE")
	}
	f := strings.Fields(ts.ReadFile(args[1]))
	if len(f) != 3 {
		ts.Fatalf("%s: want DIFF_ID DIGEST SIZE, got %q", args[1], f)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	ts.Check(err)
	c, err := layercache.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(c.PutBlob(f[0], compress.Gzip, layerstream.Blob{MediaType: oci.LayerMediaType(compress.Gzip), Digest: f[1], Size: size}))
}
