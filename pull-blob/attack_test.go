package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/registry"
)

// rawManifest is a manifest pushed as given, whatever it says.
type rawManifest struct {
	body []byte
	mt   types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.body, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// fixture is an in-memory registry (go-containerregistry's) holding what
// a test pushes.
type fixture struct {
	t    *testing.T
	repo name.Repository
}

func newFixture(t *testing.T) *fixture {
	return newFixtureVia(t, func(reg http.Handler) http.Handler { return reg })
}

// newFixtureVia is newFixture with the registry served through the
// handler wrap returns.
func newFixtureVia(t *testing.T, wrap func(reg http.Handler) http.Handler) *fixture {
	srv := httptest.NewServer(wrap(ggcr.New(ggcr.Logger(nopLogger()))))
	t.Cleanup(srv.Close)
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://") + "/test/img")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, repo: repo}
}

// blob pushes b and returns its descriptor.
func (f *fixture) blob(b []byte, mt types.MediaType) v1.Descriptor {
	l := static.NewLayer(b, mt)
	if err := remote.WriteLayer(f.repo, l); err != nil {
		f.t.Fatal(err)
	}
	d, _ := l.Digest()
	return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: d}
}

// manifest pushes a manifest and returns its digest reference.
func (f *fixture) manifest(v any, mt types.MediaType) string {
	body, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	d, _, _ := v1.SHA256(bytes.NewReader(body))
	ref := f.repo.Digest(d.String())
	if err := remote.Put(ref, rawManifest{body, mt}); err != nil {
		f.t.Fatal(err)
	}
	return ref.String()
}

