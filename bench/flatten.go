package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// benchFlatten: issue 5. tar-merge --flatten of a multi-layer image built
// by our pipeline, against tar -x of its layers into a directory.
func benchFlatten(ctx context.Context, b *bench) result {
	r := result{target: "none set (ratio, RSS)"}
	tm, err := b.tool("tar-merge")
	if err != nil {
		return r.failed(err)
	}
	s := b.sizes
	m, err := b.store("flatten", s.imageBytes, s.imagePaths, s.imageFiles)
	if err != nil {
		return r.failed(err)
	}
	img, err := b.image(ctx, m, s.imageLayers, "bench/image", false)
	if err != nil {
		return r.failed(err)
	}
	layers, err := extractLayers(img.archive)
	if err != nil {
		return r.failed(err)
	}
	flatten := []stage{command("tar-merge", tm, "--flatten")}

	// An untimed run whose rootfs is compared with the store it came from.
	want, err := treeOf(m.Root, m.StoreDir)
	if err != nil {
		return r.failed(err)
	}
	var other int
	err = b.runChecked(ctx, flatten, img.archive, func(rd io.Reader) error {
		got, n, err := treeOfTar(rd, m.StoreDir)
		if err != nil {
			return err
		}
		other = n
		return diffTrees(want, got)
	})
	if err != nil {
		return r.failed(err)
	}

	dest := filepath.Join(b.scratch, "extract")
	ours, limit, err := compare(b.runs,
		func() (sample, error) { return b.extractLimit(ctx, layers, dest) },
		func(int) (sample, error) { return b.runFile(ctx, flatten, img.archive, nil) })
	if err != nil {
		return r.failed(err)
	}
	fi, err := os.Stat(img.archive)
	if err != nil {
		return r.failed(err)
	}
	r.throughput(fi.Size(), ours, limit)
	r.met = true
	r.note("image: %s in %d layers (our pipeline, %d store paths); rates are of the image archive's size", fmtBytes(fi.Size()), len(layers), m.Totals.Paths)
	r.note("rootfs checked: every store entry with its type, size and link target (%d entries, %d outside the store)", len(want), other)
	cost, err := createCost(b.scratch)
	if err != nil {
		return r.failed(err)
	}
	r.note("limit: tar -xf of each layer into a fresh directory under %s, where creating a file takes %d µs (a slow filesystem lowers the limit)", b.work, cost.Microseconds())
	return r
}

// extractLayers writes each layer of a docker-archive to its own file
// (once, cached next to the archive) and returns them bottom first.
func extractLayers(archive string) ([]string, error) {
	dir := strings.TrimSuffix(archive, ".tar") + ".layers"
	list := filepath.Join(dir, "layers.json")
	var names []string
	if data, err := os.ReadFile(list); err == nil && json.Unmarshal(data, &names) == nil {
		return names, nil
	}
	order, count, err := layerOrder(archive)
	if err != nil {
		return nil, err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		// A member can serve several positions (identical layers).
		for k, i := range order[hdr.Name] {
			name := filepath.Join(tmp, fmt.Sprintf("%03d.tar", i))
			var err error
			if k == 0 {
				err = atomicWrite(name, func(w io.Writer) error {
					_, err := io.Copy(w, tr)
					return err
				})
			} else {
				err = os.Link(filepath.Join(tmp, fmt.Sprintf("%03d.tar", order[hdr.Name][0])), name)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	names = make([]string, count)
	for i := range names {
		names[i] = filepath.Join(dir, fmt.Sprintf("%03d.tar", i))
	}
	data, _ := json.Marshal(names)
	if err := os.WriteFile(filepath.Join(tmp, "layers.json"), data, 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return names, nil
}

// layerOrder maps a docker-archive's layer members to their positions,
// and counts the layers.
func layerOrder(archive string) (map[string][]int, int, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, 0, fmt.Errorf("%s has no manifest.json", archive)
		}
		if err != nil {
			return nil, 0, err
		}
		if hdr.Name != "manifest.json" {
			continue
		}
		var manifest []struct{ Layers []string }
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			return nil, 0, fmt.Errorf("%s: manifest.json: %w", archive, err)
		}
		if len(manifest) != 1 {
			return nil, 0, fmt.Errorf("%s: %d images in manifest.json", archive, len(manifest))
		}
		order := map[string][]int{}
		for i, l := range manifest[0].Layers {
			order[l] = append(order[l], i)
		}
		return order, len(manifest[0].Layers), nil
	}
}
