package pyjson

import (
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// The expected values below were produced by CPython 3.11.7
// (json.dumps(json.loads(in), indent=4), json.dumps(json.loads(in)) and
// repr(list)); TestAgainstPython re-checks them whenever python3 is there.
var dumpCases = []struct {
	name, in, indent4, compact string
}{
	{"KeyOrderKept", `{"b": 1, "a": [1, 2.5, "x"], "c": {}}`,
		"{\n    \"b\": 1,\n    \"a\": [\n        1,\n        2.5,\n        \"x\"\n    ],\n    \"c\": {}\n}",
		`{"b": 1, "a": [1, 2.5, "x"], "c": {}}`},
	{"EmptyArray", `[]`, `[]`, `[]`},
	{"EmptyObject", `{}`, `{}`, `{}`},
	{"NestedEmpty", `[[]]`, "[\n    []\n]", `[[]]`},
	{"EmptyInside", `[{}, {"k": []}]`, "[\n    {},\n    {\n        \"k\": []\n    }\n]", `[{}, {"k": []}]`},
	{"RepeatedKeyFirstPlaceLastValue", `{"a": 1, "b": 2, "a": 3}`, "{\n    \"a\": 3,\n    \"b\": 2\n}", `{"a": 3, "b": 2}`},
	{"FloatRepr", `[1e5, 1.0, -0.0, 0.0, 1E+2, 2.5e-5, 0.0001, 123456789012345678, 1e16, 1e15, 1.5e300, 5e-324, 0.1, -1.25e-7]`,
		"[\n    100000.0,\n    1.0,\n    -0.0,\n    0.0,\n    100.0,\n    2.5e-05,\n    0.0001,\n    123456789012345678,\n    1e+16,\n    1000000000000000.0,\n    1.5e+300,\n    5e-324,\n    0.1,\n    -1.25e-07\n]",
		`[100000.0, 1.0, -0.0, 0.0, 100.0, 2.5e-05, 0.0001, 123456789012345678, 1e+16, 1000000000000000.0, 1.5e+300, 5e-324, 0.1, -1.25e-07]`},
	{"BigAndNegativeZeroInts", `[-0, 0, 123456789012345678901234567890, -12]`,
		"[\n    0,\n    0,\n    123456789012345678901234567890,\n    -12\n]", `[0, 0, 123456789012345678901234567890, -12]`},
	{"EscapesAndSurrogates", `["\u00e9\u4e2d\ud83d\ude00", "\ud800", "\udc00x", "\u007f\u0000\u001f", "\"\\\/\b\f\n\r\t"]`,
		"[\n    \"\\u00e9\\u4e2d\\ud83d\\ude00\",\n    \"\\ud800\",\n    \"\\udc00x\",\n    \"\\u007f\\u0000\\u001f\",\n    \"\\\"\\\\/\\b\\f\\n\\r\\t\"\n]",
		`["\u00e9\u4e2d\ud83d\ude00", "\ud800", "\udc00x", "\u007f\u0000\u001f", "\"\\/\b\f\n\r\t"]`},
	{"RawNonASCII", "\"caf\u00e9 \U0001f600\"", `"caf\u00e9 \ud83d\ude00"`, `"caf\u00e9 \ud83d\ude00"`},
	{"True", `true`, `true`, `true`},
	{"Null", `null`, `null`, `null`},
	{"Whitespace", "  [false , null ]\n", "[\n    false,\n    null\n]", `[false, null]`},
}

func TestDumps(t *testing.T) {
	for _, c := range dumpCases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(Dumps(v, 4)); got != c.indent4 {
				t.Errorf("indent=4:\n got %q\nwant %q", got, c.indent4)
			}
			if got := string(Dumps(v, None)); got != c.compact {
				t.Errorf("indent=None:\n got %q\nwant %q", got, c.compact)
			}
		})
	}
}

var reprCases = []struct {
	name string
	in   []string
	want string
}{
	{"Empty", []string{}, `[]`},
	{"One", []string{"a"}, `['a']`},
	{"StorePaths", []string{"/nix/store/x", "/nix/store/y"}, `['/nix/store/x', '/nix/store/y']`},
	{"SingleQuoteUsesDouble", []string{"it's"}, `["it's"]`},
	{"DoubleQuoteKept", []string{`say "hi"`}, `['say "hi"']`},
	{"BothQuotes", []string{`both ' and "`}, `['both \' and "']`},
	{"Backslash", []string{`back\slash`}, `['back\\slash']`},
	{"WhitespaceEscapes", []string{"tab\tnl\ncr\r"}, `['tab\tnl\ncr\r']`},
	{"ControlAndDel", []string{"\x00\x1f\x7f"}, `['\x00\x1f\x7f']`},
	{"PrintableLatin1", []string{"caf\u00e9"}, "['caf\u00e9']"},
	{"NonPrintableLatin1", []string{"\u00a0\u00ad"}, `['\xa0\xad']`},
	{"NonPrintableBMP", []string{"\u200b\u2028"}, `['\u200b\u2028']`},
	{"PrintableAstral", []string{"\U0001f600"}, "['\U0001f600']"},
	{"LoneSurrogate", []string{"\xed\xa0\x80"}, `['\ud800']`},
	{"NonPrintableAstral", []string{"\U000e0001"}, `['\U000e0001']`},
	{"Noncharacter", []string{"\uffff"}, `['\uffff']`},
	{"CJK", []string{"\u4e2d"}, "['\u4e2d']"},
}