func layerTar(t *testing.T, content string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: int64(len(content))})
	tw.Write([]byte(content))
	tw.Close()
	return buf.Bytes()
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func sha(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// image pushes an OCI image of the given layer blobs and config diff_ids.
func (f *fixture) image(layers []v1.Descriptor, diffIDs []v1.Hash) string {
	cfg, _ := json.Marshal(v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers", DiffIDs: diffIDs}})
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: f.blob(cfg, types.OCIConfigJSON), Layers: layers}
	return f.manifest(m, types.OCIManifestSchema1)
}

// The attack table: registries that serve what they should not. Each
// case must fail with its error class, and write nothing to stdout when
// the failure comes before the first layer.
func TestPullRefuses(t *testing.T) {
	good := layerTar(t, "good")
	for _, tc := range []struct {
		name    string
		setup   func(f *fixture) string // returns the reference to pull
		args    []string
		wantErr error
		wantMsg string
	}{
		{
			name: "LayerMissingFromRegistry",
			setup: func(f *fixture) string {
				return f.image([]v1.Descriptor{{MediaType: types.OCILayer, Size: 10, Digest: sha([]byte("absent"))}}, []v1.Hash{sha(good)})
			},
			wantErr: errdefs.ErrNotFound, wantMsg: "layer 0 sha256:",
		},
		{
			name: "LayerSizeNegative",
			setup: func(f *fixture) string {
				l := f.blob(gzipped(good), types.OCILayer)
				l.Size = -1
				return f.image([]v1.Descriptor{l}, []v1.Hash{sha(good)})
			},
			wantErr: errdefs.ErrInvalidInput, wantMsg: "layer 0 sha256:",
		},
		{
			name: "TooManyLayers",
			setup: func(f *fixture) string {
				l := f.blob(gzipped(good), types.OCILayer)
				layers, diffIDs := make([]v1.Descriptor, 126), make([]v1.Hash, 126)
				for i := range layers {
					layers[i], diffIDs[i] = l, sha(good)
				}
				return f.image(layers, diffIDs)
			},
			wantErr: errdefs.ErrTooManyLayers, wantMsg: "126 layers, more than the 125 runtimes accept",
		},
		{
			name: "FewerDiffIDsThanLayers",
			setup: func(f *fixture) string {
				l := f.blob(gzipped(good), types.OCILayer)
				return f.image([]v1.Descriptor{l, l}, []v1.Hash{sha(good)})
			},
			wantErr: errdefs.ErrInvalidInput, wantMsg: "the manifest has 2 layers, the config 1 diff_ids",
		},
		{
			name: "ForeignLayer",
			setup: func(f *fixture) string {
				l := f.blob(gzipped(good), types.DockerForeignLayer)
				return f.image([]v1.Descriptor{l}, []v1.Hash{sha(good)})
			},
			wantErr: registry.ErrUnsupported, wantMsg: "foreign",
		},
		{
			name: "LayerMediaTypeLong",
			setup: func(f *fixture) string {
				l := f.blob(gzipped(good), types.OCILayer)
				l.MediaType = types.MediaType(strings.Repeat("x", 100000))
				return f.image([]v1.Descriptor{l}, []v1.Hash{sha(good)})
			},
			wantErr: registry.ErrUnsupported, wantMsg: `layer media type "xxx`,
		},
		{
			name: "GzipLabelOnPlainTar",
			setup: func(f *fixture) string {
				return f.image([]v1.Descriptor{f.blob(good, types.OCILayer)}, []v1.Hash{sha(good)})
			},
			wantErr: errdefs.ErrInvalidInput, wantMsg: "gzip",
		},
		{
			name: "TruncatedGzip",
			setup: func(f *fixture) string {
				z := gzipped(good)
				return f.image([]v1.Descriptor{f.blob(z[:len(z)-12], types.OCILayer)}, []v1.Hash{sha(good)})
			},
			wantErr: errdefs.ErrInvalidInput, wantMsg: "decompressing (gzip)",
		},
		{
			name: "DiffIDOfOtherLayer",
			setup: func(f *fixture) string {
				return f.image([]v1.Descriptor{f.blob(gzipped(good), types.OCILayer)}, []v1.Hash{sha([]byte("other"))})
			},
			wantErr: errdefs.ErrDigestMismatch, wantMsg: "the config's diff_id is",
		},
		{
			name: "ConfigTooLarge",
			setup: func(f *fixture) string {
				m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
					Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: 1 << 40, Digest: sha(nil)}}
				return f.manifest(m, types.OCIManifestSchema1)
			},
			wantErr: errdefs.ErrInvalidInput, wantMsg: "config of 1099511627776 bytes",
		},
		{
			name: "ConfigNotJSON",
			setup: func(f *fixture) string {
				m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: f.blob([]byte("<html>"), types.OCIConfigJSON)}
				return f.manifest(m, types.OCIManifestSchema1)
			},
			wantErr: errdefs.ErrInvalidInput, wantMsg: "config sha256:",
		},
		{
			name: "Schema1",
			setup: func(f *fixture) string {
				return f.manifest(map[string]any{"schemaVersion": 1, "name": "test/img", "tag": "1", "fsLayers": []any{}}, types.DockerManifestSchema1Signed)
			},
			wantErr: registry.ErrUnsupported, wantMsg: "schema 1",
		},
		{
			name: "IndexEntryIsAnIndex",
			setup: func(f *fixture) string {
				inner := f.manifest(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}, types.OCIImageIndex)
				d, _ := name.NewDigest(inner)
				h, _ := v1.NewHash(d.DigestStr())
				return f.manifest(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
					{MediaType: types.OCIManifestSchema1, Digest: h, Size: 1, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
				}}, types.OCIImageIndex)
			},
			wantErr: registry.ErrUnsupported, wantMsg: "is another manifest list",
		},
		{
			name: "ManifestOfAnotherKind",
			setup: func(f *fixture) string {
				return f.manifest(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.example.thing+json"}, "application/vnd.example.thing+json")
			},
			wantErr: registry.ErrUnsupported, wantMsg: `media type "application/vnd.example.thing+json"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ref := tc.setup(f)
			var stdout, stderr bytes.Buffer
			c := &command{Ref: ref, OS: "linux", Arch: "amd64", TLSVerify: true, Jobs: 2, Retries: 0, Output: "-", MaxExpanded: 64 << 30}
			err := validateAndRun(c, &cli.IO{Stdout: &stdout, Stderr: &stderr})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %.300q does not say %q", err, tc.wantMsg)
			}
			if len(err.Error()) > 2048 {
				t.Fatalf("error of %d bytes: %.300q", len(err.Error()), err)
			}
			if stdout.Len() > 0 {
				t.Fatalf("%d bytes written to stdout", stdout.Len())
			}
		})
	}
}

// A failing layer above good ones: the layers below may be written (the
// stream then lacks its trailer), the failure is the one reported, and
// nothing hangs.
func TestPullReportsTheFailingLayer(t *testing.T) {
	f := newFixture(t)
	var layers []v1.Descriptor
	var diffIDs []v1.Hash
	for i := range 6 {
		tr := layerTar(t, fmt.Sprintf("layer %d", i))
		layers = append(layers, f.blob(gzipped(tr), types.OCILayer))
		diffIDs = append(diffIDs, sha(tr))
	}
	diffIDs[4] = sha([]byte("wrong"))
	ref := f.image(layers, diffIDs)
	for _, jobs := range []int{1, 3, 8} {
		var stdout, stderr bytes.Buffer
		c := &command{Ref: ref, OS: "linux", Arch: "amd64", TLSVerify: true, Jobs: jobs, Output: "-", MaxExpanded: 64 << 30}
		err := validateAndRun(c, &cli.IO{Stdout: &stdout, Stderr: &stderr})
		if !errors.Is(err, errdefs.ErrDigestMismatch) || !strings.HasPrefix(err.Error(), "layer 4 ") {
			t.Fatalf("jobs %d: error %v, want layer 4's digest mismatch", jobs, err)
		}
		if bytes.Contains(stdout.Bytes(), []byte("stream.json")) {
			t.Fatalf("jobs %d: the stream has its trailer after a failure", jobs)
		}
	}
}

// TestPullRefusesLayerBomb: a layer of a few kilobytes that decompresses
// to far more (zeros) is refused once past --max-expanded-bytes, with or
// without --low-disk, before it fills the temporary directory; nothing
// reaches stdout.
func TestPullRefusesLayerBomb(t *testing.T) {
	f := newFixture(t)
	bomb := layerTar(t, string(make([]byte, 8<<20)))
	ref := f.image([]v1.Descriptor{f.blob(gzipped(bomb), types.OCILayer)}, []v1.Hash{sha(bomb)})
	for _, args := range [][]string{{ref}, {"--low-disk", ref}} {
		var stdout, stderr bytes.Buffer
		args = append([]string{"--max-expanded-bytes", "1MiB"}, args...)
		code := cli.Run(context.Background(), "pull-blob", manual, &command{}, args, &cli.IO{Stdout: &stdout, Stderr: &stderr})
		msg := stderr.String()
		if code != cli.ExitFailure || !strings.HasPrefix(msg, "pull-blob: layer 0 sha256:") || !strings.HasSuffix(msg, "expands past 1048576 bytes (--max-expanded-bytes): invalid input\n") {
			t.Fatalf("%q: exit %d, stderr %q; want 1 and layer 0 past --max-expanded-bytes", args, code, msg)
		}
		if stdout.Len() > 0 {
			t.Fatalf("%q: %d bytes written to stdout", args, stdout.Len())
		}
	}
}

// TestPullRefusesLayerLargerThanBound: a layer blob the manifest gives
// more bytes than --max-expanded-bytes is refused before it is fetched.
// An uncompressed layer was spooled whole however large the registry said
// it was, and so was a compressed one with --low-disk: the bound counted
// only decompressed bytes, so a registry that announced a terabyte filled
// the temporary directory with it before the digest could be checked.
func TestPullRefusesLayerLargerThanBound(t *testing.T) {
	f := newFixture(t)
	big := layerTar(t, string(make([]byte, 2<<20)))
	plain := f.blob(big, types.OCIUncompressedLayer)
	// A blob the registry does not hold: it is refused before it is asked.
	terabyte := v1.Descriptor{MediaType: types.OCILayer, Size: 1 << 40, Digest: sha(gzipped(big))}
	for _, tc := range []struct {
		name string
		args []string
		desc v1.Descriptor
	}{
		{"Uncompressed", nil, plain},
		{"UncompressedLowDisk", []string{"--low-disk"}, plain},
		{"CompressedLowDisk", []string{"--low-disk"}, terabyte},
	} {
		ref := f.image([]v1.Descriptor{tc.desc}, []v1.Hash{sha(big)})
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"--max-expanded-bytes", "1MiB"}, tc.args...), ref)
		code := cli.Run(context.Background(), "pull-blob", manual, &command{}, args, &cli.IO{Stdout: &stdout, Stderr: &stderr})
		msg := stderr.String()
		want := fmt.Sprintf(": %d bytes: expands past 1048576 bytes (--max-expanded-bytes)\n", tc.desc.Size)
		if code != cli.ExitFailure || !strings.HasPrefix(msg, "pull-blob: layer 0 sha256:") || !strings.HasSuffix(msg, want) {
			t.Fatalf("%s: exit %d, stderr %q; want 1 and layer 0 past --max-expanded-bytes", tc.name, code, msg)
		}
		if stdout.Len() > 0 {
			t.Fatalf("%s: %d bytes written to stdout", tc.name, stdout.Len())
		}
	}
}

// TestPullWarningIsOneLine: the platform an image's config names, which
// the registry's image chooses, is shown quoted in the warning that it is
// not the one asked for: a carriage return and escape sequences in it
// rewrote the warning (and what came before) on a terminal.
func TestPullWarningIsOneLine(t *testing.T) {
	f := newFixture(t)
	good := layerTar(t, "good")
	cfg, _ := json.Marshal(v1.ConfigFile{OS: "linux\r\x1b[2Jall is well", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{sha(good)}}})
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: f.blob(cfg, types.OCIConfigJSON),
		Layers: []v1.Descriptor{f.blob(gzipped(good), types.OCILayer)}}
	ref := f.manifest(m, types.OCIManifestSchema1)
	var stdout, stderr bytes.Buffer
	c := &command{Ref: ref, OS: "linux", Arch: "amd64", TLSVerify: true, Jobs: 1, Output: "-", MaxExpanded: 64 << 30}
	if err := validateAndRun(c, &cli.IO{Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	msg := strings.TrimSuffix(stderr.String(), "\n")
	if !strings.Contains(msg, "warning: ") || strings.IndexFunc(msg, unicode.IsControl) >= 0 {
		t.Fatalf("stderr %q: want one warning line without control characters", stderr.String())
	}
}

// TestPullBlobBounded: pull-blob --blob learns the blob's size from the
// registry alone; a registry that announces more than
// --max-expanded-bytes, or sends without end and without a length, is
// refused before the temporary spool passes the bound; nothing reaches
// stdout.
func TestPullBlobBounded(t *testing.T) {
	digest := sha([]byte("a blob")).String()
	for _, tc := range []struct {
		name   string
		length string // the Content-Length announced, "" for none
	}{{"Announced", "2097152"}, {"Endless", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					return
				}
				if tc.length != "" {
					w.Header().Set("Content-Length", tc.length)
				}
				chunk := make([]byte, 64<<10)
				for n := 0; n < 1<<30; n += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}))
			defer srv.Close()
			ref := strings.TrimPrefix(srv.URL, "http://") + "/test/img@" + digest
			var stdout, stderr bytes.Buffer
			args := []string{"--blob", "--retries", "0", "--max-expanded-bytes", "1MiB", ref}
			code := cli.Run(context.Background(), "pull-blob", manual, &command{}, args, &cli.IO{Stdout: &stdout, Stderr: &stderr})
			msg := stderr.String()
			if code != cli.ExitFailure || !strings.HasPrefix(msg, "pull-blob: blob "+ref+": ") || !strings.HasSuffix(msg, "expands past 1048576 bytes (--max-expanded-bytes)\n") {
				t.Fatalf("exit %d, stderr %q; want 1 and the blob past --max-expanded-bytes", code, msg)
			}
			if stdout.Len() > 0 {
				t.Fatalf("%d bytes written to stdout", stdout.Len())
			}
		})
	}
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// validateAndRun runs c as kong does: Validate (which parses the
// reference), then Run.
func validateAndRun(c *command, o *cli.IO) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return c.Run(context.Background(), o)
}
