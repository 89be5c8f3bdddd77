package archive

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// twoIndexes writes an OCI layout whose index.json names two
// multi-platform images, base:a (386, amd64, arm/v6, arm64) and base:b
// (386, arm64), as two skopeo copy --all runs into one layout leave it,
// and opens it. Each image's one layer says which it is.
func twoIndexes(t *testing.T) *Archive {
	t.Helper()
	return indexesLayout(t, indexSpec{"a", []string{"linux/386", "linux/amd64", "linux/arm/v6", "linux/arm64"}, false}, indexSpec{"b", []string{"linux/386", "linux/arm64"}, false})
}

// indexSpec is a multi-platform image of indexesLayout: base:tag, with
// an image for each platform; with bare, its configs name no variant (the
// index entries do, as docker manifest annotate --variant leaves them).
type indexSpec struct {
	tag       string
	platforms []string
	bare      bool
}

// indexesLayout writes an OCI layout whose index.json names the
// multi-platform images given, in order, and opens it. Each image's one
// layer says which it is: "TAG OS/ARCH[/VARIANT]".
func indexesLayout(t *testing.T, specs ...indexSpec) *Archive {
	t.Helper()
	return layoutOfIndexes(t, false, specs)
}

// indexOfIndexes is indexesLayout with index.json naming one index, which
// names the multi-platform images: an index of indexes.
func indexOfIndexes(t *testing.T, specs ...indexSpec) *Archive {
	t.Helper()
	return layoutOfIndexes(t, true, specs)
}

