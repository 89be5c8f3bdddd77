package main

import (
	"regexp"
	"strings"

	"dockertools.dev/imgkit/cli"
)

// The reference grammar of the distribution spec (as docker load checks it),
// applied after lower-casing.
var (
	nameRE = regexp.MustCompile(`^(?:` +
		`(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::[0-9]+)?/)?` + // registry host
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*` + // path components
		`(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// checkName lower-cases an image name as nixpkgs does (lib.toLower) and
// checks it is a valid repository name, registry prefix allowed.
func checkName(name string) (string, error) {
	lower := strings.ToLower(name)
	if len(lower) > 255 || !nameRE.MatchString(lower) {
		return "", cli.Usagef("--name %q is not a valid image name (lower-case letters, digits, separators . _ - and /, an optional registry host[:port]/ prefix; the tag goes in --tag)", name)
	}
	return lower, nil
}

func checkTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return cli.Usagef("--tag %q is not a valid tag (up to 128 letters, digits, _ . -, not starting with . or -)", tag)
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

// contentTag is the default tag: the first 32 hex digits of the config's
// sha256 (the image ID), as long as the Nix hash nixpkgs uses. Same config,
// same tag; any change to layers or config gives another tag.
func contentTag(configHex string) string { return configHex[:32] }
