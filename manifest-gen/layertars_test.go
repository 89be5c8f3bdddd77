package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
)

// TestLayerTarsRefusesAnotherUsersDir: a --layer-tars directory owned by
// another user is refused, for a build and for --print-holdings, with
// one line naming both users. As root a directory is given away with
// chown; any other user is given one of root's.
func TestLayerTarsRefusesAnotherUsersDir(t *testing.T) {
	dir := "/"
	if os.Geteuid() == 0 {
		dir = filepath.Join(t.TempDir(), "tars")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	for _, create := range []bool{true, false} {
		_, err := openLayerTars(&cli.IO{Stderr: io.Discard}, dir, false, create)
		if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "not by this user") || strings.Contains(err.Error(), "\n") {
			t.Errorf("openLayerTars(%q, create %v) = %v, want one line refusing another user's directory", dir, create, err)
		}
	}
}
