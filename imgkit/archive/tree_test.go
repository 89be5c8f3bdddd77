package archive

import (
	"slices"
	"testing"
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
