package main

import (
	"strings"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
)

// checkName lower-cases an image name as nixpkgs does (lib.toLower) and
// checks it is a valid repository name, registry prefix allowed (the
// reference grammar docker load checks, archive.ValidName).
func checkName(name string) (string, error) {
	lower := strings.ToLower(name)
	if !archive.ValidName(lower) {
		return "", cli.Usagef("--name %q is not a valid image name (lower-case letters, digits, separators . _ - and /, an optional registry host[:port]/ prefix; the tag goes in --tag)", name)
	}
	return lower, nil
}

func checkTag(tag string) error {
	if !archive.ValidTag(tag) {
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
