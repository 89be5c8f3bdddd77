package main

import (
	"bytes"
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/testkit"
)

// cmdMember is the script command
//
//	member ARCHIVE NAME
//
// It prints a member of a tar as text, adding a final newline when the
// member has none: the config and manifest.json end without one (as
// nixpkgs writes them), which a txtar file cannot hold for cmp.
func cmdMember(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: member ARCHIVE NAME")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	var buf bytes.Buffer
	ts.Check(testkit.CatMember(f, &buf, nil, args[1]))
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	_, err = ts.Stdout().Write(buf.Bytes())
	ts.Check(err)
}
