package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"dockertools.dev/imgkit/cli"
)

// The checks here are the harness's own, written from the Docker image
// spec rather than with the tools' library, so a broken tool cannot look
// fast by writing less, and cannot be excused by a shared bug.

// imageInfo is what a docker-archive holds, as checked by readImage.
type imageInfo struct {
	configDigest string   // sha256:… of the config member
	diffIDs      []string // from the config
	layers       []layerInfo
}

// layerInfo describes one layer tar of an archive.
type layerInfo struct {
	digest    string   // sha256 of the member as read
	size      int64    // bytes
	paths     []string // store paths with entries in the layer
	files     int      // regular files
	fileBytes int64    // their contents
}

// readImage reads a docker-archive stream and checks it: one image in
// manifest.json, a config whose name is its digest, as many diff_ids as
// layers, and every layer member's sha256 equal to its diff_id. Layer
// members are read as tars to see which store paths (under storeDir) they
// hold.
func readImage(r io.Reader, storeDir string) (*imageInfo, error) {
	tr := tar.NewReader(r)
	members := map[string]layerInfo{}
	blobs := map[string][]byte{} // small JSON members, by name
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading image archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		isLayer := strings.HasSuffix(hdr.Name, ".tar") || strings.HasPrefix(hdr.Name, "blobs/")
		if !isLayer && (strings.HasSuffix(hdr.Name, ".json") || hdr.Name == "repositories") {
			if hdr.Size > 64<<20 {
				return nil, fmt.Errorf("image archive: %s is %d bytes", hdr.Name, hdr.Size)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("reading image archive: %s: %w", hdr.Name, err)
			}
			blobs[hdr.Name] = data
			continue
		}
		if !isLayer {
			continue // legacy members such as <id>/VERSION
		}
		li, err := readLayer(tr, storeDir)
		if err != nil {
			return nil, fmt.Errorf("image archive: layer %s: %w", hdr.Name, err)
		}
		members[hdr.Name] = li
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(blobs["manifest.json"], &manifest); err != nil {
		return nil, fmt.Errorf("image archive: manifest.json: %w", err)
	}
	if len(manifest) != 1 {
		return nil, fmt.Errorf("image archive: %d images in manifest.json, want 1", len(manifest))
	}
	cfg, ok := blobs[manifest[0].Config]
	if !ok {
		return nil, fmt.Errorf("image archive: no config member %q", manifest[0].Config)
	}
	sum := sha256.Sum256(cfg)
	info := &imageInfo{configDigest: "sha256:" + hex.EncodeToString(sum[:])}
	if strings.TrimSuffix(path.Base(manifest[0].Config), ".json") != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("image archive: config %s has digest %s", manifest[0].Config, info.configDigest)
	}
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &config); err != nil {
		return nil, fmt.Errorf("image archive: config: %w", err)
	}
	info.diffIDs = config.RootFS.DiffIDs
	if len(info.diffIDs) != len(manifest[0].Layers) {
		return nil, fmt.Errorf("image archive: %d diff_ids for %d layers", len(info.diffIDs), len(manifest[0].Layers))
	}
	for i, name := range manifest[0].Layers {
		li, ok := members[name]
		if !ok {
			return nil, fmt.Errorf("image archive: no layer member %q", name)
		}
		if li.digest != info.diffIDs[i] {
			return nil, fmt.Errorf("image archive: layer %d (%s) has digest %s, its diff_id is %s", i, name, li.digest, info.diffIDs[i])
		}
		info.layers = append(info.layers, li)
	}
	return info, nil
}

// readLayer hashes a layer tar while listing it.
func readLayer(r io.Reader, storeDir string) (layerInfo, error) {
	h := sha256.New()
	cr := &cli.CountingReader{R: io.TeeReader(r, h)}
	tr := tar.NewReader(cr)
	var li layerInfo
	seen := map[string]bool{}
	prefix := strings.TrimPrefix(storeDir, "/") + "/"
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return li, err
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			top := storeDir + "/" + strings.SplitN(rest, "/", 2)[0]
			if !seen[top] {
				seen[top] = true
				li.paths = append(li.paths, top)
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			li.files++
			li.fileBytes += hdr.Size
		}
	}
	// The tar's end blocks and padding are part of the digest too.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return li, err
	}
	li.digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	li.size = cr.N
	return li, nil
}

// readImageFile is readImage on a file.
func readImageFile(name, storeDir string) (*imageInfo, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readImage(f, storeDir)
}

// node is one entry of a file tree, for comparing a flattened image with
// the store it came from.
type node struct {
	typ  byte // 'd', 'f', 'l'
	size int64
	link string
}

// treeOf lists the store under root (each hardlink as a file of its own,
// as in a layer).
func treeOf(root, storeDir string) (map[string]node, error) {
	tree := map[string]node{}
	base := filepath.Join(root, storeDir)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			tree[rel] = node{typ: 'd'}
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			tree[rel] = node{typ: 'l', link: target}
		case d.Type().IsRegular():
			tree[rel] = node{typ: 'f', size: fi.Size()}
		}
		return nil
	})
	return tree, err
}

// treeOfTar lists a rootfs tar. A hardlink counts as a file of its
// target's size. Entries outside the store are returned in other.
func treeOfTar(r io.Reader, storeDir string) (tree map[string]node, other int, err error) {
	tree = map[string]node{}
	tr := tar.NewReader(r)
	prefix := strings.TrimPrefix(storeDir, "/")
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return tree, other, nil
		}
		if err != nil {
			return nil, 0, err
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if name != prefix && !strings.HasPrefix(name, prefix+"/") {
			other++
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			tree[name] = node{typ: 'd'}
		case tar.TypeSymlink:
			tree[name] = node{typ: 'l', link: hdr.Linkname}
		case tar.TypeReg:
			tree[name] = node{typ: 'f', size: hdr.Size}
		case tar.TypeLink:
			target := strings.TrimPrefix(path.Clean("/"+hdr.Linkname), "/")
			t, ok := tree[target]
			if !ok || t.typ != 'f' {
				return nil, 0, fmt.Errorf("hardlink %s to %s, which is not an earlier file", name, hdr.Linkname)
			}
			tree[name] = t
		default:
			return nil, 0, fmt.Errorf("unexpected entry type %q for %s", hdr.Typeflag, name)
		}
	}
}

// diffTrees describes the first differences between two trees.
func diffTrees(want, got map[string]node) error {
	var diffs []string
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+name)
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s is %+v, want %+v", name, g, w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, "extra "+name)
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%d differences, e.g. %s", len(diffs), strings.Join(diffs[:min(3, len(diffs))], "; "))
}
