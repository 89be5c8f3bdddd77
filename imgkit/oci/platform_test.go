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

// TestSamePlatform: platforms are compared as containerd's Normalize
// (Docker's and containerd's choice of an image) has them: arm64's
// implicit variant is v8, arm's v7, x86_64 is amd64, aarch64 arm64, armhf
// arm/v7, os in any case, os.features a set; other variants, os versions
// and features tell platforms apart. An index holding two the client
// takes for one would serve either.
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
		{"ArmImplicitV7", p("linux", "arm", "", ""), p("linux", "arm", "v7", ""), true},
		{"ArmV7Digit", p("linux", "arm", "7", ""), p("linux", "arm", "v7", ""), true},
		{"Arm64Digit", p("linux", "arm64", "8", ""), p("linux", "arm64", "", ""), true},
		{"Arm64V9", p("linux", "arm64", "v9", ""), p("linux", "arm64", "", ""), false},
		{"X86_64", p("linux", "x86_64", "", ""), p("linux", "amd64", "", ""), true},
		{"AMD64V1", p("linux", "amd64", "v1", ""), p("linux", "amd64", "", ""), true},
		{"AMD64V2", p("linux", "amd64", "v2", ""), p("linux", "amd64", "", ""), false},
		{"Aarch64", p("linux", "aarch64", "", ""), p("linux", "arm64", "v8", ""), true},
		{"Armhf", p("linux", "armhf", "", ""), p("linux", "arm", "v7", ""), true},
		{"Armel", p("linux", "armel", "", ""), p("linux", "arm", "v7", ""), false},
		{"I386", p("linux", "i386", "", ""), p("linux", "386", "", ""), true},
		{"UpperCase", p("Linux", "AMD64", "", ""), p("linux", "amd64", "", ""), true},
		{"FeaturesAsSet", v1.Platform{OS: "windows", Architecture: "amd64", OSFeatures: []string{"a", "b", "a"}}, v1.Platform{OS: "windows", Architecture: "amd64", OSFeatures: []string{"b", "a"}}, true},
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

// TestComparePlatformsOnlyEqualTie: platforms written differently never
// compare equal (os.features included), so images sorted by platform are
// in one order whatever order they came in.
func TestComparePlatformsOnlyEqualTie(t *testing.T) {
	ps := []v1.Platform{
		{OS: "windows", Architecture: "amd64", OSFeatures: []string{"a"}},
		{OS: "windows", Architecture: "amd64", OSFeatures: []string{"b"}},
		{OS: "windows", Architecture: "amd64", OSFeatures: []string{"a", "b"}},
		{OS: "windows", Architecture: "amd64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "linux", Architecture: "arm64"},
	}
	for i, a := range ps {
		for j, b := range ps {
			if got := ComparePlatforms(a, b); (got == 0) != (i == j) || got != -ComparePlatforms(b, a) {
				t.Errorf("ComparePlatforms(%v, %v) = %d", a, b, got)
			}
		}
	}
}
