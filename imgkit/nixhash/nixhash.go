package nixhash

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

// Digest is a SHA-256 digest.
type Digest [sha256.Size]byte

// base32Len is the length of a SHA-256 digest in Nix's base32.
const base32Len = (sha256.Size*8-1)/5 + 1 // 52

// base32 is d in Nix's base32, without a prefix.
func (d Digest) base32() string {
	var b [base32Len]byte
	for n := base32Len - 1; n >= 0; n-- {
		bit := n * 5
		i, j := bit/8, uint(bit%8)
		c := d[i] >> j
		if i+1 < len(d) {
			c |= d[i+1] << (8 - j)
		}
		b[base32Len-1-n] = storefs.Base32[c&0x1f]
	}
	return string(b[:])
}

// String is d as `nix path-info --json` of Nix 2.4 and later prints a
// narHash: the SRI form "sha256-" and base64.
func (d Digest) String() string { return "sha256-" + base64.StdEncoding.EncodeToString(d[:]) }

// Base32 is d as Nix 2.3 printed it, and as nix-store --dump-db and
// exportReferencesGraph still write it: "sha256:" and Nix's base32.
func (d Digest) Base32() string { return "sha256:" + d.base32() }

// Base16 is d as Nix's database stores it: "sha256:" and lower-case hex.
func (d Digest) Base16() string { return "sha256:" + hex.EncodeToString(d[:]) }

// Parse reads a SHA-256 hash in any form Nix accepts for one: "sha256:"
// followed by base16, Nix's base32 or base64 (told apart by length, as Nix
// does), or the SRI form "sha256-<base64>". Another algorithm, or a digest
// that does not decode to 32 bytes, is an error wrapping
// errdefs.ErrInvalidInput.
func Parse(s string) (Digest, error) {
	var d Digest
	if rest, ok := strings.CutPrefix(s, "sha256-"); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil && len(b) == len(d) {
			copy(d[:], b)
			return d, nil
		}
		return d, fmt.Errorf("hash %q: not a SHA-256 digest in base64: %w", s, errdefs.ErrInvalidInput)
	}
	rest, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return d, fmt.Errorf("hash %q: want sha256:DIGEST or sha256-BASE64: %w", s, errdefs.ErrInvalidInput)
	}
	switch len(rest) {
	case hex.EncodedLen(len(d)):
		// Nix reads base16 in either case.
		if b, err := hex.DecodeString(rest); err == nil {
			copy(d[:], b)
			return d, nil
		}
	case base32Len:
		if parseBase32(rest, &d) {
			return d, nil
		}
	case base64.StdEncoding.EncodedLen(len(d)):
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil && len(b) == len(d) {
			copy(d[:], b)
			return d, nil
		}
	}
	return d, fmt.Errorf("hash %q: not a SHA-256 digest in base16, Nix's base32 or base64: %w", s, errdefs.ErrInvalidInput)
}

// parseBase32 decodes Nix's base32, refusing a character outside the
// alphabet and bits set beyond the digest's 256, as Nix does.
func parseBase32(s string, d *Digest) bool {
	*d = Digest{}
	for n := range base32Len {
		c := strings.IndexByte(storefs.Base32, s[base32Len-1-n])
		if c < 0 {
			return false
		}
		bit := n * 5
		i, j := bit/8, uint(bit%8)
		d[i] |= byte(c << j)
		carry := byte(c >> (8 - j))
		if i+1 < len(d) {
			d[i+1] |= carry
		} else if carry != 0 {
			return false
		}
	}
	return true
}
