package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// TestTreeOfDockerSave: the tree of a containerd-store save is every
// manifest once, each after what it names, the index last; every config
// and layer once, the images' layers with their diff_ids (Layer), the
// attestations' blobs without; and what docker save left out, Missing.
func TestTreeOfDockerSave(t *testing.T) {
	a := openBytes(t, containerdSave(t, "linux/amd64", savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64"}))
	tree, err := a.Tree(a.Images[0].Index)
	if err != nil {
		t.Fatal(err)
	}
	// Two images, and one attestation manifest: containerdSave's two are
	// the same bytes (listed twice, with other annotations).
	if len(tree.Docs) != 4 || tree.Docs[3].Digest != a.Images[0].Index || len(tree.Missing) != 0 {
		t.Fatalf("docs %d (last %s, want the index %s), missing %v", len(tree.Docs), tree.Docs[len(tree.Docs)-1].Digest, a.Images[0].Index, tree.Missing)
	}
	var diffIDs, layers []string
	for _, img := range a.Images {
		diffIDs = append(diffIDs, img.Layers[0].DiffID)
	}
	for _, b := range tree.Blobs {
		if b.Layer != nil {
			layers = append(layers, b.Layer.DiffID)
		}
	}
	// The images' one layer each; the attestation's statement and the
	// configs are no image layers (Tree hashed them).
	slices.Sort(diffIDs)
	slices.Sort(layers)
	if !slices.Equal(layers, diffIDs) || len(tree.Blobs) != 6 {
		t.Errorf("%d blobs, image layers %v, want 6 and %v", len(tree.Blobs), layers, diffIDs)
	}

	partial := openBytes(t, containerdSave(t, "linux/amd64", savedPlatform{platform: "linux/amd64"}, savedPlatform{platform: "linux/arm64", noLayer: true}))
	tree, err = partial.Tree(partial.Images[0].Index)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Missing) != 1 {
		t.Errorf("missing %v, want arm64's layer", tree.Missing)
	}
}

// rewriteSave reads the regular members of a tar, lets edit change them
// (and add special ones: a symlink, a FIFO), and writes them back sorted.
func rewriteSave(t *testing.T, data []byte, edit func(members map[string][]byte, special map[string]*tar.Header)) []byte {
	t.Helper()
	members, special := map[string][]byte{}, map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			members[h.Name], _ = io.ReadAll(tr)
		}
	}
	edit(members, special)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range slices.Sorted(maps.Keys(members)) {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o444, Size: int64(len(members[n])), Typeflag: tar.TypeReg})
		tw.Write(members[n])
	}
	for _, n := range slices.Sorted(maps.Keys(special)) {
		tw.WriteHeader(special[n])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withAttestation returns the save with its index's first attestation
// manifest descriptor changed by edit (the index and index.json
// rewritten to match), and the attestation's original descriptor.
func withAttestation(t *testing.T, members map[string][]byte, edit func(d map[string]any)) map[string]any {
	t.Helper()
	var top, index map[string]any
	json.Unmarshal(members["index.json"], &top)
	root := top["manifests"].([]any)[0].(map[string]any)
	json.Unmarshal(members[blobPath(root["digest"].(string))], &index)
	var att map[string]any
	for _, m := range index["manifests"].([]any) {
		if d := m.(map[string]any); d["platform"].(map[string]any)["os"] == "unknown" {
			att = maps.Clone(d)
			edit(d)
			break
		}
	}
	raw := mustMarshal(t, index)
	members[blobPath(oci.DigestOf(raw))] = raw
	root["digest"], root["size"] = oci.DigestOf(raw), len(raw)
	members["index.json"] = mustMarshal(t, top)
	return att
}

// TestTreeOddBlobs: a descriptor of another digest algorithm (sha512, as
// the image-spec allows) is refused in one error naming it, not taken as
// a blob the save lacks; a blob stored as a FIFO is refused; one stored
// as a symlink to a member holding its bytes is read through it, one
// linked to other bytes refused as a digest that lies.
func TestTreeOddBlobs(t *testing.T) {
	save := containerdSave(t, "linux/amd64", savedPlatform{platform: "linux/amd64"})
	treeOf := func(edit func(members map[string][]byte, special map[string]*tar.Header)) (*Tree, error) {
		a := openBytes(t, rewriteSave(t, save, edit))
		return a.Tree(a.Images[0].Index)
	}
	sha512 := "sha512:" + strings.Repeat("ab", 64)
	_, err := treeOf(func(members map[string][]byte, _ map[string]*tar.Header) {
		withAttestation(t, members, func(d map[string]any) { d["digest"] = sha512 })
	})
	if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), sha512+`" is not a sha256 digest`) {
		t.Errorf("sha512 descriptor: %v", err)
	}

	// The attestation manifest's blob as a FIFO, then as links.
	var att string
	_, err = treeOf(func(members map[string][]byte, special map[string]*tar.Header) {
		att = withAttestation(t, members, func(map[string]any) {})["digest"].(string)
		delete(members, blobPath(att))
		special[blobPath(att)] = &tar.Header{Name: blobPath(att), Mode: 0o644, Typeflag: tar.TypeFifo}
	})
	if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("FIFO blob: %v", err)
	}
	tree, err := treeOf(func(members map[string][]byte, special map[string]*tar.Header) {
		members["elsewhere"] = members[blobPath(att)]
		delete(members, blobPath(att))
		special[blobPath(att)] = &tar.Header{Name: blobPath(att), Linkname: "../../elsewhere", Mode: 0o777, Typeflag: tar.TypeSymlink}
	})
	if err != nil || len(tree.Missing) != 0 || !slices.ContainsFunc(tree.Docs, func(d TreeDoc) bool { return d.Digest == att }) {
		t.Errorf("symlinked blob: %v", err)
	}
	_, err = treeOf(func(members map[string][]byte, special map[string]*tar.Header) {
		members["elsewhere"] = append(slices.Clone(members[blobPath(att)][:len(members[blobPath(att)])-1]), ' ')
		delete(members, blobPath(att))
		special[blobPath(att)] = &tar.Header{Name: blobPath(att), Linkname: "../../elsewhere", Mode: 0o777, Typeflag: tar.TypeSymlink}
	})
	if !errors.Is(err, errdefs.ErrDigestMismatch) {
		t.Errorf("symlink to other bytes: %v", err)
	}
}
