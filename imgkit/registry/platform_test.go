package registry

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"dockertools.dev/imgkit/errdefs"
)

func TestSelectPlatform(t *testing.T) {
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
	for _, tc := range []struct {
		want string // os/arch[/variant]
		pick string // the hex digit of the chosen entry, "" for an error
	}{
		{"linux/amd64", "1"},
		{"linux/arm/v7", "3"},
		{"linux/arm/v6", "2"},
		{"linux/arm", "2"},
		{"linux/arm64", "4"},
		{"linux/arm64/v8", "4"},
		{"windows/amd64", "7"},
		{"linux/arm/v5", ""},
		{"linux/s390x", ""}, // a nested index is not an image
		{"unknown/unknown", "5"},
		{"linux/riscv64", ""},
	} {
		p, err := v1.ParsePlatform(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		d, err := SelectPlatform(idx, *p)
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
	_, err := SelectPlatform(idx, v1.Platform{OS: "linux", Architecture: "riscv64"})
	const msg = "no image for linux/riscv64 in the manifest list; it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64, windows/amd64:10.0.17763: not found"
	if err == nil || err.Error() != msg {
		t.Errorf("error\n%v\nwant\n%s", err, msg)
	}
}