func layoutOfIndexes(t *testing.T, nested bool, specs []indexSpec) *Archive {
	t.Helper()
	var buf bytes.Buffer
	lw := NewLayoutWriter(&buf)
	put := blobPutter(t, lw)
	var entries []string
	for _, img := range specs {
		var images []oci.PlatformImage
		for _, s := range img.platforms {
			p, err := oci.ParsePlatform(s)
			if err != nil {
				t.Fatal(err)
			}
			layer := append([]byte(img.tag+" "+s), make([]byte, 1024)...)
			variant := p.Variant
			if img.bare {
				variant = ""
			}
			config := []byte(`{"architecture":"` + p.Architecture + `","os":"linux","variant":"` + variant + `","rootfs":{"type":"layers","diff_ids":["` + oci.DigestOf(layer) + `"]}}`)
			put(layer)
			put(config)
			m := oci.Manifest(config, []layerstream.Blob{{MediaType: oci.LayerMediaType(compress.None), Digest: oci.DigestOf(layer), Size: int64(len(layer))}})
			put(m)
			images = append(images, oci.PlatformImage{Manifest: m, Platform: p})
		}
		index := oci.PlatformIndex(images)
		put(index)
		one := string(oci.LayoutIndex(index, "docker.io/library/base:"+img.tag, img.tag))
		entries = append(entries, one[strings.Index(one, `[`)+1:strings.LastIndex(one, `]`)])
	}
	indexJSON := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(entries, ",") + `]}`
	if nested {
		put([]byte(indexJSON))
		indexJSON = string(oci.LayoutIndex([]byte(indexJSON), "", ""))
	}
	for name, data := range map[string][]byte{"oci-layout": oci.LayoutFile, "index.json": []byte(indexJSON)} {
		if err := lw.File(name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	return openBytes(t, buf.Bytes())
}

// TestFindForPlatform: of a multi-platform image, FindFor takes the image
// for the platform, as clients choose from an index, where Find takes the
// first platform's: the one the name picks in a layout holding two, the
// first one without a name (in an index of indexes, the first tagged
// one's). A platform it lacks is not found, naming the platforms it has;
// an archive of single images is Find's.
func TestFindForPlatform(t *testing.T) {
	a := twoIndexes(t)
	if a.MultiPlatform || len(a.Images) != 6 {
		t.Fatalf("multi-platform %v, %d images", a.MultiPlatform, len(a.Images))
	}
	for _, c := range []struct {
		name, want, layer string // layer: the chosen image's, "" when none
	}{
		{"base:a", "linux/arm64", "a linux/arm64"},
		{"base:a", "linux/arm/v7", "a linux/arm/v6"},
		{"base:a", "linux/amd64", "a linux/amd64"},
		{"base:b", "linux/arm64", "b linux/arm64"},
		{"base:b", "linux/386", "b linux/386"},
		{"base:b", "linux/amd64", ""},
		{"", "linux/arm64", "a linux/arm64"},
	} {
		want, _ := oci.ParsePlatform(c.want)
		img, err := a.FindFor(c.name, "", want)
		if c.layer == "" {
			if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "no image for linux/amd64 (it has linux/386, linux/arm64)") {
				t.Errorf("%s for %s: %v, want not found", c.name, c.want, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s for %s: %v", c.name, c.want, err)
			continue
		}
		if got := string(bytes.TrimRight(readLayer(t, img.Layers[0]), "\x00")); got != c.layer {
			t.Errorf("%s for %s: chose %q, want %q", c.name, c.want, got, c.layer)
		}
	}
	single, _ := layoutOf(t, false, "linux/386")
	if img, err := single.FindFor("", "", v1.Platform{OS: "linux", Architecture: "arm64"}); err != nil || img != single.Images[0] {
		t.Errorf("a single image: %v, %v", img, err)
	}
	// Without a name, in an index of indexes, the first image's
	// multi-platform image is base:b, which has no arm64 image: base:c's
	// is not its (before, it was taken).
	nested := indexOfIndexes(t, indexSpec{"b", []string{"linux/386", "linux/amd64"}, false}, indexSpec{"c", []string{"linux/arm64"}, false})
	if img, err := nested.FindFor("", "", v1.Platform{OS: "linux", Architecture: "arm64"}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("index of indexes, no name, arm64: %v; want not found", err)
		if err == nil {
			t.Errorf("took the image tagged %q", img.RepoTags)
		}
	}
}

// TestFindDefaultLoneImage: FindDefault, for a platform nobody asked for,
// takes the image of a multi-platform image that holds one only, whatever
// its platform (as Find did before platforms were looked at), where
// FindFor refuses it; of several it is FindFor.
func TestFindDefaultLoneImage(t *testing.T) {
	a := indexesLayout(t, indexSpec{"a", []string{"linux/386", "linux/arm64"}, false}, indexSpec{"c", []string{"linux/s390x"}, false})
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	for _, c := range []struct {
		name  string
		want  v1.Platform
		layer string // "" when not found
	}{
		{"base:c", amd64, "c linux/s390x"},
		{"base:a", amd64, ""},
		{"base:a", v1.Platform{OS: "linux", Architecture: "arm64"}, "a linux/arm64"},
		{"", v1.Platform{OS: "linux", Architecture: "386"}, "a linux/386"},
	} {
		img, err := a.FindDefault(c.name, "", c.want)
		switch {
		case c.layer == "" && !errors.Is(err, errdefs.ErrNotFound):
			t.Errorf("%s for %s: %v, want not found", c.name, oci.PlatformString(c.want), err)
		case c.layer == "":
		case err != nil:
			t.Errorf("%s for %s: %v", c.name, oci.PlatformString(c.want), err)
		default:
			if got := string(bytes.TrimRight(readLayer(t, img.Layers[0]), "\x00")); got != c.layer {
				t.Errorf("%s for %s: chose %q, want %q", c.name, oci.PlatformString(c.want), got, c.layer)
			}
		}
	}
	if _, err := a.FindFor("base:c", "", amd64); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("FindFor of the lone s390x image for amd64: %v, want not found", err)
	}
}

// TestFindForEntryPlatform: FindFor chooses by the platform the index's
// entries give, as docker, containerd and skopeo do, when the configs
// name less (no variant): arm/v7 is the entry for arm/v7, not the arm/v6
// listed first, and amd64 plain amd64, not the amd64/v3 listed first
// (their configs all say arm, or amd64).
func TestFindForEntryPlatform(t *testing.T) {
	a := indexesLayout(t, indexSpec{"v", []string{"linux/arm/v6", "linux/arm/v7", "linux/amd64/v3", "linux/amd64"}, true})
	for want, layer := range map[string]string{
		"linux/arm/v7":   "v linux/arm/v7",
		"linux/arm":      "v linux/arm/v7",
		"linux/arm/v6":   "v linux/arm/v6",
		"linux/amd64":    "v linux/amd64",
		"linux/amd64/v3": "v linux/amd64/v3",
	} {
		p, _ := oci.ParsePlatform(want)
		img, err := a.FindFor("", "", p)
		if err != nil {
			t.Errorf("%s: %v", want, err)
			continue
		}
		if got := string(bytes.TrimRight(readLayer(t, img.Layers[0]), "\x00")); got != layer {
			t.Errorf("%s: chose %q, want %q", want, got, layer)
		}
	}
}

// TestImagesFor: a merge's images are each tagged multi-platform image's
// image for the platform (the layout's two, base:a and base:b, give one
// each, and so do two in an index of indexes), a platform one of them
// lacks an error; an untagged one gives its image for the platform too.
func TestImagesFor(t *testing.T) {
	a := twoIndexes(t)
	for _, c := range []struct {
		want   string
		layers []string // nil: not found
	}{
		{"linux/arm64", []string{"a linux/arm64", "b linux/arm64"}},
		{"linux/386", []string{"a linux/386", "b linux/386"}},
		{"linux/amd64", nil},
	} {
		p, _ := oci.ParsePlatform(c.want)
		imgs, err := a.ImagesFor(p, true)
		if c.layers == nil {
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("%s: %v, want not found", c.want, err)
			}
			continue
		}
		var got []string
		for _, img := range imgs {
			got = append(got, string(bytes.TrimRight(readLayer(t, img.Layers[0]), "\x00")))
		}
		if err != nil || strings.Join(got, ",") != strings.Join(c.layers, ",") {
			t.Errorf("%s: %q, %v; want %q", c.want, got, err, c.layers)
		}
	}
	// An index of two tagged multi-platform images: both go in (before,
	// the images of the one index index.json names were taken for one
	// multi-platform image, and base:b was dropped without a word).
	nested := indexOfIndexes(t, indexSpec{"a", []string{"linux/amd64", "linux/arm64"}, false}, indexSpec{"b", []string{"linux/amd64", "linux/arm64"}, false})
	imgs, err := nested.ImagesFor(v1.Platform{OS: "linux", Architecture: "arm64"}, false)
	var got []string
	for _, img := range imgs {
		got = append(got, string(bytes.TrimRight(readLayer(t, img.Layers[0]), "\x00")))
	}
	if err != nil || strings.Join(got, ",") != "a linux/arm64,b linux/arm64" {
		t.Errorf("nested: %q, %v", got, err)
	}
	untagged, _ := layoutOf(t, true, "linux/arm64", "linux/amd64")
	if imgs, err := untagged.ImagesFor(v1.Platform{OS: "linux", Architecture: "arm64"}, false); err != nil || len(imgs) != 1 || imgs[0].Platform == nil || imgs[0].Platform.Architecture != "arm64" {
		t.Errorf("untagged: %d images, %v", len(imgs), err)
	}
}
