package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/storefs"
)

// maxLayoutJSON bounds each JSON file read from the layout being rebuilt
// (index.json, a manifest, a config): a layout manifest-gen wrote holds a
// few kilobytes of each, and DIR may be anyone's.
const maxLayoutJSON = 4 << 20

// storedForms returns, for each diff_id of the images index.json lists,
// the compressed blobs the layout stores that layer as: the layer
// descriptors of each manifest paired, in order, with its config's
// diff_ids. A compressed blob's name is the digest of the compressed
// bytes, so only the manifest and config a rebuild of this layout wrote
// tie it to its layer; they are trusted as the blobs are (see link). A
// layout whose JSON does not parse, or whose manifest and config disagree
// on the number of layers, pairs nothing: the rebuild then writes every
// compressed layer again, as a fresh build does.
func (o *oldLayout) storedForms() map[string][]layerstream.Blob {
	forms := map[string][]layerstream.Blob{}
	var index v1.Index
	if o.readJSON("index.json", &index) != nil {
		return forms
	}
	for _, m := range index.Manifests {
		if m.MediaType != v1.MediaTypeImageManifest || !o.holds(m.Digest.String(), m.Size) {
			continue
		}
		var manifest v1.Manifest
		var config struct {
			RootFS struct {
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if o.readJSON(blobPath(m.Digest.String()), &manifest) != nil ||
			!o.holds(manifest.Config.Digest.String(), manifest.Config.Size) ||
			o.readJSON(blobPath(manifest.Config.Digest.String()), &config) != nil ||
			len(config.RootFS.DiffIDs) != len(manifest.Layers) {
			continue
		}
		for i, l := range manifest.Layers {
			kind, ok := oci.LayerKind(l.MediaType)
			diffID, digest := config.RootFS.DiffIDs[i], l.Digest.String()
			if !ok || kind == compress.None || checkBlobDigest(diffID) != nil || !o.holds(digest, l.Size) {
				continue
			}
			forms[diffID] = append(forms[diffID], layerstream.Blob{MediaType: l.MediaType, Digest: digest, Size: l.Size})
		}
	}
	return forms
}

// pairs reports whether the layout's own manifest and config pair the
// compressed blob with diff_id (storedForms). A reference names both, but
// a stream may be crafted: a reference to one layer naming another
// layer's blob would give an image whose config lists a diff_id its
// manifest's blob does not have.
func (o *oldLayout) pairs(diffID string, blob layerstream.Blob) bool {
	if o.forms == nil {
		o.forms = o.storedForms()
	}
	return slices.Contains(o.forms[diffID], blob)
}

// holds reports whether the layout has the blob digest, of size bytes,
// as a regular file of mode 0644.
func (o *oldLayout) holds(digest string, size int64) bool {
	if checkBlobDigest(digest) != nil {
		return false
	}
	fi, ok := o.blobs[digest[len("sha256:"):]]
	return ok && fi.Size() == size && fi.Mode() == 0o644 && takenOnName(fi)
}

// takenOnName reports whether fi, a blob or layer tar that a rebuild
// takes on its name and size, unread, may be: a regular file of this
// user's that nobody else may write. One another user owns (a hard link
// to their file) they can rewrite at will, and every rebuild would carry
// their bytes under the digest its name gives.
func takenOnName(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && cli.OwnDir(fi, "") == nil
}

// readJSON decodes the file rel of the layout, opened beneath it without
// following a symlink on the way or at the end, and at most
// maxLayoutJSON bytes.
func (o *oldLayout) readJSON(rel string, v any) error {
	dirfd, err := unix.Open(o.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	fd, err := storefs.OpenBeneath(dirfd, rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", rel)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxLayoutJSON+1))
	if err != nil {
		return err
	}
	if len(data) > maxLayoutJSON {
		return fmt.Errorf("%s: larger than %d bytes", rel, maxLayoutJSON)
	}
	return json.Unmarshal(data, v)
}
