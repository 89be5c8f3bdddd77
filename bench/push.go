package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"dockertools.dev/imgkit/layerstream"
)

// pusher pushes an image archive to dest (HOST:PORT/REPO:TAG) and returns
// the manifest digest the registry now serves.
type pusher struct {
	name string
	push func(ctx context.Context, archive, dest string) (string, sample, error)
}

// benchPush: issue 7. A warm push (the registry has every layer but the
// top one) against a cold push of the same image, both ours; skopeo's
// warm/cold ratio is noted for reference.
func benchPush(ctx context.Context, b *bench) result {
	r := result{target: "ratio < 0.05"}
	if err := needComponents("registry", "skopeo"); err != nil {
		return r.failed(err)
	}
	script, err := b.script("push-image")
	if err != nil {
		return r.failed(err)
	}
	mg, err := b.tool("manifest-gen")
	if err != nil {
		return r.failed(err)
	}
	s := b.sizes
	m, err := b.store("push", s.pushBytes, s.pushPaths, s.pushFiles)
	if err != nil {
		return r.failed(err)
	}
	img, err := b.image(ctx, m, s.pushLayers, "bench/push", true)
	if err != nil {
		return r.failed(err)
	}
	variants := make([]string, b.runs)
	for i := range variants {
		variants[i] = filepath.Join(b.scratch, fmt.Sprintf("push-variant-%d.tar", i))
		if err := b.variantImage(ctx, mg, img.stream, variants[i], i); err != nil {
			return r.failed(fmt.Errorf("making push variant %d: %w", i, err))
		}
	}
	defer func() {
		for _, v := range variants {
			os.Remove(v)
		}
	}()

	// skopeo is the reference: it must compress every layer to learn its
	// digest before it can ask the registry, so its warm push saves only
	// the upload.
	skopeo := pusher{"skopeo", b.skopeoPush}
	skCold, skWarm, err := b.pushSeries(ctx, skopeo, img.archive, variants[:1])
	if err != nil {
		return r.failed(err)
	}
	r.note("image: %s in %d layers; each warm push changes only the top layer (a new 1 MiB layer)", fmtBytes(totalLayerBytes(img.info)), len(img.info.layers))
	r.note("reference: skopeo copy docker-archive: cold %.2f s, warm %.2f s, ratio %.3f (one run each)",
		skCold.best.seconds(), skWarm.best.seconds(), skWarm.best.seconds()/skCold.best.seconds())

	ours := pusher{"push-image", func(ctx context.Context, archive, dest string) (string, sample, error) {
		var out bytes.Buffer
		s, err := b.run(ctx, []stage{command("push-image", script, "--image", archive, "--dest", dest, "--tls-verify=false")}, nil, &out)
		if err != nil {
			return "", s, err
		}
		d := pushedDigest.FindString(out.String())
		if d == "" {
			return "", s, fmt.Errorf("push-image printed %q, not REPO@sha256:…", strings.TrimSpace(out.String()))
		}
		return strings.TrimPrefix(d, "@"), s, nil
	}}
	cold, warm, err := b.pushSeries(ctx, ours, img.archive, variants)
	if err != nil {
		return r.failed(err)
	}
	r.ours = fmt.Sprintf("%.2f s warm", warm.best.seconds())
	r.limit = fmt.Sprintf("%.2f s cold", cold.best.seconds())
	r.ratio = warm.best.seconds() / cold.best.seconds()
	r.met = r.ratio < 0.05
	r.rss = fmtBytes(max(cold.best.maxRSS(), warm.best.maxRSS()))
	r.note("checked: after every push the registry serves the printed manifest digest")
	return r
}

var pushedDigest = regexp.MustCompile(`@sha256:[0-9a-f]{64}`)

func totalLayerBytes(info *imageInfo) int64 {
	var n int64
	for _, l := range info.layers {
		n += l.size
	}
	return n
}

