package nar

import (
	"fmt"

	"dockertools.dev/imgkit/storefs"
)

// Base32Len is the length of n bytes in Nix's base32.
func Base32Len(n int) int { return (n*8-1)/5 + 1 }

// EncodeBase32 writes b in Nix's base32: 5 bits a character, the
// character for bits 5k..5k+4 (counted from the first byte's lowest bit)
// at position len-1-k, so the last character holds the first bits.
func EncodeBase32(b []byte) string {
	n := Base32Len(len(b))
	out := make([]byte, n)
	for k := range n {
		bit := k * 5
		i, j := bit/8, uint(bit%8)
		c := b[i] >> j
		if i+1 < len(b) {
			c |= b[i+1] << (8 - j)
		}
		out[n-1-k] = storefs.Base32[c&0x1f]
	}
	return string(out)
}

// base32Value maps a character of the alphabet to its value, others to -1.
var base32Value = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := range len(storefs.Base32) {
		v[storefs.Base32[i]] = int8(i)
	}
	return v
}()

// DecodeBase32 reads n bytes written in Nix's base32. s must have exactly
// Base32Len(n) characters of the alphabet, and bits past the n bytes must
// be zero (Nix refuses the hash otherwise).
func DecodeBase32(s string, n int) ([]byte, error) {
	if len(s) != Base32Len(n) {
		return nil, fmt.Errorf("%d characters of base32, want %d", len(s), Base32Len(n))
	}
	out := make([]byte, n)
	for k := range len(s) {
		d := base32Value[s[len(s)-1-k]]
		if d < 0 {
			return nil, fmt.Errorf("%q is not a character of Nix's base32", s[len(s)-1-k])
		}
		bit := k * 5
		i, j := bit/8, uint(bit%8)
		out[i] |= byte(d) << j
		carry := byte(d) >> (8 - j)
		if i+1 < n {
			out[i+1] |= carry
		} else if carry != 0 {
			return nil, fmt.Errorf("bits past the %d bytes of the hash are set", n)
		}
	}
	return out, nil
}
