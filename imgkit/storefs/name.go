package storefs

import (
	"fmt"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// HashLen is the length of a store path's hash part: 160 bits in Nix's
// base32.
const HashLen = 32

// Base32 is Nix's base32 alphabet: digits and lower-case letters without
// e, o, u and t.
const Base32 = "0123456789abcdfghijklmnpqrsvwxyz"

// MaxNameLen is the longest name Nix allows after the hash part and its
// dash.
const MaxNameLen = 211

// isBase32 and isNameByte mark the bytes of Base32 and of store path names.
var isBase32, isNameByte = func() (b32, name [256]bool) {
	for i := range len(Base32) {
		b32[Base32[i]] = true
	}
	for c := range 256 {
		name[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+-._?=", byte(c)) >= 0
	}
	return b32, name
}()

// IsBase32 reports whether c is in Nix's base32 alphabet.
func IsBase32(c byte) bool { return isBase32[c] }

// ValidName reports whether name, an entry of a store directory, is a
// store path name as Nix checks one: a hash part of HashLen base32
// characters, a dash, then 1 to MaxNameLen characters of A-Z a-z 0-9 and
// + - . _ ? =. Other entries (.links, lock files) are not store paths.
func ValidName(name string) bool {
	if len(name) < HashLen+2 || len(name) > HashLen+1+MaxNameLen || name[HashLen] != '-' {
		return false
	}
	for i := range HashLen {
		if !isBase32[name[i]] {
			return false
		}
	}
	for i := HashLen + 1; i < len(name); i++ {
		if !isNameByte[name[i]] {
			return false
		}
	}
	return true
}

// PathName returns the name of the top-level store path p: p must be
// storeDir/NAME with NAME a ValidName, nothing deeper. storeDir is clean
// and absolute. A path outside storeDir is errdefs.ErrOutsideStore; one
// inside a store path, or with a name that is not a store path's, is
// errdefs.ErrInvalidInput.
func PathName(storeDir, p string) (string, error) {
	rest, ok := strings.CutPrefix(p, strings.TrimSuffix(storeDir, "/")+"/")
	if !ok {
		return "", fmt.Errorf("%q (store directory %q): %w", p, storeDir, errdefs.ErrOutsideStore)
	}
	if name, _, deeper := strings.Cut(rest, "/"); deeper && ValidName(name) {
		return "", fmt.Errorf("%q is inside the store path %q, not a store path itself: %w", p, storeDir+"/"+name, errdefs.ErrInvalidInput)
	}
	if !ValidName(rest) {
		return "", fmt.Errorf("%q is not a store path (want %s/<%d characters of Nix base32>-<name>): %w", p, storeDir, HashLen, errdefs.ErrInvalidInput)
	}
	return rest, nil
}
