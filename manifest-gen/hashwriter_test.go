package main

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// TestHashingWriter: the hash and the written bytes are those of every
// write in order, small writes (hashed in line) and large ones (hashed
// behind the writes, from copies) mixed, with the caller reusing its
// buffer at once.
func TestHashingWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var out, all bytes.Buffer
	w := newHashingWriter(&out, sha256.New())
	defer w.close()
	buf := make([]byte, hashBufSize+3*overlapMin) // some writes in two buffers
	bytesOf := rand.NewChaCha8([32]byte{3})
	for range 60 {
		p := buf[:rng.IntN(len(buf)+1)]
		bytesOf.Read(p)
		all.Write(p)
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if !bytes.Equal(out.Bytes(), all.Bytes()) {
		t.Fatal("the bytes written differ from the bytes given")
	}
	if got, want := w.sum(), sha256.Sum256(all.Bytes()); !bytes.Equal(got, want[:]) {
		t.Fatalf("hash %x, want %x", got, want)
	}
}

// TestAsyncHash: asyncHash's Sum is sha256's of what was written, large
// and small writes mixed, and again after Reset.
func TestAsyncHash(t *testing.T) {
	h := newAsyncHash()
	for round := range 2 {
		want := sha256.New()
		for _, n := range []int{3, 2 * overlapMin, hashBufSize + 5, 1} {
			p := bytes.Repeat([]byte{byte(n + round)}, n)
			h.Write(p)
			want.Write(p)
		}
		if got := h.Sum([]byte("x")); !bytes.Equal(got, want.Sum([]byte("x"))) {
			t.Fatalf("round %d: Sum = %x, want %x", round, got, want.Sum([]byte("x")))
		}
		h.Reset()
	}
}
