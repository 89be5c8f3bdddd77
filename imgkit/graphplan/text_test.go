package graphplan

import (
	"errors"
	"path"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// TestPathRule: every path of a graph and of a plan is UTF-8 on one line;
// the graph's and the plan's readers refuse the same paths with the same
// cause. Each document holds the path P once as a node and as a plan entry.
func TestPathRule(t *testing.T) {
	cases := []struct {
		name, path string // JSON string contents
		want       string // the cause, "" when accepted
	}{
		{"Plain", `/s/a`, ""},
		{"Unicode", `/s/a-é-日本`, ""},
		{"EscapedPair", `/s/\ud83d\ude00`, ""},
		{"ReplacementCharacter", "/s/\uFFFD", ""},
		{"EscapedBackslashThenU", `/s/\\ud800`, ""},
		{"Tab", `/s/a\tb`, ""},
		{"InvalidUTF8", "/s/\xff", "not UTF-8"},
		{"TruncatedUTF8", "/s/\xe6\x97", "not UTF-8"},
		{"LoneHighSurrogate", `/s/\ud800x`, `\ud800 is half a UTF-16 surrogate pair, no character`},
		{"LoneLowSurrogate", `/s/\udc00`, `\udc00 is half a UTF-16 surrogate pair, no character`},
		{"HighThenHigh", `/s/\ud800\ud800`, `\ud800 is half a UTF-16 surrogate pair, no character`},
		{"NUL", `/s/a\u0000b`, `"/s/a\x00b" holds a NUL byte`},
		{"Newline", `/s/a\nb`, `"/s/a\nb" holds a newline`},
		{"EscapedNewline", `/s/a\u000ab`, `"/s/a\nb" holds a newline`},
		{"Relative", `s/a`, `"s/a" is not a clean absolute path`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			graph := `[{"path":"` + c.path + `","narSize":1,"references":[]}]`
			plan := `[["` + c.path + `"]]`
			_, gerr := ReadGraph(strings.NewReader(graph), "")
			_, perr := ReadPlan(strings.NewReader(plan))
			for _, r := range []struct {
				doc, prefix string
				err         error
			}{{"graph", "graph: ", gerr}, {"plan", "plan: ", perr}} {
				switch {
				case strings.HasPrefix(c.want, `"`) && r.doc == "plan":
					r.prefix += "layer 0: " // a path's problem names its layer
				case c.want != "" && !strings.HasPrefix(c.want, `"`):
					r.prefix += "JSON line 1 column " // text is refused where it is
				}
				switch {
				case c.want == "" && r.err != nil:
					t.Errorf("%s: unexpected error: %v", r.doc, r.err)
				case c.want != "" && !errors.Is(r.err, errdefs.ErrInvalidInput):
					t.Errorf("%s: got %v, want an invalid input error", r.doc, r.err)
				case c.want != "" && (!strings.HasPrefix(r.err.Error(), r.prefix) || !strings.HasSuffix(r.err.Error(), c.want+": invalid input")):
					t.Errorf("%s: got %q, want %q…%q", r.doc, r.err, r.prefix, c.want+": invalid input")
				}
			}
		})
	}
}

// cleanAbsCases are paths at the edges of the rule: slashes doubled or
// trailing, "." and ".." as whole names or inside one.
var cleanAbsCases = []string{
	"", "/", "//", "///", "a", "a/b", ".", "..", "/.", "/..", "/./", "/../",
	"/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/a/.", "/a/..", "/./a", "/../a",
	"/a.", "/.a", "/..a", "/a..", "/a/...", "/.../a", "/a/b.c/d",
	"/nix/store/00033c990cmr9lmr5grbp04hjrkjnf1h-output-1.2",
	"/nix/store/00033c990cmr9lmr5grbp04hjrkjnf1h-output-1.2/",
}

// TestCleanAbs: cleanAbs agrees with path.IsAbs and path.Clean, the rule
// it stands for.
func TestCleanAbs(t *testing.T) {
	for _, p := range cleanAbsCases {
		if got, want := cleanAbs(p), path.IsAbs(p) && path.Clean(p) == p; got != want {
			t.Errorf("cleanAbs(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzCleanAbs(f *testing.F) {
	for _, p := range cleanAbsCases {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := cleanAbs(p), path.IsAbs(p) && path.Clean(p) == p; got != want {
			t.Errorf("cleanAbs(%q) = %v, want %v", p, got, want)
		}
	})
}
