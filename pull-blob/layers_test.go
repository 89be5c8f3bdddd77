package main

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestFetchOrderLargestFirst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int64
		want  []int // layer indexes, in download order
	}{
		{"None", nil, nil},
		{"LargestLast", []int64{5, 7, 900}, []int{2, 1, 0}},
		{"EqualsKeepTheirOrder", []int64{5, 100, 5, 100, 1}, []int{1, 3, 0, 2, 4}},
		{"AlreadyInOrder", []int64{3, 2, 1}, []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var layers []layer
			for i, s := range tc.sizes {
				layers = append(layers, layer{index: i, desc: v1.Descriptor{Size: s}})
			}
			var got []int
			for _, l := range fetchOrder(layers) {
				got = append(got, l.index)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
			for i, l := range layers {
				if l.index != i {
					t.Fatal("fetchOrder reordered its argument")
				}
			}
		})
	}
}
