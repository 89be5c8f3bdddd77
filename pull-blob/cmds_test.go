package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/layerstream"
)

// testCommands are this package's script commands:
//
//	oci-image [-platform OS/ARCH[/VARIANT]]... [-compress C[,C...]] [-layers N] [-layer-size BYTES] [-docker] [-nest N] [-push] DEST
//	    writes an OCI image layout DEST (tag "latest"), or with -push
//	    pushes to the registry reference DEST with go-containerregistry
//	    (skopeo 1.9 cannot push an index from a layout), a busybox image per
//	    platform: a base layer with /bin/busybox, N layers of LAYER-SIZE
//	    pseudo-random bytes, and a top layer with /etc/message ("hello
//	    from OS/ARCH"); Cmd is busybox cat /etc/message. Layer i is
//	    compressed with the (i mod n)th of C (gzip, zstd or none). Several
//	    platforms make an image index. -docker uses Docker's media types.
//	    -nest N wraps the result in N more indexes, each with one entry
//	    without a platform.
//	    -bad-diffid N gives layer N a wrong diff_id in the config.
//	    Sets $LAYOUT_DIGEST (what "latest" points at) and, per platform,
//	    $CONFIG_OS_ARCH[_VARIANT] (the config digest).
//	image-ids FILE
//	    prints the config digest, the platform and the diff_ids (each
//	    recomputed from the bytes) of a layer stream or an image archive,
//	    and sets $CONFIG_DIGEST.
//	tamper-blob DIGEST
//	    flips one byte in the middle of a blob in the registry's storage
//	    ($REGISTRY_DIR), keeping its size.
//	env-from NAME FILE
//	    sets $NAME to the content of FILE without surrounding space.
func testCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"oci-image":   cmdOCIImage,
		"image-ids":   cmdImageIDs,
		"tamper-blob": cmdTamperBlob,
		"env-from":    cmdEnvFrom,
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func parseFlags(ts *testscript.TestScript, name string, args []string, define func(*flag.FlagSet)) []string {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	define(fs)
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("%s: %v", name, err)
	}
	return fs.Args()
}

func cmdOCIImage(ts *testscript.TestScript, neg bool, args []string) {
	var platforms multi
	var comp string
	var layers int
	var size int64
	var docker, push bool
	var nest int
	badDiffID := -1
	rest := parseFlags(ts, "oci-image", args, func(fs *flag.FlagSet) {
		fs.Var(&platforms, "platform", "")
		fs.StringVar(&comp, "compress", "gzip", "")
		fs.IntVar(&layers, "layers", 0, "")
		fs.Int64Var(&size, "layer-size", 4096, "")
		fs.BoolVar(&docker, "docker", false, "")
		fs.BoolVar(&push, "push", false, "")
		fs.IntVar(&badDiffID, "bad-diffid", -1, "")
		fs.IntVar(&nest, "nest", 0, "")
	})
	if len(rest) != 1 {
		ts.Fatalf("usage: oci-image [flags] DEST")
	}
	if len(platforms) == 0 {
		platforms = multi{"linux/amd64"}
	}
	busybox, err := os.ReadFile("/bin/busybox")
	ts.Check(err)
	b := imageBuilder{busybox: busybox, compress: strings.Split(comp, ","), layers: layers, size: size, docker: docker, badDiffID: badDiffID}
	var imgs []v1.Image
	var plats []*v1.Platform
	for _, s := range platforms {
		p, err := v1.ParsePlatform(s)
		ts.Check(err)
		img, err := b.image(*p)
		ts.Check(err)
		cfg, err := img.ConfigName()
		ts.Check(err)
		ts.Setenv("CONFIG_"+strings.ReplaceAll(s, "/", "_"), cfg.String())
		imgs = append(imgs, img)
		plats = append(plats, p)
	}
	var top interface{ Digest() (v1.Hash, error) } = imgs[0]
	if len(imgs) > 1 {
		var idx v1.ImageIndex = empty.Index
		if docker {
			idx = mutate.IndexMediaType(idx, types.DockerManifestList)
		}
		for i, img := range imgs {
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plats[i]}})
		}
		top = idx
	}
	for range nest {
		// One more index around, whose one entry (the index or image
		// so far) has no platform.
		outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: top.(mutate.Appendable)})
		if docker {
			outer = mutate.IndexMediaType(outer, types.DockerManifestList)
		}
		top = outer
	}
	if push {
		ref, err := name.ParseReference(rest[0])
		ts.Check(err)
		switch t := top.(type) {
		case v1.ImageIndex:
			ts.Check(remote.WriteIndex(ref, t))
		case v1.Image:
			ts.Check(remote.Write(ref, t))
		}
	} else {
		lp, err := layout.Write(ts.MkAbs(rest[0]), empty.Index)
		ts.Check(err)
		tag := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"})
		switch t := top.(type) {
		case v1.ImageIndex:
			ts.Check(lp.AppendIndex(t, tag))
		case v1.Image:
			ts.Check(lp.AppendImage(t, tag))
		}
	}
	d, err := top.Digest()
	ts.Check(err)
	ts.Setenv("LAYOUT_DIGEST", d.String())
}

type imageBuilder struct {
	busybox   []byte
	compress  []string
	layers    int
	size      int64
	docker    bool
	badDiffID int
}

