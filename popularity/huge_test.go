package main

import "testing"

// TestHugePages: the hint takes any slice, empty, smaller than a huge page
// or spanning several at any offset, and changes none of its contents.
func TestHugePages(t *testing.T) {
	hugePages([]uint64(nil))
	hugePages(make([]rowRef, 0, 1))
	hugePages(make([]posInfo, 3))
	big := make([]uint64, 5<<20/8+3)
	for i := range big {
		big[i] = uint64(i) * 0x9e3779b97f4a7c15
	}
	hugePages(big[1:])
	hugePages(big)
	for i, v := range big {
		if v != uint64(i)*0x9e3779b97f4a7c15 {
			t.Fatalf("word %d changed: %#x", i, v)
		}
	}
}
