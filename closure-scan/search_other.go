//go:build !amd64

package main

// useAVX2 is false where there is no vector search (see search_amd64.go).
const useAVX2 = false

func search(s []byte, found func(window []byte) error) error {
	return searchWords(s, found)
}
