package main

import "strings"

// packageName is closure-graph.py's tie-break key: the path split on "-",
// its first piece (the store directory and hash) moved to the end, rejoined
// with "-". "/nix/store/abc-hello-2.12" becomes "hello-2.12-/nix/store/abc",
// so ties sort by name, then version, then hash. A path without "-" is its
// own key. The map from path to key is one-to-one, so the order is total.
func packageName(p string) string {
	first, rest, ok := strings.Cut(p, "-")
	if !ok {
		return p
	}
	return rest + "-" + first
}

// comparePathKey is auto-layer.py's order inside a layer: the tuple
// (name, hash) where hash is the path up to its first "-" and name the rest.
// A path without "-" (Python would fail on it) has an empty name, so it
// sorts before every named path, by the whole path.
func comparePathKey(a, b string) int {
	ha, na, _ := strings.Cut(a, "-")
	hb, nb, _ := strings.Cut(b, "-")
	if c := strings.Compare(na, nb); c != 0 {
		return c
	}
	return strings.Compare(ha, hb)
}
