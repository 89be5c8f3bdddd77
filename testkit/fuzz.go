package testkit

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// Seed corpora for the fuzz targets come from the repository's testscript
// fixtures, so that each target starts from the inputs the tools are tested
// with: the files of every */testdata/script/*.txtar (the tools', the
// workflows' in scripts/ and testkit's own).

// MaxSeed is the largest seed kept: fuzzing mutates small inputs far
// faster, and a large fixture adds nothing a small one lacks.
const MaxSeed = 64 << 10

// fixtureGlobs are the testscript fixtures, relative to the repository.
var fixtureGlobs = []string{"*/testdata/script/*.txtar"}

// Fixture is one file of a testscript fixture.
type Fixture struct {
	Script string // the txtar file, relative to the repository
	Name   string // the file's name inside it
	Data   []byte
}

// Fixtures returns the files of every testscript fixture whose name keep
// accepts and that are at most MaxSeed bytes, sorted by script and in
// their order inside it. It fails tb when the repository (the directory
// holding go.work, above the test's) cannot be found or holds no fixture.
func Fixtures(tb testing.TB, keep func(name string) bool) []Fixture {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	var scripts []string
	for _, g := range fixtureGlobs {
		m, err := filepath.Glob(filepath.Join(root, g))
		if err != nil {
			tb.Fatal(err)
		}
		scripts = append(scripts, m...)
	}
	if len(scripts) == 0 {
		tb.Fatalf("no testscript fixture under %s", root)
	}
	sort.Strings(scripts)
	var out []Fixture
	for _, s := range scripts {
		a, err := txtar.ParseFile(s)
		if err != nil {
			tb.Fatal(err)
		}
		rel, _ := filepath.Rel(root, s)
		for _, f := range a.Files {
			if keep(f.Name) && len(f.Data) <= MaxSeed {
				out = append(out, Fixture{Script: rel, Name: f.Name, Data: f.Data})
			}
		}
	}
	return out
}

// FixturesNamed returns the fixture files whose names end in one of
// suffixes (".json", "plan.json").
func FixturesNamed(tb testing.TB, suffixes ...string) []Fixture {
	tb.Helper()
	return Fixtures(tb, func(name string) bool {
		for _, s := range suffixes {
			if strings.HasSuffix(name, s) {
				return true
			}
		}
		return false
	})
}

// FixtureTars returns a tar built by MakeTar from every mktar spec of the
// fixtures (files named spec, *.spec or spec.txt), in PAX and in GNU
// format, leaving out the specs MakeTar refuses (other languages use those
// names too) and tars larger than MaxSeed.
func FixtureTars(tb testing.TB) []Fixture {
	tb.Helper()
	return specTars(tb, "pax", "gnu")
}

// specTars is FixtureTars in the tar formats given, each tar named
// SPEC.FORMAT.
func specTars(tb testing.TB, formats ...string) []Fixture {
	tb.Helper()
	var out []Fixture
	for _, f := range Fixtures(tb, isSpec) {
		for _, format := range formats {
			var buf bytes.Buffer
			if MakeTar(bytes.NewReader(f.Data), &buf, TarOptions{Format: format}) != nil || buf.Len() > MaxSeed {
				continue
			}
			out = append(out, Fixture{Script: f.Script, Name: f.Name + "." + format, Data: buf.Bytes()})
		}
	}
	return out
}

// AddLayerPairs adds the fixtures' layers (PAX) to f as (lower, upper)
// seeds, for targets that apply layers (see LayerImage): each layer alone
// (upper empty), and each with the next one of its script. Only the PAX
// tars are made: GNU ones would be thrown away.
func AddLayerPairs(f *testing.F) {
	f.Helper()
	var prev Fixture
	for _, fx := range specTars(f, "pax") {
		f.Add(fx.Data, []byte(nil))
		if prev.Script == fx.Script {
			f.Add(prev.Data, fx.Data)
		}
		prev = fx
	}
}

func isSpec(name string) bool {
	base := filepath.Base(name)
	return base == "spec" || base == "spec.txt" || strings.HasSuffix(base, ".spec")
}

// TarHeaders returns the headers of a tar, as far as archive/tar reads it.
func TarHeaders(data []byte) []*tar.Header {
	var out []*tar.Header
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			return out
		}
		out = append(out, h)
	}
}

// CheckError fails tb unless err is what a tool may print after "tool: ":
// one line, not empty, wrapping one of classes (the errdefs errors).
func CheckError(tb testing.TB, err error, classes ...error) {
	tb.Helper()
	msg := err.Error()
	if msg == "" || strings.ContainsAny(msg, "\n\r") {
		tb.Fatalf("the error is not one line: %q", msg)
	}
	for _, c := range classes {
		if errors.Is(err, c) {
			return
		}
	}
	tb.Fatalf("the error %q wraps none of %q", msg, classes)
}

// ImageOf writes an image archive of the layer tars layers, bottom first
// (see MakeImage), into a file in tb's temporary directory and returns its
// name: fuzz targets build images around the layers they are given.
func ImageOf(tb testing.TB, layers [][]byte, opts ImageOptions) string {
	tb.Helper()
	dir := tb.TempDir()
	files := make([]string, len(layers))
	for i, l := range layers {
		files[i] = filepath.Join(dir, fmt.Sprintf("layer%d.tar", i))
		if err := os.WriteFile(files[i], l, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	name := filepath.Join(dir, "image.tar")
	f, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := MakeImage(f, files, opts); err != nil {
		tb.Fatal(err)
	}
	return name
}

// LayerImage is ImageOf for the two layers of a fuzz target that applies
// layers (see AddLayerPairs): lower, and upper above it unless upper
// is empty.
func LayerImage(tb testing.TB, lower, upper []byte) string {
	tb.Helper()
	layers := [][]byte{lower}
	if len(upper) > 0 {
		layers = append(layers, upper)
	}
	return ImageOf(tb, layers, ImageOptions{})
}

// repoRoot is the nearest directory at or above the working directory
// (the test's package) that holds go.work.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: the fixtures are not here")
		}
		dir = parent
	}
}
