package tarw

import (
	"encoding/binary"
	"unicode/utf8"
)

// Offsets and lengths of the ustar header fields.
const (
	offName     = 0
	lenName     = 100
	offMode     = 100
	offUid      = 108
	offGid      = 116
	offSize     = 124
	offMtime    = 136
	offChksum   = 148
	offType     = 156
	offLinkname = 157
	lenLinkname = 100
	offMagic    = 257
	offUname    = 265
	lenOwner    = 32
	offGname    = 297
	offDevmajor = 329
	offDevminor = 337
	lenSmall    = 8  // mode, uid, gid, devmajor, devminor
	lenLarge    = 12 // size, mtime
)

var (
	magicPOSIX = "ustar\x0000"
	magicGNU   = "ustar  \x00"
	zeroBlock  [BlockSize]byte
)

// appendBlock appends a zero block to dst and returns dst and the new block.
func appendBlock(dst []byte) ([]byte, []byte) {
	dst = append(dst, zeroBlock[:]...)
	return dst, dst[len(dst)-BlockSize:]
}

// fitsOctal reports whether v fits a field of n bytes as n-1 octal digits
// and a NUL.
func fitsOctal(v int64, n int) bool {
	return v >= 0 && v < int64(1)<<(3*(n-1))
}

// putOctal writes v as n-1 zero-padded octal digits and a NUL. v must fit.
func putOctal(field []byte, v int64) {
	n := len(field) - 1
	field[n] = 0
	for i := n - 1; i >= 0; i-- {
		field[i] = byte('0' + v&7)
		v >>= 3
	}
}

// putBase256 writes v in GNU tar's base-256 form: a first byte of 0x80
// (0xff for a negative v), then v big-endian in two's complement. It
// reports false when v does not fit.
func putBase256(field []byte, v int64) bool {
	bits := uint(8 * (len(field) - 1))
	if bits < 63 {
		limit := int64(1) << bits
		if v >= limit || v < -limit {
			return false
		}
	}
	field[0] = 0x80
	if v < 0 {
		field[0] = 0xff
	}
	for i := len(field) - 1; i > 0; i-- {
		field[i] = byte(v)
		v >>= 8 // arithmetic: a negative v fills with 0xff
	}
	return true
}

// putString copies s into field, truncated to the field's length; the rest
// of the field stays NUL.
func putString(field []byte, s string) { copy(field, s) }

// putASCIIReplaced writes s as CPython's s.encode("ascii", "replace") does,
// truncated to the field: every non-ASCII character, and every byte that is
// not valid UTF-8 (a surrogate escape in CPython), becomes '?'.
func putASCIIReplaced(field []byte, s string) {
	j := copy(field, s[:asciiPrefix(s)])
	for i := j; i < len(s) && j < len(field); j++ {
		c := s[i]
		if c < utf8.RuneSelf {
			field[j] = c
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		field[j] = '?'
		i += size
	}
}

// isASCII reports whether s is pure ASCII.
func isASCII(s string) bool { return asciiPrefix(s) == len(s) }

// asciiPrefix returns the length of the ASCII bytes s begins with, looking
// at eight bytes at a time (every header has a few names to check).
func asciiPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
	}
	return i
}

// setChecksum computes the header checksum (the byte sum with the checksum
// field counted as eight spaces) and writes it as "%06o\x00 ".
func setChecksum(b []byte) {
	copy(b[offChksum:offChksum+8], "        ")
	putOctal(b[offChksum:offChksum+7], int64(byteSum((*[BlockSize]byte)(b))))
}

// byteSum is the sum of the bytes of b, added eight at a time: each 64-bit
// word's bytes go to four 16-bit lanes (the even bytes and the odd ones),
// which hold at most 2*64*255 = 32640 for a block, so no lane overflows.
func byteSum(b *[BlockSize]byte) int {
	const even = 0x00ff00ff00ff00ff
	var lanes uint64
	for i := 0; i < BlockSize; i += 8 {
		w := binary.LittleEndian.Uint64(b[i : i+8])
		lanes += w&even + (w>>8)&even
	}
	lanes = lanes&0x0000ffff0000ffff + (lanes>>16)&0x0000ffff0000ffff
	return int(lanes&0xffffffff + lanes>>32)
}