// image builds the image for one platform.
func (b imageBuilder) image(p v1.Platform) (v1.Image, error) {
	var tars [][]byte
	base, err := tarOf([]tar.Header{
		{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755},
		{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(b.busybox))},
		{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "busybox", Mode: 0o777},
	}, [][]byte{nil, b.busybox, nil})
	if err != nil {
		return nil, err
	}
	tars = append(tars, base)
	for i := range b.layers {
		data := pseudoRandom(b.size, p.String(), i)
		t, err := tarOf([]tar.Header{{Typeflag: tar.TypeReg, Name: fmt.Sprintf("data/%03d", i), Mode: 0o644, Size: int64(len(data))}}, [][]byte{data})
		if err != nil {
			return nil, err
		}
		tars = append(tars, t)
	}
	msg := []byte("hello from " + p.String() + "\n")
	top, err := tarOf([]tar.Header{
		{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
		{Typeflag: tar.TypeReg, Name: "etc/message", Mode: 0o644, Size: int64(len(msg))},
	}, [][]byte{nil, msg})
	if err != nil {
		return nil, err
	}
	tars = append(tars, top)

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if b.docker {
		img = mutate.MediaType(empty.Image, types.DockerManifestSchema2)
		img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	}
	for i, t := range tars {
		l, err := b.layer(t, b.compress[i%len(b.compress)])
		if err != nil {
			return nil, err
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("layer %d", i), Created: v1.Time{Time: time.Unix(1, 0).UTC()}}}); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: time.Unix(1, 0).UTC()}
	cf.Config.Cmd = []string{"/bin/busybox", "cat", "/etc/message"}
	if i := b.badDiffID; i >= 0 && i < len(cf.RootFS.DiffIDs) {
		cf.RootFS.DiffIDs[i].Hex = strings.Repeat("0", 64)
	}
	return mutate.ConfigFile(img, cf)
}

func (b imageBuilder) layer(t []byte, comp string) (v1.Layer, error) {
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(t)), nil }
	switch comp {
	case "none":
		if b.docker {
			return static.NewLayer(t, types.DockerUncompressedLayer), nil
		}
		return static.NewLayer(t, types.OCIUncompressedLayer), nil
	case "gzip":
		mt := types.OCILayer
		if b.docker {
			mt = types.DockerLayer
		}
		return tarball.LayerFromOpener(opener, tarball.WithCompression(compression.GZip), tarball.WithMediaType(mt))
	case "zstd":
		return tarball.LayerFromOpener(opener, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	}
	return nil, fmt.Errorf("unknown compression %q", comp)
}

// tarOf writes a tar of the given entries (mtime 1, owner 0:0).
func tarOf(hdrs []tar.Header, bodies [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := range hdrs {
		h := hdrs[i]
		h.ModTime = time.Unix(1, 0)
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(bodies[i]); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

// pseudoRandom returns n bytes that depend only on seed and i: they do
// not compress, like real binaries.
func pseudoRandom(n int64, seed string, i int) []byte {
	var s [8]byte
	copy(s[:], seed)
	r := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:]), uint64(i)))
	b := make([]byte, n)
	for j := 0; j+8 <= len(b); j += 8 {
		binary.LittleEndian.PutUint64(b[j:], r.Uint64())
	}
	return b
}

func cmdImageIDs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: image-ids FILE")
	}
	file := ts.MkAbs(args[0])
	config, diffIDs, err := streamIDs(file)
	if err != nil {
		config, diffIDs, err = archiveIDs(file)
	}
	ts.Check(err)
	cf, err := v1.ParseConfigFile(bytes.NewReader(config))
	ts.Check(err)
	digest := fmt.Sprintf("sha256:%x", sha256sum(config))
	fmt.Fprintf(ts.Stdout(), "config %s\nplatform %s\n", digest, cf.Platform())
	for _, d := range diffIDs {
		fmt.Fprintf(ts.Stdout(), "layer %s\n", d)
	}
	ts.Setenv("CONFIG_DIGEST", digest)
}

// streamIDs reads a layer stream, verifying every diff_id.
func streamIDs(file string) ([]byte, []string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := layerstream.NewReader(f, layerstream.Options{Verify: true})
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, err
		}
	}
	if r.Config() == nil {
		return nil, nil, fmt.Errorf("%s: a layer stream without config.json", file)
	}
	var ids []string
	for _, l := range r.Trailer().Layers {
		ids = append(ids, l.DiffID)
	}
	return r.Config(), ids, nil
}

// archiveIDs reads the only image of an archive, hashing every layer.
func archiveIDs(file string) ([]byte, []string, error) {
	a, err := archive.Open(file, nil)
	if err != nil {
		return nil, nil, err
	}
	defer a.Close()
	if len(a.Images) != 1 {
		return nil, nil, fmt.Errorf("%s: %d images", file, len(a.Images))
	}
	img := a.Images[0]
	var ids []string
	for _, l := range img.Layers {
		rc, err := l.Open()
		if err != nil {
			return nil, nil, err
		}
		h := newSHA256()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, fmt.Sprintf("sha256:%x", h.Sum(nil)))
	}
	return img.ConfigBytes, ids, nil
}

func cmdTamperBlob(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: tamper-blob DIGEST")
	}
	hex := strings.TrimPrefix(args[0], "sha256:")
	if len(hex) != 64 {
		ts.Fatalf("tamper-blob: %q is not a sha256 digest", args[0])
	}
	file := filepath.Join(ts.Getenv("REGISTRY_DIR"), "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
	data, err := os.ReadFile(file)
	ts.Check(err)
	data[len(data)/2] ^= 0xff
	ts.Check(os.WriteFile(file, data, 0o644))
}

func cmdEnvFrom(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: env-from NAME FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

func sha256sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func newSHA256() hash.Hash { return sha256.New() }
