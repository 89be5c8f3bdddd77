package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

// Generated inputs are cached under the work directory and reused while
// their spec (and, for images, the tools that built them) is unchanged:
//
//	WORK/stores/store-<key>/   a generated store and its manifest (storegen.Ensure)
//	WORK/graphs/<key>.json     closure graphs
//	WORK/images/<key>.tar      images built by our own pipeline
//	WORK/registry-<key>/       registry storage holding a pushed image
//	WORK/run-*/                this run's scratch space, removed at exit

// store returns a generated store, generating it on first use.
func (b *bench) store(what string, bytes, paths, files int64) (*storegen.Manifest, error) {
	spec := storegen.Spec{Seed: b.seed, Paths: int(paths), Files: int(files), Bytes: bytes,
		Refs: b.sizes.storeRefs, SizeSigma: b.sizes.storeSigma}
	key, err := spec.Key()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.work, "stores")
	if _, err := os.Stat(filepath.Join(dir, "store-"+key, "manifest.json")); err != nil {
		b.logf("%s: generating a store of %s in %d paths and %d files (once; cached in %s)", what, fmtBytes(bytes), paths, files, dir)
	}
	start := time.Now()
	m, err := storegen.Ensure(dir, spec)
	if err != nil {
		return nil, err
	}
	if d := time.Since(start); d > time.Second {
		b.logf("%s: generated in %.1f s", what, d.Seconds())
	}
	return m, nil
}

// storeKey names a store for the keys of what is built from it.
func storeKey(m *storegen.Manifest) string {
	key, _ := m.Spec.Key()
	return key
}

// graphFile returns a file holding m's reference graph, as closure-scan
// would print it for the top path.
func (b *bench) graphFile(m *storegen.Manifest) (string, error) {
	return b.cachedGraph("store-"+storeKey(m), func() (graphplan.Graph, error) { return m.Graph(), nil })
}

// cachedGraph writes the graph draw returns to WORK/graphs/<key>.json
// once.
func (b *bench) cachedGraph(key string, draw func() (graphplan.Graph, error)) (string, error) {
	name := filepath.Join(b.work, "graphs", key+".json")
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	return name, atomicWrite(name, func(w io.Writer) error {
		g, err := draw()
		if err != nil {
			return err
		}
		return graphplan.WriteGraph(w, g)
	})
}

// atomicWrite creates name through a temporary file renamed into place,
// so an interrupted run leaves no truncated cache entry.
func atomicWrite(name string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", name, os.Getpid())
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// fileKey is a short digest of some files' contents and some strings: a
// cache key that changes when a tool is rebuilt differently.
func fileKey(files []string, extra ...string) (string, error) {
	h := sha256.New()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	for _, s := range extra {
		fmt.Fprintf(h, "%q\n", s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// builtImage is an image built from a generated store by our pipeline.
type builtImage struct {
	archive string // the docker-archive
	stream  string // the layer stream it was made from, when kept
	info    *imageInfo
}

// image builds (once) the image of m's whole closure with `popularity
// --max layers | layer-pack --root | manifest-gen --name name`, checks it,
// and returns it. With keepStream the layer stream is kept next to it.
func (b *bench) image(ctx context.Context, m *storegen.Manifest, layers int64, name string, keepStream bool) (*builtImage, error) {
	var tools []string
	for _, t := range []string{"popularity", "layer-pack", "manifest-gen"} {
		p, err := b.tool(t)
		if err != nil {
			return nil, err
		}
		tools = append(tools, p)
	}
	graph, err := b.graphFile(m)
	if err != nil {
		return nil, err
	}
	key, err := fileKey(tools, storeKey(m), fmt.Sprint(layers), name)
	if err != nil {
		return nil, err
	}
	img := &builtImage{archive: filepath.Join(b.work, "images", key+".tar")}
	if keepStream {
		img.stream = filepath.Join(b.work, "images", key+".stream")
	}
	if _, err := os.Stat(img.archive); err != nil {
		if img.info, err = b.buildImage(ctx, m, graph, tools, layers, name, img); err != nil {
			return nil, fmt.Errorf("building the %s image: %w", name, err)
		}
		return img, nil
	}
	f, err := os.Open(img.archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img.info, err = readImage(f, m.StoreDir)
	return img, err
}

func (b *bench) buildImage(ctx context.Context, m *storegen.Manifest, graph string, tools []string, layers int64, name string, img *builtImage) (*imageInfo, error) {
	b.logf("building a %d-layer image of %s with our pipeline (once; cached in %s)", layers, fmtBytes(m.Totals.Bytes), filepath.Dir(img.archive))
	in, err := os.Open(graph)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	stream := img.stream
	if stream == "" {
		stream = filepath.Join(b.scratch, "image.stream")
		defer os.Remove(stream)
	}
	err = atomicWrite(stream, func(w io.Writer) error {
		// popularity's budget keeps one layer for a customisation layer,
		// which these images have none of: one more gives exactly layers.
		_, err := b.run(ctx, []stage{
			command("popularity", tools[0], "--max", fmt.Sprint(layers+1)),
			command("layer-pack", tools[1], "--root", m.Root),
		}, in, w)
		return err
	})
	if err != nil {
		return nil, err
	}
	var info *imageInfo
	err = atomicWrite(img.archive, func(w io.Writer) error {
		s, err := os.Open(stream)
		if err != nil {
			return err
		}
		defer s.Close()
		if _, err := b.run(ctx, []stage{command("manifest-gen", tools[2], "--name", name)}, s, w); err != nil {
			return err
		}
		f, ok := w.(*os.File)
		if !ok {
			return fmt.Errorf("internal: image output is not a file")
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if info, err = readImage(f, m.StoreDir); err != nil {
			return err
		}
		return checkCovers(info, m)
	})
	return info, err
}

// checkCovers checks that an image's layers hold every store path of m
// and every byte of its files.
func checkCovers(info *imageInfo, m *storegen.Manifest) error {
	have := map[string]bool{}
	var bytes int64
	for _, l := range info.layers {
		for _, p := range l.paths {
			have[p] = true
		}
		bytes += l.fileBytes
	}
	for _, p := range m.Paths {
		if !have[p.Path] {
			return fmt.Errorf("the image has no layer holding %s", p.Path)
		}
	}
	if bytes < m.Totals.Bytes {
		return fmt.Errorf("the image's layers hold %d bytes of files, the store %d", bytes, m.Totals.Bytes)
	}
	return nil
}

func removeTree(dir string) { storegen.RemoveAll(dir) }
