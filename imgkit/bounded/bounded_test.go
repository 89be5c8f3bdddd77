package bounded

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

// pattern is an endless reader of a byte pattern that allocates nothing.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n % 251)
		p.n++
	}
	return len(b), nil
}

// TestReadAll: every length around the chunk boundaries and the bound
// reads back what was written; past the bound is refused.
func TestReadAll(t *testing.T) {
	const limit = 5000
	for _, n := range []int64{0, 1, 511, 512, 513, 1024, 1536, 4095, 4999, 5000, 5001, 20000} {
		want, _ := io.ReadAll(io.LimitReader(&pattern{}, n))
		data, more, err := ReadAll(io.LimitReader(&pattern{}, n), limit)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if more != (n > limit) {
			t.Errorf("%d bytes: more %v, want %v", n, more, n > limit)
		}
		if !more && !bytes.Equal(data, want) {
			t.Errorf("%d bytes: read %d bytes, not those written", n, len(data))
		}
		if data == nil && !more {
			t.Errorf("%d bytes: nil data", n)
		}
	}
}

// TestReadAllError: a read error is returned.
func TestReadAllError(t *testing.T) {
	bad := errors.New("bad")
	r := io.MultiReader(bytes.NewReader(make([]byte, 3000)), iotestErr{bad})
	if _, _, err := ReadAll(r, 1<<20); !errors.Is(err, bad) {
		t.Fatalf("error %v, want %v", err, bad)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// allocated returns the bytes f allocates (the runtime's count of
// allocations: exact, not a timing).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadAllRefusalHoldsTheBound: refusing an endless input allocates
// the bound and next to nothing more (io.ReadAll of a LimitReader
// allocated twice it: its chunks, then their copy); an input within the
// bound allocates what it reads twice at most, and a chunk.
func TestReadAllRefusalHoldsTheBound(t *testing.T) {
	const limit = 128 << 20
	var more bool
	got := allocated(func() { _, more, _ = ReadAll(&pattern{}, limit) })
	if !more {
		t.Fatal("an endless input was not refused")
	}
	if got > limit+1<<20 {
		t.Errorf("refusing at %d MiB allocated %d MiB, want the bound and at most 1 MiB more", limit>>20, got>>20)
	}
	const n = 100 << 20
	got = allocated(func() { _, more, _ = ReadAll(io.LimitReader(&pattern{}, n), limit) })
	if more {
		t.Fatal("an input within the bound was refused")
	}
	if got > 2*n+maxChunk {
		t.Errorf("reading %d MiB allocated %d MiB, want at most %d MiB", n>>20, got>>20, (2*n+maxChunk)>>20)
	}
}
