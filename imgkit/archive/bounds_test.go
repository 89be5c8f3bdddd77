package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// TestOpenBoundsRepetition: a manifest naming the same config or layer
// over and over stands for far more than its bytes. Open refuses it with
// ErrTooLarge instead of reading it all into memory (a nested index named
// over and over is read once: TestOpenNestedIndexesOnce).
func TestOpenBoundsRepetition(t *testing.T) {
	layer := "layer bytes"
	diffIDs := func(n int) string {
		return fmt.Sprintf(`{"rootfs":{"type":"layers","diff_ids":[%s]}}`, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("%q,", sha([]byte(layer))), n), ","))
	}
	docker := func(cfg string, images, layers int) []tarMember {
		entry := fmt.Sprintf(`{"Config":"c.json","RepoTags":null,"Layers":[%s]}`, strings.TrimSuffix(strings.Repeat(`"l.tar",`, layers), ","))
		return []tarMember{
			{name: "l.tar", body: layer}, {name: "c.json", body: cfg},
			{name: "manifest.json", body: "[" + strings.TrimSuffix(strings.Repeat(entry+",", images), ",") + "]"},
		}
	}
	// A big config (3 MB of labels) named by 100 images: 300 MB to read.
	bigConfig := fmt.Sprintf(`{"config":{"Labels":{"x":%q}},"rootfs":{"type":"layers","diff_ids":[%q]}}`, strings.Repeat("x", 3<<20), sha([]byte(layer)))
	for _, tc := range []struct {
		name    string
		members []tarMember
		msg     string
	}{
		{"LayerRepeated", docker(diffIDs(65537), 1, 65537), "more than 65536 layers in all (image 1 has 65537)"},
		{"ImagesRepeated", docker(diffIDs(1), 16385, 1), "more than 16384 images"},
		{"ConfigRepeated", docker(bigConfig, 100, 1), `the manifests, indexes and configs read pass 268435456 bytes at "c.json"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Open(writeArchive(t, tc.members), nil)
			if err == nil {
				defer a.Close()
				t.Fatalf("Open succeeded: %d images", len(a.Images))
			}
			if !errors.Is(err, errdefs.ErrTooLarge) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Open: %v; want ErrTooLarge mentioning %q", err, tc.msg)
			}
		})
	}
}

// TestOpenNestedIndexesOnce: an index listing a nested index K times,
// five levels down (K^5 paths to one image manifest), is read once per
// index under each entry of index.json: one image per entry, not K^4, and
// a few kilobytes read.
func TestOpenNestedIndexesOnce(t *testing.T) {
	a, err := Open(writeArchive(t, nestedIndexes("layer bytes", 8, 4)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Images) != 8 || a.jsonRead > 64<<10 {
		t.Fatalf("%d images (want 8, one per index.json entry), %d bytes of manifests read", len(a.Images), a.jsonRead)
	}
}

// nestedIndexes is an OCI layout whose index.json lists an index k times,
// which lists the next one k times, depth levels down to one image
// manifest: k^(depth+1) images.
func nestedIndexes(layer string, k, depth int) []tarMember {
	var members []tarMember
	blob := func(v any) (string, int) {
		b, _ := json.Marshal(v)
		members = append(members, tarMember{name: blobPath(sha(b)), body: string(b)})
		return sha(b), len(b)
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	ld, ls := sha([]byte(layer)), len(layer)
	members = append(members, tarMember{name: blobPath(ld), body: layer})
	cd, cs := blob(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": []string{ld}}})
	d, s := blob(map[string]any{"schemaVersion": 2, "mediaType": mediaOCIManifest,
		"config": desc{"application/vnd.oci.image.config.v1+json", cd, cs},
		"layers": []desc{{"application/vnd.oci.image.layer.v1.tar", ld, ls}}})
	mt := mediaOCIManifest
	for i := 0; i <= depth; i++ {
		list := make([]desc, k)
		for j := range list {
			list[j] = desc{mt, d, s}
		}
		idx := map[string]any{"schemaVersion": 2, "mediaType": mediaOCIIndex, "manifests": list}
		if i == depth {
			b, _ := json.Marshal(idx)
			members = append(members, tarMember{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`}, tarMember{name: "index.json", body: string(b)})
			break
		}
		d, s = blob(idx)
		mt = mediaOCIIndex
	}
	return members
}

// TestOpenBoundsByDefault: Open, which manifest-gen --from-image and
// push-blob use, bounds decompression as tar-merge's default does: a
// compressed base archive of a few kilobytes could otherwise spool
// terabytes to $TMPDIR, and a compressed layer be copied out whole.
func TestOpenBoundsByDefault(t *testing.T) {
	dir := t.TempDir()
	layers, _ := fixtureLayers(t, dir)
	a, err := Open(makeImage(t, dir, layers, testkit.ImageOptions{Compress: "zstd", OCI: true, LayerCompress: "gzip"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := a.opts.Expanded.Max; got != 64<<30 {
		t.Fatalf("Open bounds decompression at %d bytes, want 64 GiB", got)
	}
}
