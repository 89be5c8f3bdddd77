package main

import (
	"crypto/sha256"
	"hash"
)

func sha256sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func newSHA256() hash.Hash { return sha256.New() }
