package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// benchPull: issue 6. scripts/pull-image of a multi-layer image from a
// local registry, against skopeo copy of the same image to a
// docker-archive.
func benchPull(ctx context.Context, b *bench) result {
	r := result{target: "ratio ≥ 1"}
	if err := needComponents("registry", "skopeo"); err != nil {
		return r.failed(err)
	}
	script, err := b.script("pull-image")
	if err != nil {
		return r.failed(err)
	}
	if _, err := b.tools("pull-blob", "manifest-gen"); err != nil {
		return r.failed(err)
	}
	s := b.sizes
	m, err := b.store("pull", s.imageBytes, s.imagePaths, s.imageFiles)
	if err != nil {
		return r.failed(err)
	}
	img, err := b.image(ctx, m, s.imageLayers, "bench/image", false)
	if err != nil {
		return r.failed(err)
	}
	reg, digest, err := b.servedImage(ctx, img)
	if err != nil {
		return r.failed(err)
	}
	name := reg.Addr + "/bench/image"
	oursOut, skopeoOut := filepath.Join(b.scratch, "pull-ours.tar"), filepath.Join(b.scratch, "pull-skopeo.tar")
	pull := []stage{command("pull-image", script, "--image-name", name, "--image-digest", digest,
		"--final-image-name", "bench/image", "--final-image-tag", "latest", "--tls-verify=false", "-o", oursOut)}
	copy := []stage{command("skopeo", "skopeo", "copy", "--quiet", "--src-tls-verify=false",
		"docker://"+name+"@"+digest, "docker-archive:"+skopeoOut+":bench/image:latest")}

	defer os.Remove(oursOut)
	defer os.Remove(skopeoOut)
	ours, limit, err := compare(b.runs,
		func() (sample, error) {
			os.Remove(skopeoOut)
			return b.run(ctx, copy, nil, nil)
		},
		func(i int) (sample, error) {
			os.Remove(oursOut)
			o, err := b.run(ctx, pull, nil, nil)
			if err == nil && i == 0 {
				err = samePulls(oursOut, skopeoOut, img.info, m.StoreDir)
			}
			return o, err
		})
	if err != nil {
		return r.failed(err)
	}
	fi, err := os.Stat(img.archive)
	if err != nil {
		return r.failed(err)
	}
	r.throughput(fi.Size(), ours, limit)
	r.met = r.ratio >= 1
	r.note("image: %s in %d layers, pushed gzip-compressed by skopeo; rates are of the uncompressed image; pull-image %.2f s, skopeo copy %.2f s",
		fmtBytes(fi.Size()), len(img.info.layers), ours.best.seconds(), limit.best.seconds())
	r.note("checked: both archives have the pushed config digest %s and its diff_ids, every layer rehashed", img.info.configDigest)
	return r
}

// samePulls checks that our pull and skopeo's hold the image that was
// pushed: same config digest, same diff_ids, layers matching them.
func samePulls(ours, skopeo string, pushed *imageInfo, storeDir string) error {
	for _, c := range []struct{ who, file string }{{"pull-image", ours}, {"skopeo", skopeo}} {
		info, err := readImageFile(c.file, storeDir)
		if err != nil {
			return fmt.Errorf("%s's archive: %w", c.who, err)
		}
		if info.configDigest != pushed.configDigest || !slices.Equal(info.diffIDs, pushed.diffIDs) {
			return fmt.Errorf("%s's archive has config %s and %d diff_ids, the pushed image %s and %d", c.who, info.configDigest, len(info.diffIDs), pushed.configDigest, len(pushed.diffIDs))
		}
	}
	return nil
}
