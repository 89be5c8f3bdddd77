package oci

import (
	"encoding/json"
	"slices"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// FuzzConfigPlatform: a config ConfigPlatform accepts names an os and an
// architecture, is its own platform, and its platform goes into an index
// and reads back from it unchanged; anything refused is one line wrapping
// ErrInvalidInput.
func FuzzConfigPlatform(f *testing.F) {
	for _, seed := range []string{
		`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`,
		`{"architecture":"arm","os":"linux","variant":"v7"}`,
		`{"architecture":"amd64","os":"windows","os.version":"10.0.17763.1","os.features":["win32k"]}`,
		`{"architecture":"arm64"}`,
		`{"os":"linux","architecture":7}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, config []byte) {
		p, err := ConfigPlatform(config)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		if p.OS == "" || p.Architecture == "" || !SamePlatform(p, p) || ComparePlatforms(p, p) != 0 {
			t.Fatalf("accepted %+v", p)
		}
		var idx v1.Index
		if err := json.Unmarshal(PlatformIndex([]PlatformImage{{Manifest: config, Platform: p}}), &idx); err != nil {
			t.Fatal(err)
		}
		back := idx.Manifests[0].Platform
		if back == nil || back.OS != p.OS || back.Architecture != p.Architecture || back.Variant != p.Variant ||
			back.OSVersion != p.OSVersion || !slices.Equal(back.OSFeatures, p.OSFeatures) && len(back.OSFeatures)+len(p.OSFeatures) > 0 {
			t.Fatalf("%+v reads back from the index as %+v", p, back)
		}
	})
}
