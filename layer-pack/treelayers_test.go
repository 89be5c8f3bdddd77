package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
)

// TestSockets: no layer can hold a socket. A store path holding one is
// refused (nixpkgs' script crashes on it); a customisation directory
// leaves it out with a warning, as GNU tar does.
func TestSockets(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "nix", "store", "aaa-x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short: bind from inside the directory.
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", "sock")
	os.Chdir(wd)
	if err != nil {
		t.Skipf("cannot make a socket here: %v", err)
	}
	defer l.Close()
	so := &storeOptions{storeDir: "/nix/store", root: root}
	for _, c := range []struct {
		name    string
		layer   *treeLayer
		wantErr error
		warning string
	}{
		{"SocketInStorePath", storeLayer(so, []string{"/nix/store/aaa-x"}), errdefs.ErrInvalidInput, ""},
		{"SocketInCustomisationDir", nil, nil, `"./sock": socket ignored`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var warnings strings.Builder
			tl := c.layer
			if tl == nil {
				warn := func(format string, args ...any) { fmt.Fprintf(&warnings, format+"\n", args...) }
				tl = dirLayer(&dirOptions{root: dir, warn: warn}, layerstream.LayerInfo{})
			}
			err := pack(context.Background(), &cli.IO{Stderr: io.Discard}, []layer{tl}, io.Discard)
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if !strings.Contains(warnings.String(), c.warning) || (c.warning == "") != (warnings.Len() == 0) {
				t.Errorf("warnings %q, want %q", warnings.String(), c.warning)
			}
		})
	}
}
