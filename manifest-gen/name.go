package main

import (
	"regexp"
	"strings"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
)

// checkName lower-cases an image name as nixpkgs does (lib.toLower) and
// checks it is a valid repository name, registry prefix allowed (the
// reference grammar docker load checks, archive.ValidName).
func checkName(what, name string) (string, error) {
	lower := lowerASCII(name)
	if !archive.ValidName(lower) {
		return "", cli.Usagef("%s %q is not a valid image name (lower-case letters, digits, separators . _ - and /, an optional registry host[:port]/ prefix, up to %d bytes with the docker.io/library/ docker adds; the tag goes in --tag)", what, name, archive.MaxNameLen)
	}
	return lower, nil
}

// lowerASCII maps A to Z to a to z and leaves every other byte, as
// nixpkgs' lib.toLower does. strings.ToLower maps the Kelvin sign
// (U+212A) to "k": a name nixpkgs keeps, which no client accepts, would
// become another, valid name. (strings.Map would not leave a byte that is
// not UTF-8: it writes U+FFFD.)
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// checkTag checks a tag given by flag. An empty one is an unset variable
// (--tag "$TAG"), not a request for the default tag: it is refused, as
// the workflows' -t "" and the Nix library's tag = "" are.
func checkTag(what, tag string) error {
	switch {
	case tag == "":
		return cli.Usagef("%s \"\": want a tag (leave %s out for the default, the config's digest)", what, what)
	case !archive.ValidTag(tag):
		return cli.Usagef("%s %q is not a valid tag (up to 128 letters, digits, _ . -, not starting with . or -)", what, tag)
	}
	return nil
}

// platformRE is what --os, --architecture and --variant may be: Go's and
// the OCI image spec's names (linux, amd64, arm64, v7, ppc64le, …) are
// lower-case letters and digits, with "_", "." or "-" inside.
var platformRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// checkPlatform checks a platform field of the config (what names it,
// and its value): Docker 20.10's load crashes on the os "Linux" (the
// request ends without an answer), and clients compare these names as
// written.
func checkPlatform(what, value string) error {
	if len(value) > 64 || !platformRE.MatchString(value) {
		return cli.Usagef("%s %q is not a platform name (lower-case letters and digits, with _ . - inside, as Go names them: linux, amd64, arm64, v7)", what, value)
	}
	return nil
}

// splitRepoTag splits "name:tag" at the last colon that follows the last
// slash, so that a registry port stays in the name.
func splitRepoTag(rt string) (name, tag string) {
	slash := strings.LastIndexByte(rt, '/')
	if i := strings.LastIndexByte(rt, ':'); i > slash {
		return rt[:i], rt[i+1:]
	}
	return rt, ""
}

// splitGivenRepoTag splits a --conf's repo_tag or --repo-tag (what) as
// the workflows split -t (split_repo_tag): no tag is "latest", as docker
// reads a name alone; an empty half ("NAME:", ":TAG") is refused, not
// read as no tag (nixpkgs writes "NAME:", which docker load refuses).
func splitGivenRepoTag(what, rt string) (name, tag string, err error) {
	if name, tag = splitRepoTag(rt); name == rt {
		tag = "latest"
	}
	if name == "" || tag == "" {
		return "", "", cli.Usagef("%s %q: want NAME[:TAG]", what, rt)
	}
	return name, tag, nil
}

// checkGivenName checks a name written as given (a repo_tag's): nixpkgs'
// stream script writes it so, and docker load refuses a repository name
// with upper case outside the registry host ("App:1"), which nixpkgs
// would write all the same. Refused, rather than lower-cased: that would
// be another name than the one asked for.
func checkGivenName(what, name string) error {
	if archive.ValidName(name) {
		return nil
	}
	if archive.ValidName(lowerASCII(name)) {
		return cli.Usagef("%s: %q is not a repository name docker accepts: upper case outside the registry host (nixpkgs would write it as given, and docker load refuse it); write it in lower case, or give it as --name, which is lower-cased as nixpkgs lower-cases name", what, name)
	}
	_, err := checkName(what, name)
	return err
}

// contentTag is the default tag: the first 32 hex digits of the config's
// sha256 (the image ID), as long as the Nix hash nixpkgs uses. Same config,
// same tag; any change to layers or config gives another tag.
func contentTag(configHex string) string { return configHex[:32] }
