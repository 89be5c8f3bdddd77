//go:build !amd64

package main

// search is searchWords: there is no vector search here.
func search(s []byte, found func(window []byte) error) error {
	return searchWords(s, found)
}
