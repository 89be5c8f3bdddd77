package archive

import "strings"

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
	first, rest, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		name = "docker.io/library/" + name
	case first == "index.docker.io" || first == "docker.io":
		name = "docker.io/" + rest
		if !strings.Contains(rest, "/") {
			name = "docker.io/library/" + rest
		}
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		name = "docker.io/" + name
	}
	return name + ":" + tag
}
