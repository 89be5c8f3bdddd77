package oci

import (
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestServes: which images a client asking for a platform takes, and in
// which order it prefers them, as containerd's platforms.Only ranks them
// within one architecture (docker and skopeo agree where they take an
// image at all: arm is arm/v7 first, amd64 is plain amd64, never v3).
func TestServes(t *testing.T) {
	parse := func(s string) v1.Platform {
		f := strings.Split(s, "/")
		p := v1.Platform{OS: f[0], Architecture: f[1]}
		if len(f) > 2 {
			p.Variant = f[2]
		}
		return p
	}
	for _, c := range []struct {
		want string
		// takes lists what want takes, best first; refuses what it does not.
		takes, refuses []string
	}{
		{"linux/amd64", []string{"linux/x86_64/v1"}, []string{"linux/amd64/v2", "linux/amd64/v3", "linux/386", "windows/amd64"}},
		{"linux/amd64/v3", []string{"linux/amd64/v3", "linux/amd64/v2", "linux/amd64"}, []string{"linux/amd64/v4", "linux/386"}},
		{"linux/amd64/v1", []string{"linux/amd64"}, []string{"linux/amd64/v2"}},
		{"linux/arm", []string{"linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}, []string{"linux/arm/v8", "linux/arm64"}},
		{"linux/arm/v7", []string{"linux/arm", "linux/armel", "linux/arm/5"}, []string{"linux/arm/v8"}},
		{"linux/arm/v6", []string{"linux/arm/v6", "linux/arm/v5"}, []string{"linux/arm/v7", "linux/arm"}},
		{"linux/arm/v5", []string{"linux/arm/v5"}, []string{"linux/arm/v6"}},
		{"linux/arm/v8", []string{"linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}, nil},
		{"linux/arm64", []string{"linux/arm64/v8"}, []string{"linux/arm64/v8.1", "linux/arm64/v9", "linux/arm/v7"}},
		{"linux/aarch64/v8.0", []string{"linux/arm64"}, []string{"linux/arm64/v8.1"}},
		{"linux/arm64/v8.2", []string{"linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64"}, []string{"linux/arm64/v8.3", "linux/arm64/v9"}},
		{"linux/arm64/v9", []string{"linux/arm64/v9", "linux/arm64/v8.5", "linux/arm64/v8.4", "linux/arm64/v8.3", "linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64/v8"}, []string{"linux/arm64/v8.6", "linux/arm64/v9.1"}},
		{"linux/arm64/v9.1", []string{"linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.6"}, []string{"linux/arm64/v8.7"}},
		{"linux/arm64/v10", []string{"linux/arm64/v10"}, []string{"linux/arm64/v9", "linux/arm64"}},
		{"linux/riscv64", []string{"linux/riscv64"}, []string{"linux/riscv64/rva22"}},
		{"linux/amd64/v02", []string{"linux/amd64/v02"}, []string{"linux/amd64/v2", "linux/amd64"}},
		{"linux/arm/v07", []string{"linux/arm/v07"}, []string{"linux/arm/v7"}},
		{"linux/386", []string{"linux/i386"}, []string{"linux/amd64"}},
		{"Linux/AMD64", []string{"linux/x86_64"}, nil},
	} {
		want := parse(c.want)
		prev := -1
		for _, h := range c.takes {
			rank, ok := Serves(parse(h), want)
			if !ok || rank <= prev {
				t.Errorf("%s: %s: rank %d, %v; want it taken after rank %d", c.want, h, rank, ok, prev)
			}
			prev = rank
		}
		for _, h := range c.refuses {
			if rank, ok := Serves(parse(h), want); ok {
				t.Errorf("%s: takes %s (rank %d)", c.want, h, rank)
			}
		}
	}
}

// TestParsePlatform: OS/ARCH[/VARIANT] of lower-case names, nothing else.
func TestParsePlatform(t *testing.T) {
	for s, want := range map[string]*v1.Platform{
		"linux/amd64":                       {OS: "linux", Architecture: "amd64"},
		"linux/arm/v7":                      {OS: "linux", Architecture: "arm", Variant: "v7"},
		"linux/arm64/v8.2":                  {OS: "linux", Architecture: "arm64", Variant: "v8.2"},
		"linux/x86_64":                      {OS: "linux", Architecture: "x86_64"},
		"linux":                             nil,
		"linux/":                            nil,
		"/amd64":                            nil,
		"linux/arm/v7/x":                    nil,
		"Linux/amd64":                       nil,
		"linux/amd64/-v2":                   nil,
		"linux/amd64/v2-":                   nil,
		"linux/a--b":                        nil,
		"linux/amd64 ":                      nil,
		"linux/amd64\n":                     nil,
		"linux/" + strings.Repeat("a", 200): nil,
	} {
		got, err := ParsePlatform(s)
		switch {
		case want == nil && err == nil:
			t.Errorf("%q: %+v, want an error", s, got)
		case want != nil && (err != nil || got.OS != want.OS || got.Architecture != want.Architecture || got.Variant != want.Variant):
			t.Errorf("%q: %+v, %v; want %+v", s, got, err, *want)
		}
	}
}
