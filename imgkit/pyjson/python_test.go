package pyjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"dockertools.dev/testkit"
)

// pythonOracle prints, for each JSON document on stdin (one a line), a JSON
// array: [json.dumps(v, indent=4), json.dumps(v), repr(v) or "", the
// characters of the strings that this Python's Unicode database does not
// know (their printability depends on the Unicode version)].
const pythonOracle = `
import json, sys, unicodedata
for line in sys.stdin:
    v = json.loads(line)
    r, unknown = "", ""
    if isinstance(v, list) and all(isinstance(s, str) for s in v):
        r = repr(v)
        unknown = "".join(c for s in v for c in s if unicodedata.category(c) == "Cn")
    print(json.dumps([json.dumps(v, indent=4), json.dumps(v), r, unknown]))
`

// TestAgainstPython runs the table cases and a few thousand random values
// through CPython and compares every byte.
func TestAgainstPython(t *testing.T) {
	testkit.Need(t, "python3")
	rng := rand.New(rand.NewPCG(1, 2))
	var docs []string
	for _, c := range dumpCases {
		docs = append(docs, strings.ReplaceAll(c.in, "\n", " "))
	}
	for _, c := range reprCases {
		docs = append(docs, string(Dumps(Strings(c.in), None)))
	}
	for range 3000 {
		docs = append(docs, "["+randomFloat(rng)+"]")
	}
	for range 500 {
		ss := make([]string, 1+rng.IntN(3))
		for i := range ss {
			ss[i] = randomString(rng)
		}
		docs = append(docs, string(Dumps(Strings(ss), None)))
	}
	cmd := exec.Command("python3", "-c", pythonOracle)
	cmd.Stdin = strings.NewReader(strings.Join(docs, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		var want [4]string
		if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
			t.Fatalf("python output %d: %v", i, err)
		}
		v, err := Parse([]byte(docs[i]))
		if err != nil {
			t.Errorf("%s: %v", docs[i], err)
			continue
		}
		if got := string(Dumps(v, 4)); got != want[0] {
			t.Errorf("%s indent=4:\n got %q\nwant %q", docs[i], got, want[0])
		}
		if got := string(Dumps(v, None)); got != want[1] {
			t.Errorf("%s indent=None:\n got %q\nwant %q", docs[i], got, want[1])
		}
		if ss, ok := AsStrings(v); ok && want[2] != "" {
			if got := ReprList(ss); got != want[2] && !newerUnicode(want[3]) {
				t.Errorf("%s repr:\n got %q\nwant %q", docs[i], got, want[2])
			}
		}
	}
}

// newerUnicode reports whether some of the characters Python does not know
// are printable in Go's newer Unicode tables: then repr may differ, by
// design (see the package doc).
func newerUnicode(unknownToPython string) bool {
	for _, r := range unknownToPython {
		if unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// randomFloat returns a float64 in Go's shortest form, from random bits
// (any magnitude) or from short random decimals (the common case in
// configs).
func randomFloat(rng *rand.Rand) string {
	var f float64
	switch rng.IntN(3) {
	case 0:
		for f = math.NaN(); math.IsNaN(f) || math.IsInf(f, 0); {
			f = math.Float64frombits(rng.Uint64())
		}
	case 1:
		f = float64(rng.IntN(2000000)-1000000) * math.Pow10(rng.IntN(40)-20)
	default:
		f = float64(rng.IntN(100000)) / float64(1+rng.IntN(1000))
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0" // keep it a float for json.loads
	}
	return s
}

// randomString returns a string of code points from the ranges where the
// escaping rules change, lone surrogates (as WTF-8) included.
func randomString(rng *rand.Rand) string {
	ranges := [][2]rune{{0, 0x7f}, {0x80, 0xff}, {0x100, 0x2fff}, {0xd800, 0xdfff}, {0xe000, 0xffff}, {0x10000, 0x10ffff}, {'\'', '\''}, {'"', '"'}, {'\\', '\\'}}
	var b strings.Builder
	for range rng.IntN(8) {
		rg := ranges[rng.IntN(len(ranges))]
		writeWTF8(&b, rg[0]+rune(rng.IntN(int(rg[1]-rg[0]+1))))
	}
	return b.String()
}