// pushSeries measures p: cold pushes of base into an empty registry, and
// warm pushes of each variant into a registry that holds base.
func (b *bench) pushSeries(ctx context.Context, p pusher, base string, variants []string) (cold, warm series, err error) {
	dest := func(reg string) string { return reg + "/bench/push:latest" }
	for range variants {
		storage, err := os.MkdirTemp(b.scratch, "cold-")
		if err != nil {
			return cold, warm, err
		}
		reg, stop, err := b.startRegistry(storage)
		if err != nil {
			return cold, warm, err
		}
		d, s, err := p.push(ctx, base, dest(reg.Addr))
		if err == nil {
			err = checkServed(reg.Addr, "bench/push", d)
		}
		stop()
		removeTree(storage)
		if err != nil {
			return cold, warm, fmt.Errorf("cold push with %s: %w", p.name, err)
		}
		cold.add(s)
	}
	storage, err := os.MkdirTemp(b.scratch, "warm-")
	if err != nil {
		return cold, warm, err
	}
	defer removeTree(storage)
	reg, stop, err := b.startRegistry(storage)
	if err != nil {
		return cold, warm, err
	}
	defer stop()
	if _, _, err := p.push(ctx, base, dest(reg.Addr)); err != nil {
		return cold, warm, fmt.Errorf("first push with %s: %w", p.name, err)
	}
	for _, v := range variants {
		d, s, err := p.push(ctx, v, dest(reg.Addr))
		if err == nil {
			err = checkServed(reg.Addr, "bench/push", d)
		}
		if err != nil {
			return cold, warm, fmt.Errorf("warm push with %s: %w", p.name, err)
		}
		warm.add(s)
	}
	return cold, warm, nil
}

// checkServed asks the registry for the manifest digest a push printed.
func checkServed(addr, repo, digest string) error {
	req, err := http.NewRequest(http.MethodHead, "http://"+addr+"/v2/"+repo+"/manifests/"+digest, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the registry answers %s for manifest %s", resp.Status, digest)
	}
	return nil
}

// variantImage writes an image archive equal to the one of stream except
// for its top layer, replaced by a small layer unique to n: what a
// rebuild after changing only the top of the closure produces.
func (b *bench) variantImage(ctx context.Context, manifestGen, stream, out string, n int) error {
	layers, err := streamLayers(stream)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeVariant(pw, stream, layers, n)) }()
	defer pr.Close()
	return atomicWrite(out, func(w io.Writer) error {
		_, err := b.run(ctx, []stage{command("manifest-gen", manifestGen, "--name", "bench/push")}, pr, w)
		return err
	})
}

// streamLayers reads a layer stream's trailer.
func streamLayers(stream string) ([]layerstream.LayerInfo, error) {
	f, err := os.Open(stream)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lr := layerstream.NewReader(f, layerstream.Options{})
	for {
		if _, err := lr.Next(); err == io.EOF {
			return lr.Trailer().Layers, nil
		} else if err != nil {
			return nil, err
		}
	}
}

// writeVariant copies every layer of stream but the last, then a new top
// layer.
func writeVariant(w io.Writer, stream string, layers []layerstream.LayerInfo, n int) error {
	f, err := os.Open(stream)
	if err != nil {
		return err
	}
	defer f.Close()
	lr := layerstream.NewReader(f, layerstream.Options{})
	lw := layerstream.NewWriter(w)
	for i := range len(layers) - 1 {
		l, err := lr.Next()
		if err != nil {
			return err
		}
		info := layers[i]
		if _, err := lw.WriteLayer(l.Size, layerstream.LayerInfo{Paths: info.Paths, Comment: info.Comment}, l); err != nil {
			return err
		}
	}
	top, err := variantLayer(n)
	if err != nil {
		return err
	}
	if _, err := lw.WriteLayer(int64(len(top)), layerstream.LayerInfo{Comment: fmt.Sprintf("bench variant %d", n)}, bytes.NewReader(top)); err != nil {
		return err
	}
	return lw.Close()
}

// variantLayer is a layer tar holding one 1 MiB file of bytes drawn from
// seed n.
func variantLayer(n int) ([]byte, error) {
	data := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), 'v'}).Read(data)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "bench-variant", Mode: 0o444, Size: int64(len(data)), ModTime: time.Unix(1, 0), Format: tar.FormatUSTAR}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
