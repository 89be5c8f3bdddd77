package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit"
)

const (
	storeHello    = "/nix/store/0c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-hello-2.12.1"
	storeGlibc    = "/nix/store/1c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-glibc-2.38-44"
	storeRequests = "/nix/store/2c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-python3.11-requests-2.31.0"
	storeSource   = "/nix/store/3c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-source"
	extraRoot     = "/tmp/.stream-layered-image.x/root"
)

// testImage is a small image: a base layer, a store layer of glibc, one
// of hello and requests, the customisation layer; source is in the graph
// but in no layer the stream listed (a base image's path). The
// customisation root is an extra root of the graph, not a component.
func testImage() *Image {
	return &Image{
		Name:    "registry.example:5000/team/hello",
		ID:      "sha256:4f20a7d1f0e1a3c9b6b1c4a2e8f5d7c3b9a1e6f4d2c8b0a7e5f3d1c9b7a5e3f1",
		Created: time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC),
		Graph: graphplan.Graph{
			{Path: extraRoot, NarSize: 300, References: []string{storeHello}},
			{Path: storeGlibc, NarHash: "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", NarSize: 1000, References: []string{storeGlibc}},
			{Path: storeHello, NarHash: "sha256:1j6gl9w2y8g5fs5nhdk2vlrkflr2wmiavkw5sycn5ysccvx2jvlh", NarSize: 500, References: []string{storeGlibc, storeHello, storeSource}},
			{Path: storeRequests, NarSize: 700, References: []string{storeGlibc}},
			{Path: storeSource, NarSize: 120, References: []string{}},
		},
		Layers: []Layer{
			{DiffID: "sha256:" + strings.Repeat("a", 64)},
			{DiffID: "sha256:" + strings.Repeat("b", 64), Paths: []string{storeGlibc}},
			{DiffID: "sha256:" + strings.Repeat("c", 64), Paths: []string{storeRequests, storeHello}},
			{DiffID: "sha256:" + strings.Repeat("d", 64)},
		},
	}
}

