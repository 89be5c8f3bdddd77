package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/errdefs"
)

func TestChooseImage(t *testing.T) {
	entry := func(hexDigit string, mt types.MediaType, p *v1.Platform) v1.Descriptor {
		return v1.Descriptor{MediaType: mt, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(hexDigit, 64)}, Platform: p}
	}
	img := types.OCIManifestSchema1
	idx := &v1.IndexManifest{Manifests: []v1.Descriptor{
		entry("1", img, &v1.Platform{OS: "linux", Architecture: "amd64"}),
		entry("2", img, &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}),
		entry("3", img, &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}),
		entry("4", types.DockerManifestSchema2, &v1.Platform{OS: "linux", Architecture: "arm64"}),
		entry("5", img, &v1.Platform{OS: "unknown", Architecture: "unknown"}),
		entry("6", types.OCIImageIndex, &v1.Platform{OS: "linux", Architecture: "s390x"}),
		entry("7", img, &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763"}),
	}}
	nested := func(d v1.Descriptor) (*v1.IndexManifest, error) {
		if d.Digest.Hex[:1] != "6" {
			t.Fatalf("fetched %s", d.Digest)
		}
		return &v1.IndexManifest{Manifests: []v1.Descriptor{entry("8", img, &v1.Platform{OS: "linux", Architecture: "s390x"})}}, nil
	}
	for _, tc := range []struct {
		want string // os/arch[/variant]
		pick string // the hex digit of the chosen entry, "" for an error
	}{
		{"linux/amd64", "1"},
		{"linux/arm/v7", "3"},
		{"linux/arm/v6", "2"},
		{"linux/arm", "3"}, // arm is arm/v7, as docker, containerd and skopeo have it
		{"linux/arm64", "4"},
		{"linux/arm64/v8", "4"},
		{"windows/amd64", "7"},
		{"linux/arm/v5", ""},
		{"linux/s390x", "8"}, // in the nested index 6
		{"unknown/unknown", "5"},
		{"linux/riscv64", ""},
	} {
		p, err := v1.ParsePlatform(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ChooseImage(idx, *p, nested)
		if tc.pick == "" {
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("%s: error %v, want ErrNotFound", tc.want, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.want, err)
			continue
		}
		if d.Digest.Hex[:1] != tc.pick {
			t.Errorf("%s: chose entry %s, want %s", tc.want, d.Digest.Hex[:1], tc.pick)
		}
	}
	_, err := ChooseImage(idx, v1.Platform{OS: "linux", Architecture: "riscv64"}, nested)
	const msg = "no image for linux/riscv64 in the manifest list; it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64, linux/s390x, windows/amd64:10.0.17763: not found"
	if err == nil || err.Error() != msg {
		t.Errorf("error\n%v\nwant\n%s", err, msg)
	}
}

// TestChooseImagePrefersAsClients: each entry comes before the one
// docker, containerd and skopeo choose (what docker pull --platform and
// skopeo --override-arch/--override-variant chose from this index in a
// registry, in the order here): amd64 is plain amd64, not amd64/v3, which
// a v2 machine cannot run; arm is arm/v7, not the v6 listed first;
// arm/v7 takes v6 when there is no v7, arm64 takes arm64/v8 and never
// v9; the first of two entries for one platform wins; an attestation
// manifest is never chosen.
func TestChooseImagePrefersAsClients(t *testing.T) {
	entry := func(n int, p string) v1.Descriptor {
		pl, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064d", n)}, Platform: pl}
	}
	idx := &v1.IndexManifest{Manifests: []v1.Descriptor{
		entry(1, "unknown/unknown"),
		entry(2, "linux/arm/v6"),
		entry(3, "linux/amd64/v3"),
		entry(4, "linux/arm/v7"),
		entry(5, "linux/amd64"),
		entry(6, "linux/386"),
		entry(7, "linux/arm64/v9"),
		entry(8, "linux/arm64"),
		entry(9, "linux/arm64/v8"),
	}}
	onlyV6 := &v1.IndexManifest{Manifests: []v1.Descriptor{entry(1, "unknown/unknown"), entry(2, "linux/arm/v6"), entry(3, "linux/amd64/v2")}}
	for _, c := range []struct {
		idx  *v1.IndexManifest
		want string
		pick int // 0: none
	}{
		{idx, "linux/amd64", 5},
		{idx, "linux/amd64/v3", 3},
		{idx, "linux/amd64/v2", 5},
		{idx, "linux/amd64/v4", 3},
		{idx, "linux/arm", 4},
		{idx, "linux/arm/v7", 4},
		{idx, "linux/arm/v6", 2},
		{idx, "linux/arm/v5", 0},
		{idx, "linux/arm64", 8},
		{idx, "linux/arm64/v8", 8},
		{idx, "linux/arm64/v9", 7},
		{idx, "linux/386", 6},
		{onlyV6, "linux/arm", 2},
		{onlyV6, "linux/arm/v7", 2},
		{onlyV6, "linux/amd64", 0},
		{onlyV6, "linux/arm64", 0},
	} {
		p, _ := v1.ParsePlatform(c.want)
		d, err := ChooseImage(c.idx, *p, nil)
		got := 0
		if err == nil {
			fmt.Sscanf(d.Digest.Hex, "%d", &got)
		} else if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s: %v", c.want, err)
		}
		if got != c.pick {
			t.Errorf("%s: chose entry %d (%v), want %d", c.want, got, err, c.pick)
		}
	}
}

