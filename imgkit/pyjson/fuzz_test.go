package pyjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// FuzzParse: any input either parses, and then prints and parses back to
// the same bytes, or fails with one line wrapping ErrInvalidInput; never a
// panic. It agrees with encoding/json on what is JSON, except where the
// package doc says it refuses what Python would misprint (a float out of
// range, an integer beyond Python's digit limit) and on nesting deeper than
// MaxDepth.
func FuzzParse(f *testing.F) {
	for _, c := range dumpCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`{"a": [1e5, -0, "\ud800\udc00"]}`))
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		f.Add(fx.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		valid := json.Valid(data) && utf8.Valid(data)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			if valid && !documentedRefusal(err) {
				t.Fatalf("%q is JSON, but Parse refuses it: %v", data, err)
			}
			return
		}
		if !valid {
			t.Fatalf("%q is not JSON for encoding/json, but Parse accepts it", data)
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

// documentedRefusal reports whether err is one of the refusals of JSON
// the package doc lists.
func documentedRefusal(err error) bool {
	for _, s := range []string{"out of a float's range", "more than Python's limit", "nested deeper than"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
