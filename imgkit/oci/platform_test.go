package oci

import (
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPlatformIndexOrder: the index's bytes do not depend on the order the
// images come in, and lists them by platform.
func TestPlatformIndexOrder(t *testing.T) {
	amd64 := PlatformImage{Manifest: []byte(`{"a":1}`), Platform: v1.Platform{OS: "linux", Architecture: "amd64"}}
	arm := PlatformImage{Manifest: []byte(`{"a":2}`), Platform: v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}}
	arm64 := PlatformImage{Manifest: []byte(`{"a":3}`), Platform: v1.Platform{OS: "linux", Architecture: "arm64"}}
	one := PlatformIndex([]PlatformImage{arm64, amd64, arm})
	two := PlatformIndex([]PlatformImage{arm, arm64, amd64})
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + DigestOf(amd64.Manifest) + `","size":7,"platform":{"architecture":"amd64","os":"linux"}},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + DigestOf(arm.Manifest) + `","size":7,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + DigestOf(arm64.Manifest) + `","size":7,"platform":{"architecture":"arm64","os":"linux"}}]}`
	if string(one) != want || string(two) != want {
		t.Errorf("index\n%s\n%s\nwant\n%s", one, two, want)
	}
}

// TestSamePlatform: arm64's implicit variant is v8; other variants, os
// versions and features tell platforms apart.
func TestSamePlatform(t *testing.T) {
	p := func(os, arch, variant, version string) v1.Platform {
		return v1.Platform{OS: os, Architecture: arch, Variant: variant, OSVersion: version}
	}
	for _, c := range []struct {
		name string
		a, b v1.Platform
		same bool
	}{
		{"ArmImplicitV8", p("linux", "arm64", "", ""), p("linux", "arm64", "v8", ""), true},
		{"ArmV7V6", p("linux", "arm", "v7", ""), p("linux", "arm", "v6", ""), false},
		{"ArmNoVariantV7", p("linux", "arm", "", ""), p("linux", "arm", "v7", ""), false},
		{"OS", p("linux", "amd64", "", ""), p("windows", "amd64", "", ""), false},
		{"OSVersion", p("windows", "amd64", "", "10.0.1"), p("windows", "amd64", "", "10.0.2"), false},
		{"Features", p("linux", "amd64", "", ""), v1.Platform{OS: "linux", Architecture: "amd64", OSFeatures: []string{"x"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := SamePlatform(c.a, c.b); got != c.same {
				t.Errorf("SamePlatform(%v, %v) = %v", c.a, c.b, got)
			}
		})
	}
}
