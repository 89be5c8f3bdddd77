package tarsafe

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// endless repeats unit for ever, and fails the test's read once more than
// limit bytes were read: a layer that never gets past its headers.
type endless struct {
	unit  []byte
	off   int
	n     int64
	limit int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n > e.limit {
		return 0, fmt.Errorf("read %d bytes, past %d", e.n, e.limit)
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.unit[e.off:])
		n += c
		e.off = (e.off + c) % len(e.unit)
	}
	e.n += int64(n)
	return n, nil
}

// TestHeadersWithinBound: headers that only describe the next header (PAX
// records, GNU long names) can follow each other without end; a few
// kilobytes of zstd hold gigabytes of them. The bound on what a layer
// expands to counts them as they are read, and stops them there.
func TestHeadersWithinBound(t *testing.T) {
	for _, tc := range []struct {
		name string
		hdr  *tar.Header
	}{
		{"PAXRecords", &tar.Header{Name: "x", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"comment": strings.Repeat("c", 400)}, Format: tar.FormatPAX}},
		{"GNULongNames", &tar.Header{Name: strings.Repeat("n", 300), Typeflag: tar.TypeReg, Format: tar.FormatGNU}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			if err := tw.WriteHeader(tc.hdr); err != nil {
				t.Fatal(err)
			}
			// The header that describes the next one: its block and its
			// data, without the entry that would follow.
			unit := buf.Bytes()[:buf.Len()-512]
			const bound = 1 << 20
			r := NewReader(&endless{unit: unit, limit: 4 * bound}, Options{Expanded: errdefs.Bound{Max: bound, Flag: "--max"}})
			_, err := r.Next()
			if !errors.Is(err, errdefs.ErrTooLarge) || err.Error() != "at its first entry: expands past 1048576 bytes (--max)" {
				t.Fatalf("Next: %v; want the bound passed", err)
			}
			if _, err := r.Next(); !errors.Is(err, errdefs.ErrTooLarge) {
				t.Fatalf("Next again: %v", err)
			}
			if err := r.Finish(); err == io.EOF || err == nil {
				t.Fatalf("Finish: %v", err)
			}
		})
	}
}