// TestChooseImageNested: an index whose entries are indexes (issue 15: "it
// has no images") is searched as clients do: an image entry of the index
// itself first, then the nested indexes whose platform is the one asked or
// not given, in order; the error lists what the nested ones offer; a chain
// longer than maxNestedLists is refused.
func TestChooseImageNested(t *testing.T) {
	hash := func(n int) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064d", n)} }
	image := func(n int, p string) v1.Descriptor {
		pl, _ := v1.ParsePlatform(p)
		return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: hash(n), Platform: pl}
	}
	list := func(n int, p *v1.Platform) v1.Descriptor {
		return v1.Descriptor{MediaType: types.OCIImageIndex, Digest: hash(n), Platform: p}
	}
	// 100 is the top; its entries' digests name the nested indexes below.
	indexes := map[int]*v1.IndexManifest{
		100: {Manifests: []v1.Descriptor{list(101, nil), list(102, &v1.Platform{OS: "linux", Architecture: "s390x"}), list(103, nil)}},
		101: {Manifests: []v1.Descriptor{image(1, "linux/arm64"), image(2, "unknown/unknown")}},
		102: {Manifests: []v1.Descriptor{image(3, "linux/s390x")}},
		103: {Manifests: []v1.Descriptor{image(4, "linux/amd64"), image(5, "linux/arm64")}},
	}
	var fetched []int
	fetch := func(d v1.Descriptor) (*v1.IndexManifest, error) {
		var n int
		fmt.Sscanf(d.Digest.Hex, "%d", &n)
		fetched = append(fetched, n)
		if idx, ok := indexes[n]; ok {
			return idx, nil
		}
		return nil, fmt.Errorf("no index %d: %w", n, errdefs.ErrNotFound)
	}
	for _, tc := range []struct {
		want    string
		pick    int
		fetched []int
	}{
		{"linux/arm64", 1, []int{101}},
		{"linux/amd64", 4, []int{101, 103}}, // 102 is for s390x: not fetched
		{"linux/s390x", 3, []int{101, 102}},
	} {
		fetched = nil
		p, _ := v1.ParsePlatform(tc.want)
		d, err := ChooseImage(indexes[100], *p, fetch)
		if err != nil || d.Digest != hash(tc.pick) || !slices.Equal(fetched, tc.fetched) {
			t.Errorf("%s: chose %s (%v) fetching %v, want %d fetching %v", tc.want, d.Digest.Hex, err, fetched, tc.pick, tc.fetched)
		}
	}
	_, err := ChooseImage(indexes[100], v1.Platform{OS: "linux", Architecture: "riscv64"}, fetch)
	const msg = "no image for linux/riscv64 in the manifest list; it has linux/amd64, linux/arm64, linux/s390x: not found"
	if err == nil || err.Error() != msg {
		t.Errorf("error\n%v\nwant\n%s", err, msg)
	}
	// An index whose entries are only indexes, none matching: it names
	// their platforms, not "no images".
	only := &v1.IndexManifest{Manifests: []v1.Descriptor{list(102, &v1.Platform{OS: "linux", Architecture: "s390x"})}}
	_, err = ChooseImage(only, v1.Platform{OS: "linux", Architecture: "amd64"}, fetch)
	if err == nil || !strings.Contains(err.Error(), "it has linux/s390x: not found") {
		t.Errorf("got %v", err)
	}
	// A fetch error is the error.
	broken := &v1.IndexManifest{Manifests: []v1.Descriptor{list(999, nil)}}
	if _, err := ChooseImage(broken, v1.Platform{OS: "linux", Architecture: "amd64"}, fetch); err == nil || !strings.Contains(err.Error(), "no index 999") {
		t.Errorf("got %v", err)
	}
	// A chain deeper than maxNestedLists.
	chain := func(d v1.Descriptor) (*v1.IndexManifest, error) {
		var n int
		fmt.Sscanf(d.Digest.Hex, "%d", &n)
		return &v1.IndexManifest{Manifests: []v1.Descriptor{list(n+1, nil)}}, nil
	}
	_, err = ChooseImage(&v1.IndexManifest{Manifests: []v1.Descriptor{list(1, nil)}}, v1.Platform{OS: "linux", Architecture: "amd64"}, chain)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "more than 8 manifest lists nested") {
		t.Errorf("chain: got %v", err)
	}
}

// TestChooseImageAliases: an index may name a platform by an alias Docker
// and containerd read as its Go name (x86_64, aarch64 and its variant 8,
// arm without a variant for arm/v7, an OS in capitals); the image is found
// for the platform it means, as docker pull finds it.
func TestChooseImageAliases(t *testing.T) {
	idx := &v1.IndexManifest{Manifests: []v1.Descriptor{
		{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)}, Platform: &v1.Platform{OS: "Linux", Architecture: "x86_64"}},
		{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("2", 64)}, Platform: &v1.Platform{OS: "linux", Architecture: "arm"}},
		{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("3", 64)}, Platform: &v1.Platform{OS: "linux", Architecture: "aarch64", Variant: "8"}},
	}}
	for want, pick := range map[string]string{"linux/amd64": "1", "linux/arm/v7": "2", "linux/arm": "2", "linux/arm64": "3", "linux/arm64/v8": "3"} {
		p, err := v1.ParsePlatform(want)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ChooseImage(idx, *p, nil)
		if err != nil {
			t.Errorf("%s: %v", want, err)
		} else if d.Digest.Hex[:1] != pick {
			t.Errorf("%s: chose entry %s, want %s", want, d.Digest.Hex[:1], pick)
		}
	}
}
