package main

import (
	"cmp"
	"encoding/binary"
	"strings"
)

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

// comparePackageName compares closure-graph.py's tie-break keys of a and
// b, package_name: the path split on "-", its first piece (the store
// directory and hash) moved to the end, rejoined with "-".
// "/nix/store/abc-hello-2.12" has the key "hello-2.12-/nix/store/abc", so
// ties sort by name, then version, then hash; a path without "-" is its
// own key. The map from path to key is one-to-one, so the order is total.
// The keys are compared in their pieces, never built: sorting 1,000,000
// paths spent a fifth of its time allocating them (packageName in the
// tests builds them, to check this against).
func comparePackageName(a, b string) int {
	return compareJoined(packageParts(a), packageParts(b))
}

// packageParts is the package_name key of p (comparePackageName) in the
// pieces it is joined from.
func packageParts(p string) [3]string {
	first, rest, ok := strings.Cut(p, "-")
	if !ok {
		return [3]string{p}
	}
	return [3]string{rest, "-", first}
}

// compareJoined compares the concatenations of a's and b's pieces.
func compareJoined(a, b [3]string) int {
	i, j := 0, 0
	x, y := a[0], b[0]
	for {
		for x == "" && i < len(a)-1 {
			i++
			x = a[i]
		}
		for y == "" && j < len(b)-1 {
			j++
			y = b[j]
		}
		if x == "" || y == "" {
			return cmp.Compare(len(x), len(y)) // the one that ended first is less
		}
		n := min(len(x), len(y))
		if c := strings.Compare(x[:n], y[:n]); c != 0 {
			return c
		}
		x, y = x[n:], y[n:]
	}
}

// nameKey is the first 16 bytes of a path's packageName as two big-endian
// words, zero-padded: keys that differ order as the names do, so a sort
// compares two integers where it would compare two strings scattered in
// memory, and only equal keys need comparePackageName. (Paths hold no NUL,
// and a NUL would only make keys equal, never misordered.)
type nameKey struct{ hi, lo uint64 }

func nameKeyOf(p string) nameKey {
	var buf [16]byte
	k := 0
	for _, s := range packageParts(p) {
		k += copy(buf[k:], s)
	}
	return nameKey{binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:])}
}

func (k nameKey) compare(o nameKey) int {
	if c := cmp.Compare(k.hi, o.hi); c != 0 {
		return c
	}
	return cmp.Compare(k.lo, o.lo)
}
