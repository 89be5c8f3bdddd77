package rootfs

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/tarsafe"
)

// StorePaths returns the store paths (storeDir/NAME, sorted) that img's
// file system holds once its layers are applied: a path a layer adds
// stays until a later layer's whiteout, opaque marker or replacement of a
// parent hides it. Every layer is read to its end and verified.
func StorePaths(ctx context.Context, img *archive.Image, storeDir string, opts tarsafe.Options) ([]string, error) {
	store := strings.TrimPrefix(path.Clean("/"+storeDir), "/")
	have := map[string]bool{}
	for i, l := range img.Layers {
		added, removed, all, err := layerStorePaths(ctx, l, store, opts)
		if err != nil {
			return nil, fmt.Errorf("layer %d %s: %w", i+1, shortDigest(l.DiffID), err)
		}
		// A layer's whiteouts hide lower layers only: remove, then add.
		if all {
			have = map[string]bool{}
		}
		for name := range removed {
			delete(have, name)
		}
		for name := range added {
			have[name] = true
		}
	}
	out := make([]string, 0, len(have))
	for name := range have {
		out = append(out, "/"+store+"/"+name)
	}
	sort.Strings(out)
	return out, nil
}

// layerStorePaths reads one layer: the store entries it adds, those its
// whiteouts remove, and whether it hides the whole lower store (an opaque
// marker or whiteout at or above the store directory, or a non-directory
// in its place).
func layerStorePaths(ctx context.Context, l *archive.Layer, store string, opts tarsafe.Options) (added, removed map[string]bool, all bool, err error) {
	r, err := l.Open()
	if err != nil {
		return nil, nil, false, err
	}
	defer r.Close()
	added, removed = map[string]bool{}, map[string]bool{}
	tr := tarsafe.NewReader(r, opts)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, false, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, false, err
		}
		e, err := tarsafe.Classify(hdr, opts)
		if err != nil {
			return nil, nil, false, err
		}
		above := e.Path == "" || e.Path == store || strings.HasPrefix(store, e.Path+"/")
		switch {
		case e.Kind == tarsafe.Ignored:
		case e.Kind == tarsafe.Whiteout || e.Kind == tarsafe.Opaque:
			if above {
				all = true
			} else if name, ok := storeName(e.Path, store); ok && e.Kind == tarsafe.Whiteout && !strings.Contains(name, "/") {
				removed[name] = true
			}
		case above:
			if e.Kind != tarsafe.Dir {
				// It replaces the store or a parent: what lower layers
				// and this one put in the store so far is gone.
				all = true
				clear(added)
			}
		default:
			if name, ok := storeName(e.Path, store); ok {
				name, _, _ = strings.Cut(name, "/")
				added[name] = true
			}
		}
	}
	if err := tr.Finish(); err != nil {
		return nil, nil, false, err
	}
	return added, removed, all, nil
}

// storeName returns p relative to the store directory.
func storeName(p, store string) (string, bool) {
	return strings.CutPrefix(p, store+"/")
}
