package compress

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

func TestBounded(t *testing.T) {
	b := errdefs.Bound{Max: 1000, Flag: "--max"}
	for _, tc := range []struct {
		name string
		n    int
		fail bool
	}{
		{"Under", 999, false},
		{"Exactly", 1000, false},
		{"Over", 1001, true},
		{"FarOver", 1 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := io.Copy(io.Discard, Bounded(bytes.NewReader(make([]byte, tc.n)), b))
			if tc.fail != (err != nil) {
				t.Fatalf("err = %v, want failure %v", err, tc.fail)
			}
			if tc.fail && (!errors.Is(err, errdefs.ErrTooLarge) || err.Error() != "expands past 1000 bytes (--max)" || n > 1001) {
				t.Fatalf("err = %v after %d bytes", err, n)
			}
		})
	}
	if r := Bounded(bytes.NewReader(nil), errdefs.Bound{}); r == nil {
		t.Fatal("no reader without a bound")
	}
}
