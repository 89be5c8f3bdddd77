package format

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

const canonical = `[
{"path":"/nix/store/aaa-a","narSize":120,"references":[]},
{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}
]
`

// withNarHash is canonical with the narHash members Nix's array gives,
// which are kept (after path, as Nix prints them).
const withNarHash = `[
{"path":"/nix/store/aaa-a","narHash":"sha256-y","narSize":120,"references":[]},
{"path":"/nix/store/bbb-b","narHash":"sha256-x","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}
]
`

// The same graph in every shape ReadGraph accepts.
var shapes = map[string]struct{ key, doc string }{
	"Canonical":   {"", canonical},
	"WithNarHash": {"", withNarHash},
	"NixArray": {"", `[{"path":"/nix/store/bbb-b","narHash":"sha256-x","narSize":560,"references":["/nix/store/bbb-b","/nix/store/aaa-a"],"deriver":"/nix/store/x.drv"},
		{"path":"/nix/store/aaa-a","narHash":"sha256-y","narSize":120,"references":[]}]`},
	"NixObject": {"", `{"/nix/store/bbb-b":{"narSize":560,"references":["aaa-a","bbb-b"]},"/nix/store/aaa-a":{"narSize":120,"references":[]}}`},
	"StructuredAttrs": {"", `{"graph":[{"path":"/nix/store/aaa-a","narSize":120,"references":[],"closureSize":120,"valid":true},
		{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}],"name":"x"}`},
	"StructuredAttrsKey": {"closure", `{"closure":[{"path":"/nix/store/aaa-a","narSize":120,"references":[]},
		{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}],"other":[]}`},
}

func TestReadGraphShapes(t *testing.T) {
	for name, s := range shapes {
		t.Run(name, func(t *testing.T) {
			g, err := ReadGraph(strings.NewReader(s.doc), s.key)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteGraph(&out, g); err != nil {
				t.Fatal(err)
			}
			want := canonical
			if strings.Contains(s.doc, "narHash") {
				want = withNarHash
			}
			if out.String() != want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
}

func TestReadGraphRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"Empty":     "",
		"NotJSON":   "nix",
		"Dangling":  `[{"path":"/s/a","narSize":1,"references":["/s/b"]}]`,
		"Duplicate": `[{"path":"/s/a","narSize":1,"references":[]},{"path":"/s/a","narSize":1,"references":[]}]`,
		"Relative":  `[{"path":"s/a","narSize":1,"references":[]}]`,
		"NoNarSize": `[{"path":"/s/a","references":[]}]`,
		"NullInNix": `{"/s/a":null}`,
		"TwoArrays": `{"a":[],"b":[]}`,
		"NoPath":    `[{"narSize":1}]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadGraph(strings.NewReader(doc), ""); !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	p, err := ReadPlan(strings.NewReader(`[["/s/a"],[],["/s/b","/s/c"]]`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	WritePlan(&out, p)
	if want := "[\n[\"/s/a\"],\n[],\n[\"/s/b\",\"/s/c\"]\n]\n"; out.String() != want {
		t.Fatalf("got %q", out.String())
	}
	for _, bad := range []string{"", "{}", `[["a"]]`, `[["/s/a"],["/s/a"]]`, `[[1]]`} {
		if _, err := ReadPlan(strings.NewReader(bad)); !errors.Is(err, errdefs.ErrInvalidInput) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}
