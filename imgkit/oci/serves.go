package oci

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/errdefs"
)

// Serves reports whether an image for platform have is one a client asking
// for want takes from an index, and how much it prefers it: rank 0 for
// want's own platform, 1, 2, … for the older variants of want's
// architecture that run where want runs, in the order containerd's
// platforms.Only prefers them (arm/v7 takes v7, then v6, then v5; amd64/v3
// takes v3, v2, then plain amd64; arm64/v8.2 takes v8.2, v8.1, v8, and
// arm64/v9 v9, then v8.5 down to v8). Platforms compare in their
// NormalizePlatform forms, so arm is arm/v7 and arm64 arm64/v8; a newer
// variant is never taken, nor another one of an architecture whose
// variants are not ordered (they must be want's): docker, containerd and
// skopeo all take plain amd64 for amd64, never amd64/v3 (whose code a v2
// machine cannot run), and arm/v7 for arm, not the arm/v6 an index lists
// first.
//
// Unlike containerd it takes no other architecture (386 for amd64, arm for
// arm64): the image chosen is built upon or pulled for want, not run on
// a machine that can also run those, and skopeo, which nixpkgs' pullImage
// runs, takes none either. The os.version and os.features are not compared.
func Serves(have, want v1.Platform) (rank int, ok bool) {
	h, w := NormalizePlatform(have), NormalizePlatform(want)
	if h.OS != w.OS || h.Architecture != w.Architecture {
		return 0, false
	}
	for i, v := range variantsServing(w.Architecture, w.Variant) {
		if h.Variant == v {
			return i, true
		}
	}
	return 0, false
}

// variantsServing lists the variants, normalised, whose images run where
// arch/variant runs, best first (containerd's platformVector within one
// architecture).
func variantsServing(arch, variant string) []string {
	switch arch {
	case "amd64", "arm":
		n, err := strconv.Atoi(strings.TrimPrefix(variant, "v"))
		lowest := 5 // arm/v5
		if arch == "amd64" {
			lowest = 1
		}
		if err != nil || variant != "v"+strconv.Itoa(n) || n < lowest || n > 99 {
			return []string{variant}
		}
		var out []string
		for ; n >= lowest; n-- {
			out = append(out, "v"+strconv.Itoa(n))
		}
		if arch == "amd64" {
			out[len(out)-1] = "" // amd64/v1 is plain amd64
		}
		return out
	case "arm64":
		return arm64Serving(variant)
	}
	return []string{variant}
}

// arm64Serving is variantsServing for arm64: an ARMv8.m machine runs v8.m
// down to v8 (v8.0), an ARMv9.m one v9.m down to v9 and then v8.(m+5) down
// to v8, as containerd's arm64 table has it.
func arm64Serving(variant string) []string {
	var major, minor int
	if _, err := fmt.Sscanf(variant, "v%d.%d", &major, &minor); err != nil {
		minor = 0
		if _, err := fmt.Sscanf(variant, "v%d", &major); err != nil || variant != "v"+strconv.Itoa(major) {
			return []string{variant}
		}
	} else if variant != fmt.Sprintf("v%d.%d", major, minor) {
		return []string{variant}
	}
	if minor < 0 || minor > 9 || (major == 9 && minor > 7) { // containerd's table ends at v8.9 and v9.7
		return []string{variant}
	}
	down := func(major, minor int) []string {
		var out []string
		for ; minor > 0; minor-- {
			out = append(out, fmt.Sprintf("v%d.%d", major, minor))
		}
		return append(out, fmt.Sprintf("v%d", major))
	}
	switch major {
	case 8:
		return down(8, minor)
	case 9:
		return append(down(9, minor), down(8, min(minor+5, 9))...)
	}
	return []string{variant}
}

// HostPlatform is the platform an image is chosen for by default: linux
// (images are Linux images wherever the tool runs), the host's
// architecture, and for 32-bit arm the GOARM variant the tool was built
// for, as nixpkgs' defaultArchitecture and defaultVariant.
func HostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "GOARM" && s.Value != "" {
					p.Variant = "v" + strings.TrimSuffix(strings.TrimSuffix(s.Value, ",softfloat"), ",hardfloat")
				}
			}
		}
	}
	return p
}

// ParsePlatform reads a platform as docker --platform writes it,
// OS/ARCH[/VARIANT], each part lower-case letters and digits with "_", "."
// or "-" inside (Go's and the image-spec's names: linux, amd64, v7). The
// error wraps errdefs.ErrInvalidInput.
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || len(s) > 128 {
		return v1.Platform{}, fmt.Errorf("%s is not a platform OS/ARCH[/VARIANT] (linux/amd64, linux/arm/v7): %w", errdefs.Quote(s), errdefs.ErrInvalidInput)
	}
	for _, p := range parts {
		if !platformName(p) {
			return v1.Platform{}, fmt.Errorf("%s is not a platform: %s is not a platform name (lower-case letters and digits, with _ . - inside): %w", errdefs.Quote(s), errdefs.Quote(p), errdefs.ErrInvalidInput)
		}
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// platformName reports whether s is lower-case letters and digits, with
// "_", "." or "-" between them.
func platformName(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case (r == '_' || r == '.' || r == '-') && i > 0 && i < len(s)-1 && strings.IndexByte("_.-", s[i-1]) < 0:
		default:
			return false
		}
	}
	return s != ""
}
