package main

import (
	"fmt"
	"slices"
	"testing"
)

// The table of reference §6.2 (jq's real output), plus more layers than
// paths, where nixpkgs' newer pipeline fails.
func TestSplitClassic(t *testing.T) {
	abcd := []string{"a", "b", "c", "d"}
	for _, c := range []struct {
		available int
		paths     []string
		want      string
	}{
		{1, nil, "[]"},
		{1, abcd[:1], "[[a]]"},
		{1, abcd[:2], "[[a b]]"},
		{1, abcd, "[[a b c d]]"},
		{2, nil, "[]"},
		{2, abcd[:1], "[[a]]"},
		{2, abcd[:2], "[[a] [b]]"},
		{2, abcd, "[[a] [b c d]]"},
		{3, nil, "[]"},
		{3, abcd[:1], "[[a]]"},
		{3, abcd[:2], "[[a] [b]]"},
		{3, abcd, "[[a] [b] [c d]]"},
		{4, abcd, "[[a] [b] [c] [d]]"},
		{20, abcd, "[[a] [b] [c] [d]]"},
	} {
		in := slices.Clone(c.paths)
		if got := fmt.Sprint(splitClassic(in, c.available)); got != c.want {
			t.Errorf("available %d, %v: got %s, want %s", c.available, c.paths, got, c.want)
		}
	}
}