func TestReprList(t *testing.T) {
	for _, c := range reprCases {
		t.Run(c.name, func(t *testing.T) {
			if got := ReprList(c.in); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	cases := []struct{ name, in, msg string }{
		{"Empty", ``, "line 1 column 1: expecting a value"},
		{"ExtraData", `{} {}`, "line 1 column 4: extra data"},
		{"TrailingComma", `[1,]`, "expecting a value"},
		{"UnquotedKey", `{a: 1}`, "property name"},
		{"MissingColon", `{"a" 1}`, "':' delimiter"},
		{"MissingComma", "[1\n 2]", "line 2 column 2: expecting ',' delimiter"},
		{"NaN", `[NaN]`, "NaN is not JSON"},
		{"Infinity", `-Infinity`, "-Infinity is not JSON"},
		{"FloatOverflow", `1e400`, "out of a float's range"},
		{"LeadingZero", `01`, "leading zero"},
		{"BareMinus", `-`, "expecting a value"},
		{"HugeInt", strings.Repeat("7", 4301), "Python's limit"},
		{"ControlInString", "\"a\tb\"", "control character"},
		{"BadEscape", `"\x41"`, `invalid \escape`},
		{"ShortUnicodeEscape", `"\u12"`, `invalid \uXXXX`},
		{"Unterminated", `"abc`, "unterminated string"},
		{"InvalidUTF8", "\"a\xffb\"", "line 1 column 3: invalid UTF-8"},
		{"EncodedSurrogate", "\"\xed\xa0\x80\"", "invalid UTF-8"},
		{"ByteOrderMark", "\xef\xbb\xbf{}", "byte order mark"},
		{"TooDeep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nested deeper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Fatalf("got %v, want an invalid-input error", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %q, want it to contain %q", err, c.msg)
			}
		})
	}
}

func TestParseAcceptsMaxDepth(t *testing.T) {
	in := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(in)); err != nil {
		t.Fatal(err)
	}
}

func TestObjectEditing(t *testing.T) {
	o := NewObject(Member{"a", NewInt(1)}, Member{"b", NewInt(2)}, Member{"c", NewInt(3)})
	o.Set("b", String("two")) // in place
	o.Delete("a")
	o.Set("a", Bool(true)) // appended: a new key goes last
	o.Delete("missing")
	if got, want := string(Dumps(o, None)), `{"b": "two", "c": 3, "a": true}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if v, ok := o.Get("c"); !ok || v != NewInt(3) {
		t.Fatalf("Get(c) = %v, %v", v, ok)
	}
	c := Clone(o).(*Object)
	c.Set("c", Null{})
	if v, _ := o.Get("c"); v != NewInt(3) {
		t.Fatal("Clone shares its members with the original")
	}
}

func TestOptions(t *testing.T) {
	v, err := Parse([]byte(`{"b": [1, 2], "a": {"\u00e9": 1, "z": 2}}`))
	if err != nil {
		t.Fatal(err)
	}
	// json.dumps(v, sort_keys=True, indent=2, separators=(", ", ": ")), as
	// nixpkgs' flatten_references_graph prints layers: trailing spaces.
	got := string(Options{Indent: 2, ItemSeparator: ", ", SortKeys: true}.Dumps(v))
	want := "{\n  \"a\": {\n    \"z\": 2, \n    \"\\u00e9\": 1\n  }, \n  \"b\": [\n    1, \n    2\n  ]\n}"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// The expected strings are what jq 1.6 prints for them (echo IN | jq .),
// nixpkgs' buildImage's printer: UTF-8 kept, DEL and control characters
// escaped. jq refuses to read a lone surrogate; it is U+FFFD here.
func TestOptionsJQStrings(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"NonASCIIKept", `"\u00e9\ud83d\ude00"`, "\"\u00e9\U0001f600\""},
		{"ControlAndDEL", `"a\u0001\u007f\u001f"`, `"a\u0001\u007f\u001f"`},
		{"ShortEscapes", `"\"\\\b\f\n\r\t/"`, `"\"\\\b\f\n\r\t/"`},
		{"LoneSurrogate", `"x\ud800y"`, "\"x\ufffdy\""},
	} {
		v, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := string(Options{Indent: 2, JQ: true}.Dumps(v)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNilObjectReadsAsEmpty(t *testing.T) {
	var o *Object
	if _, ok := o.Get("a"); ok || o.Len() != 0 || len(o.Keys()) != 0 {
		t.Fatal("a nil object is not empty")
	}
	if got := string(Dumps(Array{o, Clone(o)}, None)); got != `[{}, {}]` {
		t.Fatalf("got %s", got)
	}
}
