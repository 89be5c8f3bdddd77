package pyjson

import (
	"bytes"
	"errors"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// FuzzParse: any input either parses, and then prints and parses back to
// the same bytes, or fails with an invalid-input error; never a panic.
func FuzzParse(f *testing.F) {
	for _, c := range dumpCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`{"a": [1e5, -0, "\ud800\udc00"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidInput", data, err)
			}
			return
		}
		for _, indent := range []int{None, 4} {
			out := Dumps(v, indent)
			back, err := Parse(out)
			if err != nil {
				t.Fatalf("%q printed as %q, which does not parse: %v", data, out, err)
			}
			if again := Dumps(back, indent); !bytes.Equal(again, out) {
				t.Fatalf("%q: %q then %q", data, out, again)
			}
		}
	})
}
