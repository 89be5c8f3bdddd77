package archive

import (
	"strings"
	"testing"
)

// TestValidNameFullLength: docker load and podman load count a name's 255
// bytes in its full form, "docker.io/library/" added to a one-component
// name, "docker.io/" to a Docker Hub user's. A 238-byte "aaa…" passed
// and the archive written with it loaded nowhere ("repository name must
// not be more than 255 characters").
func TestValidNameFullLength(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for name, want := range map[string]bool{
		a(237):                              true,
		a(238):                              false,
		a(255):                              false,
		"x/" + a(243):                       true,
		"x/" + a(244):                       false,
		"localhost/" + a(245):               true,
		"localhost/" + a(246):               false,
		"registry.example:5000/" + a(233):   true,
		"registry.example:5000/" + a(234):   false,
		"docker.io/" + a(237):               true,
		"docker.io/" + a(238):               false,
		"index.docker.io/library/" + a(237): true,
		"index.docker.io/library/" + a(238): false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%d bytes %.30q…) = %v, want %v", len(name), name, got, want)
		}
	}
}

// TestValidNameUpperCaseHost: "Foo/bar" is a name docker reads with the
// registry host "Foo", and podman load and skopeo refuse ("repository
// name must be lowercase"): build-index --tag Foo/bar:1 wrote an archive
// podman refused and containerd named "docker.io/Foo/bar:1". A host with
// a dot or a port may have upper case: every client reads it as a host.
func TestValidNameUpperCaseHost(t *testing.T) {
	for name, want := range map[string]bool{
		"Foo/bar":                  false,
		"LOCALHOST/bar":            false,
		"localhost/bar":            true,
		"Registry.Example/bar":     true,
		"Registry:5000/bar":        true,
		"foo/bar":                  true,
		"registry.example/Foo/bar": false,
		"[::1]:5000/bar":           true,
		"registry.example/foo/Bar": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
