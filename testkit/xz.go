package testkit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
)

// XzBlock is a block for XzStream: LZMA2 with dictionary size code Dict
// (0: 4 KiB, 30: 128 MiB, 31: 192 MiB, 40: 4 GiB - 1) holding Data as
// uncompressed chunks, or as LZMA2 (its chunks and end marker) when that
// is set; Lie is added to its uncompressed size in the index.
type XzBlock struct {
	Dict  byte
	Data  []byte
	LZMA2 []byte
	Lie   int64
}

// XzStream builds one xz stream of blocks by hand (xz file format 1.0.4),
// with check type check (0 none, 1 CRC32, 4 CRC64, 10 SHA-256): what a
// crafted layer may hold, with any dictionary size in any block.
func XzStream(check byte, blocks ...XzBlock) []byte {
	le32 := func(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
	vli := func(b []byte, v int64) []byte {
		for ; v >= 0x80; v >>= 7 {
			b = append(b, byte(v)|0x80)
		}
		return append(b, byte(v))
	}
	pad := func(b []byte, from int) []byte {
		for (len(b)-from)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	flags := []byte{0, check}
	s := append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, flags...)
	s = le32(s, crc32.ChecksumIEEE(flags))
	index := vli([]byte{0}, int64(len(blocks)))
	for _, b := range blocks {
		start := len(s)
		s = append(s, 2, 0, 0x21, 1, b.Dict, 0, 0, 0) // 12 bytes with the CRC32
		s = le32(s, crc32.ChecksumIEEE(s[start:]))
		for d := b.Data; len(d) > 0 && b.LZMA2 == nil; {
			n := min(len(d), 1<<16)
			kind := byte(2) // uncompressed, no dictionary reset
			if len(d) == len(b.Data) {
				kind = 1 // the first chunk resets the dictionary
			}
			s = append(s, kind, byte((n-1)>>8), byte(n-1))
			s, d = append(s, d[:n]...), d[n:]
		}
		if s = append(s, b.LZMA2...); b.LZMA2 == nil {
			s = append(s, 0) // LZMA2 end marker
		}
		unpadded := len(s) - start // header and LZMA2 data, without the block padding
		s = pad(s, start)
		switch check {
		case 1:
			s = le32(s, crc32.ChecksumIEEE(b.Data))
			unpadded += 4
		case 4:
			s = binary.LittleEndian.AppendUint64(s, crc64.Checksum(b.Data, crc64.MakeTable(crc64.ECMA)))
			unpadded += 8
		case 10:
			sum := sha256.Sum256(b.Data)
			s = append(s, sum[:]...)
			unpadded += 32
		}
		index = vli(vli(index, int64(unpadded)), int64(len(b.Data))+b.Lie)
	}
	index = pad(index, 0)
	index = le32(index, crc32.ChecksumIEEE(index))
	s = append(s, index...)
	footer := le32(nil, uint32(len(index)/4-1))
	footer = append(footer, flags...)
	s = le32(s, crc32.ChecksumIEEE(footer))
	return append(append(s, footer...), 'Y', 'Z')
}
