package nar

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// HashSize is the size of a NAR hash: sha256.
const HashSize = 32

// FormatHash prints a NAR hash as Nix's database and nix-store --query
// --hash do: "sha256:" and 52 characters of Nix's base32.
func FormatHash(sum [HashSize]byte) string { return "sha256:" + EncodeBase32(sum[:]) }

// ParseHash reads a NAR hash in any notation Nix prints: "sha256:" and
// Nix's base32 or hex, or SRI ("sha256-" and base64). Anything else, such
// as another algorithm, is an error wrapping errdefs.ErrInvalidInput.
func ParseHash(s string) ([HashSize]byte, error) {
	var sum [HashSize]byte
	var b []byte
	var err error
	switch rest, ok := strings.CutPrefix(s, "sha256:"); {
	case ok && len(rest) == hex.EncodedLen(HashSize):
		b, err = hex.DecodeString(rest)
	case ok:
		b, err = DecodeBase32(rest, HashSize)
	case strings.HasPrefix(s, "sha256-"):
		b, err = base64.StdEncoding.Strict().DecodeString(s[len("sha256-"):])
		if err == nil && len(b) != HashSize {
			err = fmt.Errorf("%d bytes, want %d", len(b), HashSize)
		}
	default:
		return sum, fmt.Errorf("NAR hash %q: want sha256:<base32> or sha256-<base64>: %w", s, errdefs.ErrInvalidInput)
	}
	if err != nil {
		return sum, fmt.Errorf("NAR hash %q: %v: %w", s, err, errdefs.ErrInvalidInput)
	}
	copy(sum[:], b)
	return sum, nil
}

// NormalizeHash returns s in FormatHash's notation.
func NormalizeHash(s string) (string, error) {
	sum, err := ParseHash(s)
	if err != nil {
		return "", err
	}
	return FormatHash(sum), nil
}
