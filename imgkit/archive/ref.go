package archive

import (
	"fmt"
	"regexp"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// SplitRef splits "name:tag" into name and tag; the tag is "latest" when
// the reference has none. A colon before the last slash belongs to a
// registry port ("localhost:5000/app" has no tag). A digest ("@sha256:…")
// is dropped.
func SplitRef(ref string) (name, tag string) {
	if at := strings.IndexByte(ref, '@'); at >= 0 {
		ref = ref[:at]
	}
	slash := strings.LastIndexByte(ref, '/')
	if c := strings.LastIndexByte(ref, ':'); c > slash {
		return ref[:c], ref[c+1:]
	}
	return ref, "latest"
}

// refTag returns the tag of a reference, "latest" when it has none.
func refTag(ref string) string {
	_, tag := SplitRef(ref)
	return tag
}

// Normalize returns a reference in Docker's full form,
// "docker.io/library/busybox:latest" for "busybox": a first component
// without a dot or colon (and not "localhost") is not a registry, so
// docker.io is added, and "library/" for a single-component name.
func Normalize(ref string) string {
	name, tag := SplitRef(ref)
	return normalizeName(name) + ":" + tag
}

// normalizeName is Normalize's for a repository name without a tag.
func normalizeName(name string) string {
	first, rest, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return "docker.io/library/" + name
	case first == "index.docker.io" || first == "docker.io":
		if !strings.Contains(rest, "/") {
			return "docker.io/library/" + rest
		}
		return "docker.io/" + rest
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		return "docker.io/" + name
	}
	return name
}

// The reference grammar of the distribution project (the one docker load,
// docker tag and skopeo parse names and tags with): an optional registry
// host[:port]/ (letters of either case, as Docker's), then lower-case path
// components joined by "/".
var (
	nameRE = regexp.MustCompile(`^(?:` +
		`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?/)?` + // registry host
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*` + // path components
		`(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// MaxNameLen is the longest repository name Docker accepts, in its full
// form (Normalize's).
const MaxNameLen = 255

// ValidName reports whether name is a repository name Docker accepts:
// the reference grammar's, at most MaxNameLen bytes in its full form. A
// first component with a dot, a colon or an upper-case letter is a
// registry host ("localhost:5000/app"); the path is lower case.
//
// The length is the full form's: docker load and podman load (and
// skopeo) check the name after adding "docker.io/" and "library/", so a
// 238-byte "aaa…" (256 bytes as "docker.io/library/aaa…") loads nowhere,
// and "localhost/" with 245 bytes after it does.
//
// A first component that is a registry host only by its upper case
// ("Foo/bar": no dot, no colon) is refused: docker reads it as a host,
// podman and skopeo as a Docker Hub repository that is not lower case,
// and refuse it; containerd imported it as "docker.io/Foo/bar".
func ValidName(name string) bool {
	if first, _, ok := strings.Cut(name, "/"); ok && !strings.ContainsAny(first, ".:") && strings.ToLower(first) != first {
		return false
	}
	return nameRE.MatchString(name) && len(normalizeName(name)) <= MaxNameLen
}

// ValidTag reports whether tag is a tag Docker accepts: up to 128
// letters, digits, "_", "." and "-", not starting with "." or "-".
func ValidTag(tag string) bool { return tagRE.MatchString(tag) }

// CheckRef checks a NAME[:TAG] reference as SplitRef splits it (a tag
// "latest" when none, a digest dropped): docker load refuses an archive
// whose manifest.json names a tag it does not accept, so an archive
// written with one loads nowhere. The error wraps errdefs.ErrInvalidInput.
func CheckRef(ref string) error {
	name, tag := SplitRef(ref)
	switch {
	case !ValidName(name):
		return fmt.Errorf("tag %q: %q is not a repository name docker accepts (lower-case letters, digits, separators . _ - and /, an optional registry host[:port]/ prefix, up to %d bytes with docker.io/library/ added where docker adds it): %w", ref, name, MaxNameLen, errdefs.ErrInvalidInput)
	case !ValidTag(tag):
		return fmt.Errorf("tag %q: %q is not a tag docker accepts (up to 128 letters, digits, _ . -, not starting with . or -): %w", ref, tag, errdefs.ErrInvalidInput)
	}
	return nil
}
