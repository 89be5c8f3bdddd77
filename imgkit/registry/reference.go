package registry

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/errdefs"
)

// ParseReference parses an image reference, NAME[:TAG] or NAME@sha256:HEX,
// where NAME may start with a registry host (docker.io is the default and
// TAG defaults to latest). insecure allows plain HTTP for a registry that is
// not on a loopback or private address (those may always use it).
//
// NAME and TAG follow the reference grammar docker, podman and the
// registry itself parse (archive.ValidName, archive.ValidTag), which is
// stricter than go-containerregistry's: it checks only the characters,
// so "a..b", "-app", "app/" or the tag ".x" went to the registry, which
// refused them after the work had begun (a push had read its layers).
func ParseReference(s string, insecure bool) (name.Reference, error) {
	if what := credentialsShape(s); what != "" {
		return nil, fmt.Errorf("reference holds %s (not shown: it may hold credentials): give REGISTRY/REPO[:TAG] or REPO@sha256:HEX, and credentials with --creds-file: %w", what, errdefs.ErrInvalidInput)
	}
	if err := checkGrammar(s); err != nil {
		return nil, err
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	var ref name.Reference
	var err error
	if strings.Contains(s, "@") {
		ref, err = name.NewDigest(s, opts...)
	} else {
		ref, err = name.NewTag(s, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("reference %q: %v: %w", s, err, errdefs.ErrInvalidInput)
	}
	if d, ok := ref.(name.Digest); ok {
		if alg, _, _ := strings.Cut(d.DigestStr(), ":"); alg != "sha256" {
			return nil, fmt.Errorf("reference %q: digest algorithm %q, only sha256 is supported: %w", s, alg, errdefs.ErrInvalidInput)
		}
	}
	return ref, nil
}

// ParseDigestReference parses NAME@sha256:HEX and refuses a tag.
func ParseDigestReference(s string, insecure bool) (name.Digest, error) {
	ref, err := ParseReference(s, insecure)
	if err != nil {
		return name.Digest{}, err
	}
	d, ok := ref.(name.Digest)
	if !ok {
		return name.Digest{}, fmt.Errorf("reference %q: a digest (NAME@sha256:HEX) is needed here: %w", s, errdefs.ErrInvalidInput)
	}
	return d, nil
}

// checkGrammar checks the NAME[:TAG] of a reference by the reference
// grammar; the digest is go-containerregistry's to check.
func checkGrammar(s string) error {
	ref, _, _ := strings.Cut(s, "@")
	if ref == "" {
		return nil // go-containerregistry says a name is needed
	}
	repo, tag := archive.SplitRef(ref)
	switch {
	case !archive.ValidName(repo):
		return fmt.Errorf("reference %q: %q is not a repository name (lower-case letters, digits, separators . _ - and /, after an optional registry host[:port]/): %w", s, repo, errdefs.ErrInvalidInput)
	case !archive.ValidTag(tag) && tag != "":
		return fmt.Errorf("reference %q: %q is not a tag (up to 128 letters, digits, _ . -, not starting with . or -): %w", s, tag, errdefs.ErrInvalidInput)
	}
	return nil
}

// credentialsShape says what in s may be credentials, a URL's scheme or
// its user and password (alice:TOKEN@ghcr.io/app, as git takes them),
// said as a message may say it; "" when none. Every error repeated the
// reference, and the token with it, on the terminal or in a CI job's log.
// An @ followed by a digest's algorithm is a digest.
func credentialsShape(s string) string {
	if strings.Contains(s, "://") {
		return "a URL's scheme (://)"
	}
	_, after, ok := strings.Cut(s, "@")
	if !ok {
		return ""
	}
	for _, alg := range []string{"sha256:", "sha384:", "sha512:", "blake3:"} {
		if strings.HasPrefix(after, alg) {
			return ""
		}
	}
	return "an @ not followed by a digest (a URL's user and password?)"
}
