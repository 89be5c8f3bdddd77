package main

import (
	"crypto/sha256"
	"hash"
	"io"
)

// hashingWriter writes to w and hashes what it writes with h, as
// io.MultiWriter(w, h) does, but hashes on a goroutine of its own, a few
// writes behind. --digest-file hashes the whole archive, and when the
// archive goes to a file, reading the stream and writing the archive are
// the other long steps: pull-image (manifest-gen --digest-file after
// pull-blob) spent one core on them and on 1 GB of sha256 in turn while
// the other core waited. A large write is copied into one of hashBufs
// buffers for the hashing goroutine and written at once; a small one is
// hashed in line, once the goroutine has caught up, so the hash sees the
// bytes in order. manifest-gen --digest-file -o FILE of a 2.2 GB layer
// stream took 2.68 s with io.MultiWriter, 2.33 s with each write hashed
// while it was written, and 2.06 s hashing behind (medians of 5 runs,
// interleaved, load 1.2-1.3), for 4 MiB of buffers.
type hashingWriter struct {
	w    io.Writer
	h    hash.Hash
	todo chan []byte
	free chan []byte
	done chan struct{}
}

// hashBufs buffers of hashBufSize let the hashing fall that far behind
// the writing; overlapMin is the smallest write hashed apart (below it,
// handing it over costs about what hashing it does).
const (
	hashBufs    = 4
	hashBufSize = 1 << 20
	overlapMin  = 16 << 10
)

func newHashingWriter(w io.Writer, h hash.Hash) *hashingWriter {
	t := &hashingWriter{w: w, h: h, todo: make(chan []byte, hashBufs), free: make(chan []byte, hashBufs), done: make(chan struct{})}
	for range hashBufs {
		t.free <- nil // allocated when first taken
	}
	go func() {
		defer close(t.done)
		for b := range t.todo {
			t.h.Write(b)
			t.free <- b[:0]
		}
	}()
	return t
}

func (t *hashingWriter) Write(p []byte) (int, error) {
	if len(p) < overlapMin {
		t.wait()
		t.h.Write(p)
		return t.w.Write(p)
	}
	for rest := p; len(rest) > 0; {
		b := <-t.free
		if b == nil {
			b = make([]byte, 0, hashBufSize)
		}
		n := min(len(rest), cap(b))
		t.todo <- append(b, rest[:n]...)
		rest = rest[n:]
	}
	return t.w.Write(p)
}

// wait returns once every byte handed to the hashing goroutine is hashed.
func (t *hashingWriter) wait() {
	var bufs [hashBufs][]byte
	for i := range bufs {
		bufs[i] = <-t.free
	}
	for _, b := range bufs {
		t.free <- b
	}
}

// sum stops the hashing goroutine, once it has hashed every byte, and
// returns the hash.
func (t *hashingWriter) sum() []byte {
	t.close()
	return t.h.Sum(nil)
}

// close stops the hashing goroutine; the writer is not used after.
func (t *hashingWriter) close() {
	if t.todo != nil {
		close(t.todo)
		<-t.done
		t.todo = nil
	}
}

// asyncHash is a sha256 hash.Hash hashing what is written on a goroutine
// of its own, a few writes behind (a hashingWriter writing nowhere): the
// stream's reader, verifying a layer as it is copied, hands the bytes over
// and goes on. Sum waits for the hashing to end; after it, the hash takes
// no more writes until Reset.
type asyncHash struct{ *hashingWriter }

func newAsyncHash() hash.Hash { return &asyncHash{newHashingWriter(io.Discard, sha256.New())} }

func (a *asyncHash) Sum(b []byte) []byte { return append(b, a.sum()...) }

func (a *asyncHash) Reset() {
	a.close()
	a.hashingWriter = newHashingWriter(io.Discard, sha256.New())
}

func (a *asyncHash) Size() int      { return sha256.Size }
func (a *asyncHash) BlockSize() int { return sha256.BlockSize }