// schemas compiles the vendored published schemas (testdata/README.md
// says where each comes from), formats asserted.
func schema(t *testing.T, f Format) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	c.AssertContent = true
	files := map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "cyclonedx-1.6/bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "cyclonedx-1.6/spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "cyclonedx-1.6/jsf-0.82.schema.json",
		"http://spdx.org/rdf/terms/2.3":                    "spdx-2.3/spdx-schema.json",
	}
	for url, file := range files {
		data, err := os.ReadFile(filepath.Join("testdata/schema", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(url, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	root := "http://cyclonedx.org/schema/bom-1.6.schema.json"
	if f == FormatSPDX {
		root = "http://spdx.org/rdf/terms/2.3"
	}
	s, err := c.Compile(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, f Format, doc []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: not JSON: %v", f, err)
	}
	if err := schema(t, f).Validate(v); err != nil {
		t.Fatalf("%s: the published schema refuses the SBOM: %#v", f, err)
	}
}

// TestSchemaValid validates both formats against their published JSON
// schemas: the test image, an image without any store path, and one
// whose names need escaping in a purl.
func TestSchemaValid(t *testing.T) {
	empty := testImage()
	empty.Graph, empty.Layers = graphplan.Graph{{Path: extraRoot, NarSize: 1, References: []string{}}}, []Layer{{DiffID: "sha256:" + strings.Repeat("d", 64)}}
	odd := testImage()
	odd.Graph = graphplan.Graph{{Path: "/nix/store/4c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-gtk+3-3.24.41?=x", NarSize: 1, References: []string{}}}
	odd.Layers = []Layer{{DiffID: "sha256:" + strings.Repeat("d", 64), Paths: []string{odd.Graph[0].Path}}}
	for name, img := range map[string]*Image{"test": testImage(), "empty": empty, "odd": odd} {
		for _, f := range Formats {
			doc, err := f.Encode(img)
			if err != nil {
				t.Fatalf("%s %s: %v", name, f, err)
			}
			validate(t, f, doc)
		}
	}
}

// TestSchemaRefusesBrokenSBOM: the validation is real: a CycloneDX
// document without its serial number's UUID shape, and an SPDX package
// without its required downloadLocation, are refused.
func TestSchemaRefusesBrokenSBOM(t *testing.T) {
	for _, c := range []struct {
		f          Format
		old, wrong string
	}{
		{FormatCycloneDX, `"serialNumber": "urn:uuid:`, `"serialNumber": "urn:uuid:x`},
		{FormatSPDX, `"downloadLocation": "NOASSERTION",`, ``},
	} {
		doc, err := c.f.Encode(testImage())
		if err != nil {
			t.Fatal(err)
		}
		broken := bytes.Replace(doc, []byte(c.old), []byte(c.wrong), 1)
		var v any
		if err := json.Unmarshal(broken, &v); err != nil {
			t.Fatal(err)
		}
		if err := schema(t, c.f).Validate(v); err == nil {
			t.Errorf("%s: the schema accepts the broken document", c.f)
		}
	}
}

// TestGolden pins the bytes of both SBOMs of the test image.
func TestGolden(t *testing.T) {
	for _, f := range Formats {
		doc, err := f.Encode(testImage())
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata/golden", "image"+f.Suffix())
		if testkit.Update() {
			if err := os.WriteFile(golden, doc, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(doc, want) {
			t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", f, golden, doc)
		}
	}
}

// TestReproducible: the same image gives the same bytes whatever order
// the graph's nodes and references come in, and the clock plays no part.
func TestReproducible(t *testing.T) {
	for _, f := range Formats {
		want, err := f.Encode(testImage())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			img := testImage()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			r.Shuffle(len(img.Graph), func(a, b int) { img.Graph[a], img.Graph[b] = img.Graph[b], img.Graph[a] })
			for _, n := range img.Graph {
				r.Shuffle(len(n.References), func(a, b int) { n.References[a], n.References[b] = n.References[b], n.References[a] })
			}
			got, err := f.Encode(img)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: shuffled input %d gives other bytes", f, i)
			}
		}
	}
}

// TestContent reads the CycloneDX document back and checks what the
// package doc promises: components, purls, hashes, layers, dependencies.
func TestContent(t *testing.T) {
	doc, err := CycloneDX(testImage())
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		SerialNumber string
		Metadata     struct {
			Component struct{ Name, Version string }
		}
		Components []struct {
			BOMRef     string `json:"bom-ref"`
			Name       string
			Version    string
			Purl       string
			Hashes     []struct{ Alg, Content string }
			Properties []struct{ Name, Value string }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(doc, &bom); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range bom.Components {
		line := c.BOMRef + " " + c.Name + " " + c.Version + " " + c.Purl
		for _, h := range c.Hashes {
			line += " " + h.Alg + "=" + h.Content[:8]
		}
		for _, p := range c.Properties {
			if strings.HasPrefix(p.Name, "dockertools-go:layer:") {
				line += " " + strings.TrimPrefix(p.Name, "dockertools-go:layer:") + "=" + p.Value[:min(len(p.Value), 8)]
			}
		}
		got = append(got, line)
	}
	for _, d := range bom.Dependencies {
		got = append(got, "dep "+d.Ref+" -> "+strings.Join(d.DependsOn, " "))
	}
	want := []string{
		storeHello + " hello 2.12.1 pkg:nix/hello@2.12.1?outputhash=0c7c0m1fbn6zp5m79wpf2kwah1g3d0q3 SHA-256=906e29fa diff_id=sha256:c index=2",
		storeGlibc + " glibc 2.38-44 pkg:nix/glibc@2.38-44?outputhash=1c7c0m1fbn6zp5m79wpf2kwah1g3d0q3 SHA-256=e3b0c442 diff_id=sha256:b index=1",
		storeRequests + " python3.11-requests 2.31.0 pkg:nix/python3.11-requests@2.31.0?outputhash=2c7c0m1fbn6zp5m79wpf2kwah1g3d0q3 diff_id=sha256:c index=2",
		storeSource + " source  pkg:nix/source?outputhash=3c7c0m1fbn6zp5m79wpf2kwah1g3d0q3",
		"dep image -> " + storeHello + " " + storeRequests,
		"dep " + storeHello + " -> " + storeGlibc + " " + storeSource,
		"dep " + storeGlibc + " -> ",
		"dep " + storeRequests + " -> " + storeGlibc,
		"dep " + storeSource + " -> ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if bom.Metadata.Component.Name != "registry.example:5000/team/hello" || bom.Metadata.Component.Version != testImage().ID {
		t.Errorf("metadata component %+v", bom.Metadata.Component)
	}
}

func TestRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*Image){
		"LayerPathNotInGraph": func(img *Image) { img.Layers[3].Paths = []string{"/nix/store/5c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-x"} },
		"PathInTwoLayers":     func(img *Image) { img.Layers[3].Paths = []string{storeGlibc} },
		"BadID":               func(img *Image) { img.ID = "sha256:abc" },
		"NotANarHash":         func(img *Image) { img.Graph[1].NarHash = "sha256:x" },
	} {
		t.Run(name, func(t *testing.T) {
			img := testImage()
			mutate(img)
			for _, f := range Formats {
				if _, err := f.Encode(img); !errors.Is(err, errdefs.ErrInvalidInput) {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, f := range Formats {
		doc, err := f.Encode(testImage())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Detect(doc); got != f || err != nil {
			t.Errorf("Detect(%s) = %s, %v", f, got, err)
		}
	}
	for _, bad := range []string{"", "[]", `{"bomFormat":"x"}`, `{"spdxVersion":"SPDX-3.0"}`} {
		if _, err := Detect([]byte(bad)); !errors.Is(err, errdefs.ErrInvalidInput) {
			t.Errorf("Detect(%q): %v", bad, err)
		}
	}
}

// TestSPDXCreatedPastYear9999: an image created at
// 9999-12-31T23:00:00-02:00 (a time a config may carry, and docker loads)
// is in the year 10000 in UTC, which SPDX's created
// (YYYY-MM-DDThh:mm:ssZ) cannot hold: the SPDX document is refused, not
// written with a five-digit year; CycloneDX has no date and is written.
func TestSPDXCreatedPastYear9999(t *testing.T) {
	img := testImage()
	img.Created = time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -2*3600))
	if doc, err := SPDX(img); !errors.Is(err, errdefs.ErrInvalidInput) || strings.Contains(err.Error(), "\n") {
		t.Errorf("SPDX: %v\n%.300s", err, doc)
	}
	if _, err := CycloneDX(img); err != nil {
		t.Errorf("CycloneDX: %v", err)
	}
	img.Created = time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
	doc, err := SPDX(img)
	if err != nil || !bytes.Contains(doc, []byte(`"created": "9999-12-31T23:00:00Z"`)) {
		t.Errorf("SPDX at the last hour of 9999: %v", err)
	}
}
