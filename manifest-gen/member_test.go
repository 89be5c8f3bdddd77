package main

import (
	"bytes"
	"encoding/json"
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/testkit"
)

// cmdMember is the script command
//
//	member ARCHIVE NAME
//	member -config ARCHIVE
//
// It prints a member of a tar as text, or with -config the image config
// that manifest.json names, adding a final newline when the member has
// none: the config and manifest.json end without one (as nixpkgs writes
// them), which a txtar file cannot hold for cmp.
func cmdMember(ts *testscript.TestScript, neg bool, args []string) {
	config := len(args) == 2 && args[0] == "-config"
	if config {
		args = args[1:]
	} else if len(args) != 2 {
		ts.Fatalf("usage: member ARCHIVE NAME | member -config ARCHIVE")
	}
	read := func(name string) []byte {
		f, err := os.Open(ts.MkAbs(args[0]))
		ts.Check(err)
		defer f.Close()
		var buf bytes.Buffer
		ts.Check(testkit.CatMember(f, &buf, nil, name))
		return buf.Bytes()
	}
	var data []byte
	if config {
		var manifest []struct{ Config string }
		ts.Check(json.Unmarshal(read("manifest.json"), &manifest))
		if len(manifest) != 1 {
			ts.Fatalf("member -config: %d images in manifest.json", len(manifest))
		}
		data = read(manifest[0].Config)
	} else {
		data = read(args[1])
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	_, err := ts.Stdout().Write(data)
	ts.Check(err)
}
