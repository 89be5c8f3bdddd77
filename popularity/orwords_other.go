//go:build !amd64

package main

// useAVX2 and useAVX512 are false where there is no vector loop (see
// orwords_amd64.go).
const (
	useAVX2   = false
	useAVX512 = false
)

func sumBits(weights, diff []uint64, mask uint64) (uint64, int) {
	return sumBitsWords(weights, diff, mask)
}

func or3(dst, x, a, b []uint64) { or3Words(dst, x, a, b) }

func orDiff(row, x, a, b, base, diff []uint64) uint64 {
	return orDiffWords(row, x, a, b, base, diff)
}

// prefetchRow is a hint the portable code does without (see
// orwords_amd64.go).
func prefetchRow(p *uint64) {}
