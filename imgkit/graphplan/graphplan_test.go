package graphplan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

const canonical = `[
{"path":"/nix/store/aaa-a","narSize":120,"references":[]},
{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}
]
`

// canonicalHashes is canonical with the NAR hashes Nix gave: kept, in
// Nix's base32 whatever notation they came in.
const canonicalHashes = `[
{"path":"/nix/store/aaa-a","narHash":"sha256:1j6gl9w2y8g5fs5nhdk2vlrkflr2wmiavkw5sycn5ysccvx2jvlh","narSize":120,"references":[]},
{"path":"/nix/store/bbb-b","narHash":"sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}
]
`

// The same graph in every shape ReadGraph accepts; want is canonical
// unless given.
var shapes = map[string]struct{ key, doc, want string }{
	"Canonical":       {"", canonical, ""},
	"CanonicalHashes": {"", canonicalHashes, canonicalHashes},
	"NixArray": {"", `[{"path":"/nix/store/bbb-b","narHash":"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","narSize":560,"references":["/nix/store/bbb-b","/nix/store/aaa-a"],"deriver":"/nix/store/x.drv"},
		{"path":"/nix/store/aaa-a","narHash":"sha256-kG4p+mZM+2KZ14XPrWLlIlM3M91iNmiLduUhL3iiz8g=","narSize":120,"references":[]}]`, canonicalHashes},
	"OldNixArray": {"", `[{"path":"/nix/store/bbb-b","narHash":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","narSize":560,"references":["/nix/store/bbb-b","/nix/store/aaa-a"]},
		{"path":"/nix/store/aaa-a","narHash":"sha256:1j6gl9w2y8g5fs5nhdk2vlrkflr2wmiavkw5sycn5ysccvx2jvlh","narSize":120,"references":[]}]`, canonicalHashes},
	"NixObject": {"", `{"/nix/store/bbb-b":{"narSize":560,"references":["aaa-a","bbb-b"]},"/nix/store/aaa-a":{"narSize":120,"references":[]}}`, ""},
	"StructuredAttrs": {"", `{"graph":[{"path":"/nix/store/aaa-a","narSize":120,"references":[],"closureSize":120,"valid":true},
		{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}],"name":"x"}`, ""},
	"StructuredAttrsKey": {"closure", `{"closure":[{"path":"/nix/store/aaa-a","narSize":120,"references":[]},
		{"path":"/nix/store/bbb-b","narSize":560,"references":["/nix/store/aaa-a","/nix/store/bbb-b"]}],"other":[]}`, ""},
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
			want := s.want
			if want == "" {
				want = canonical
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

// TestReadGraphKeepsOtherNarHash: a narHash that is no NAR hash (nixpkgs'
// test graphs say "sha256:x") is kept as it is, neither refused, which
// would refuse nixpkgs' own fixtures, nor dropped: what uses it checks it.
func TestReadGraphKeepsOtherNarHash(t *testing.T) {
	g, err := ReadGraph(strings.NewReader(`[{"path":"/s/a","narHash":"sha256:x","narSize":1,"references":[]}]`), "")
	if err != nil {
		t.Fatal(err)
	}
	if g[0].NarHash != "sha256:x" {
		t.Fatalf("narHash %q", g[0].NarHash)
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

// TestReadAllFile: a regular file is read from where its offset is to its
// end, whatever its size against the buffer made from it, and a file that
// grew after its size was taken is read to its new end.
func TestReadAllFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 100_000} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		name := filepath.Join(dir, fmt.Sprint(size))
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, skip := range []int{0, size / 2} {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(int64(skip), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(f)
			f.Close()
			if err != nil || !bytes.Equal(got, data[skip:]) {
				t.Fatalf("size %d from %d: read %d bytes, error %v; want %d bytes", size, skip, len(got), err, size-skip)
			}
		}
	}
	// The file grows by more than the buffer's slack after its size is
	// taken (Stat), before it is read.
	name := filepath.Join(dir, "growing")
	data := bytes.Repeat([]byte("x"), 1000)
	if err := os.WriteFile(name, data[:10], 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	grow := statHook{f, func() {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}}
	if got, err := readAll(grow); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("growing file: read %d bytes, error %v; want %d bytes", len(got), err, len(data))
	}
}

// statHook is a file that runs after when it has answered Stat.
type statHook struct {
	*os.File
	after func()
}

func (s statHook) Stat() (fs.FileInfo, error) {
	fi, err := s.File.Stat()
	s.after()
	return fi, err
}

// TestCheckOnAllCores: a graph large enough to be checked by several
// goroutines is made canonical (reference lists sorted, duplicates gone)
// as in one, and its first bad path in order is the one reported, whichever
// goroutine finds it: a path that is not clean, or one listed twice.
func TestCheckOnAllCores(t *testing.T) {
	const n = 5 * chunkMin
	graph := func() Graph {
		g := make(Graph, n)
		for i := range g {
			g[i] = PathInfo{Path: fmt.Sprintf("/s/%06d", i), NarSize: uint64(i)}
			for _, j := range []int{(i + 2) % n, (i + 1) % n, (i + 2) % n} {
				g[i].References = append(g[i].References, fmt.Sprintf("/s/%06d", j))
			}
		}
		return g
	}
	g, err := graph().check(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := graph().Canonical(); !reflect.DeepEqual(g, want) {
		t.Fatal("the checked graph is not the canonical one")
	}
	unclean := graph()
	// The first late in the first half, so that with two goroutines the
	// second finds one first.
	for _, i := range []int{n - 5, n/2 + 100, 3 * n / 4, n/2 - 100} {
		unclean[i].Path += "/"
	}
	if _, err := unclean.check(context.Background(), false); err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf(`graph: "/s/%06d/" is not a clean`, n/2-100)) {
		t.Errorf("error %v, want one for the first unclean path", err)
	}
	twice := graph()
	for _, i := range []int{n - 5, n/2 + 100, 3 * n / 4, n/2 - 100} {
		twice[i].Path = twice[i-1].Path
	}
	want := fmt.Sprintf("graph: %q appears twice", twice[n/2-100].Path)
	if _, err := twice.check(context.Background(), false); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %s…", err, want)
	}
}

// TestWritePlanVerbatim: layers written without encoding/json (strings it
// writes as they are) come out as encoding/json writes them, and layers
// with any string it would escape still go through it: quotes,
// backslashes, control and non-ASCII characters, U+2028, invalid UTF-8,
// HTML's <>&, DEL, empty strings and layers.
func TestWritePlanVerbatim(t *testing.T) {
	pieces := []string{"/nix/store/abc-x", "a", "", `"`, `\`, "\n", "\x1f", "\x7f", "é", "\u2028", "\xff", "<", ">", "&", " ", "~"}
	r := rand.New(rand.NewPCG(9, 9))
	for range 2000 {
		p := make(Plan, r.IntN(4))
		for i := range p {
			if r.IntN(8) == 0 {
				continue // an empty layer (nil)
			}
			for range r.IntN(4) {
				s := "/s/"
				for range r.IntN(3) {
					s += pieces[r.IntN(len(pieces))]
				}
				if r.IntN(3) == 0 {
					s = "/nix/store/abc-plain"
				}
				p[i] = append(p[i], s)
			}
		}
		var want bytes.Buffer
		want.WriteString("[")
		for i, l := range p {
			if i > 0 {
				want.WriteString(",")
			}
			if l == nil {
				l = []string{}
			}
			b, err := marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			want.WriteString("\n")
			want.Write(b)
		}
		if len(p) > 0 {
			want.WriteString("\n")
		}
		want.WriteString("]\n")
		var got bytes.Buffer
		if err := WritePlan(&got, p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%q written as\n%s\nencoding/json writes\n%s", p, got.Bytes(), want.Bytes())
		}
	}
}

// TestReadGraphKeysAsPython: Nix and nixpkgs' Python scripts read a node's
// path, narSize, narHash and references by their exact keys (json.load,
// node["path"]); encoding/json took "PATH", "NarSize" or "referenceſ" for
// them, the last one written winning, so a graph gave popularity other
// paths than nixpkgs read. A key in another case is another key, in every
// shape; a node with only such keys has no path or narSize.
func TestReadGraphKeysAsPython(t *testing.T) {
	want := "[\n" + `{"path":"/s/a","narSize":1,"references":["/s/a"]}` + "\n]\n"
	for name, doc := range map[string]string{
		"Array":     `[{"path":"/s/a","narSize":1,"references":["/s/a"],"deriver":"x","PATH":"/s/b","NarSize":5,"Referenceſ":[]}]`,
		"Escaped":   `[{"path":"/s/a","narSize":1,"references":["/s/a"],"deriver":"x","\u0050ath":"/s/b"}]`,
		"Keyed":     `{"/s/a":{"narSize":1,"references":["a"],"NARSIZE":5,"References":[]}}`,
		"Attrs":     `{"closure":[{"path":"/s/a","narSize":1,"references":["/s/a"],"narsize":7}]}`,
		"FirstOnly": `[{"PATH":"/s/b","path":"/s/a","narSize":1,"references":["/s/a"],"deriver":"x"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			g, err := ReadGraph(strings.NewReader(doc), "")
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := WriteGraph(&out, g); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
	for name, doc := range map[string]string{
		"OnlyPathInOtherCase":    `[{"Path":"/s/a","narSize":1,"references":[]}]`,
		"OnlyNarSizeInOtherCase": `[{"path":"/s/a","narſize":1,"references":[]}]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadGraph(strings.NewReader(doc), ""); !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Fatalf("got %v, want refused", err)
			}
		})
	}
}

// TestFoldedKeys: the look for keys in another case finds every key (a
// string followed by a colon, escaped or not, after strings holding
// escaped quotes and backslashes) and takes no value for a key.
func TestFoldedKeys(t *testing.T) {
	for doc, want := range map[string]bool{
		`[{"path":"/s/a","narSize":1}]`:                            false,
		`[{"path":"PATH","deriver":"NarSize","x":["References"]}]`: false,
		`[{"PATH" : 1}]`:                  true,
		`[{"nArHaSh":"x"}]`:               true,
		`[{"referenceſ":[]}]`:             true,
		`[{"\u0050ath":1}]`:               true,
		`[{"\u0070ath":1}]`:               false, // "path" itself
		`[{"a":"x\"Path\":","b":1}]`:      false,
		`[{"a":"x\\","Path":1}]`:          true,
		`{"deep":{"er":[{"NARSIZE":1}]}}`: true,
	} {
		if got := foldedKeys([]byte(doc)); got != want {
			t.Errorf("%s: %v, want %v", doc, got, want)
		}
	}
}

// TestReadGraphKeyedErrorIsDeterministic: of several nodes Nix does not
// know (null) in the object form, the error names the first path, every
// time: the nodes were taken in a map's order, which changes from run to
// run.
func TestReadGraphKeyedErrorIsDeterministic(t *testing.T) {
	doc := `{"/s/a":null,"/s/b":null,"/s/c":null,"/s/d":null,"/s/e":null,"/s/f":null,"/s/g":null,"/s/h":null}`
	for range 20 {
		_, err := ReadGraph(strings.NewReader(doc), "")
		if err == nil || !strings.Contains(err.Error(), `"/s/a"`) {
			t.Fatalf("got %v, want the error to name /s/a", err)
		}
	}
}
