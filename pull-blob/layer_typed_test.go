package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/cli"
)

// TestPullLayerNotAsTypedSaysItOnce: a layer whose bytes are not the
// compression its media type says is refused in one line that gives the
// cause once, with or without --low-disk. Before, a plain tar typed gzip
// said "gzip: gzip: invalid header: invalid input: invalid input" (the
// decoder's "gzip: " and the spool's invalid input added to errors that
// had them), and one typed zstd "invalid input: magic number mismatch:
// invalid input".
func TestPullLayerNotAsTypedSaysItOnce(t *testing.T) {
	good := layerTar(t, "good")
	z := gzipped(good)
	f := newFixture(t)
	for _, tc := range []struct {
		name, ref, want string
	}{
		{"PlainTypedGzip", f.image([]v1.Descriptor{f.blob(good, types.OCILayer)}, []v1.Hash{sha(good)}), ": gzip: invalid header: invalid input\n"},
		{"PlainTypedZstd", f.image([]v1.Descriptor{f.blob(good, types.OCILayerZStd)}, []v1.Hash{sha(good)}), ": decompressing (zstd): magic number mismatch: invalid input\n"},
		{"GzipCutInItsHeader", f.image([]v1.Descriptor{f.blob(z[:5], types.OCILayer)}, []v1.Hash{sha(good)}), ": gzip: unexpected EOF: invalid input\n"},
		{"GzipCutShort", f.image([]v1.Descriptor{f.blob(z[:len(z)-12], types.OCILayer)}, []v1.Hash{sha(good)}), ": decompressing (gzip): unexpected EOF: invalid input\n"},
	} {
		for _, args := range [][]string{{tc.ref}, {"--low-disk", tc.ref}} {
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), "pull-blob", manual, &command{}, args, &cli.IO{Stdout: &stdout, Stderr: &stderr})
			msg := stderr.String()
			if code != cli.ExitFailure || !strings.HasPrefix(msg, "pull-blob: layer 0 sha256:") || !strings.HasSuffix(msg, tc.want) || strings.Count(msg, "\n") != 1 {
				t.Errorf("%s %q: exit %d, stderr %q; want 1 and one line ending %q", tc.name, args[:len(args)-1], code, msg, tc.want)
			}
		}
	}
}
