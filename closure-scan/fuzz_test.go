package main

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"dockertools.dev/testkit"
)

// addStoreSeeds adds the fixtures' store files (what closure-scan reads
// for references) and the search tests' cases.
func addStoreSeeds(f *testing.F, add func(data []byte)) {
	for _, fx := range testkit.Fixtures(f, func(string) bool { return true }) {
		if bytes.Contains([]byte(fx.Name), []byte("store/")) {
			add(fx.Data)
		}
	}
	add([]byte("/nix/store/" + h1 + "-hello/bin"))
	add([]byte("zz" + h1 + "\x00\xff" + h1[:16] + "e" + h1[17:]))
}

// FuzzSearch: search finds exactly the windows of hashLen base32 bytes
// a byte-by-byte search finds, in order.
func FuzzSearch(f *testing.F) {
	addStoreSeeds(f, func(data []byte) { f.Add(data) })
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := collect(data), naiveSearch(data); !slices.Equal(got, want) {
			t.Fatalf("search(%q) = %q, a byte-by-byte search finds %q", data, got, want)
		}
	})
}

// FuzzScanStream: however a file's bytes arrive (reads of any length,
// into a buffer of any size from one window up), scanStream counts them
// all and finds every window once, as a search of the whole file does.
func FuzzScanStream(f *testing.F) {
	addStoreSeeds(f, func(data []byte) { f.Add(data, []byte{1, 7, 31, 32, 33, 200}, uint8(16)) })
	f.Fuzz(func(t *testing.T, data, reads []byte, extra uint8) {
		var found []string
		w := &worker{buf: make([]byte, hashLen-1+1+int(extra)), match: func(win []byte) error {
			found = append(found, string(win))
			return nil
		}}
		n, err := w.scanStream(&choppy{data: data, reads: reads}, int64(len(data)))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("scanStream read %d of %d bytes: %v", n, len(data), err)
		}
		if want := naiveSearch(data); !slices.Equal(found, want) {
			t.Fatalf("in reads of %v, buffer of %d: found %q, want %q", reads, len(w.buf), found, want)
		}
	})
}

// choppy returns data in reads of the lengths reads gives in turn (at
// least one byte each, as a file gives them), then io.EOF.
type choppy struct {
	data  []byte
	reads []byte
	i     int
}

func (c *choppy) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.reads) > 0 {
		n = min(n, max(1, int(c.reads[c.i%len(c.reads)])))
		c.i++
	}
	n = copy(p[:n], c.data)
	c.data = c.data[n:]
	return n, nil
}
