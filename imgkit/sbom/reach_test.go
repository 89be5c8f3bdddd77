package sbom

import (
	"bytes"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdxlib"

	"dockertools.dev/imgkit/graphplan"
)

// TestEveryComponentReachable reads both documents back with the formats'
// own libraries and walks them from the image: SPDX's from the document
// through DESCRIBES, CONTAINS and DEPENDS_ON (after tools-golang's
// ValidateDocument, which checks every relationship's ends exist, and
// with the image the one package described), CycloneDX's from
// metadata.component through dependencies. Every store path is reached,
// in the test image and in one whose graph has a cycle of references
// nothing else leads to (before, CycloneDX's image depended on nothing
// there: a and b were orphans).
func TestEveryComponentReachable(t *testing.T) {
	cyclic := testImage()
	a := "/nix/store/5c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-a-1"
	b := "/nix/store/6c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-b-1"
	c := "/nix/store/7c7c0m1fbn6zp5m79wpf2kwah1g3d0q3-c-1"
	cyclic.Graph = graphplan.Graph{
		{Path: a, NarSize: 1, References: []string{b}},
		{Path: b, NarSize: 1, References: []string{a, c}},
		{Path: c, NarSize: 1, References: []string{}},
	}
	cyclic.Layers = []Layer{{DiffID: cyclic.Layers[0].DiffID, Paths: []string{a, b, c}}}
	for name, img := range map[string]*Image{"test": testImage(), "cyclic": cyclic} {
		paths := 0
		for _, n := range img.Graph {
			if n.Path != extraRoot {
				paths++
			}
		}

		doc, err := FormatSPDX.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := spdxjson.Read(bytes.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: tools-golang reads no SPDX: %v", name, err)
		}
		if err := spdxlib.ValidateDocument(sd); err != nil {
			t.Errorf("%s: tools-golang: %v", name, err)
		}
		if ids, err := spdxlib.GetDescribedPackageIDs(sd); err != nil || len(ids) != 1 || ids[0] != "image" {
			t.Errorf("%s: described %v (%v), want the image alone", name, ids, err)
		}
		edges := map[common.ElementID][]common.ElementID{}
		for _, r := range sd.Relationships {
			edges[r.RefA.ElementRefID] = append(edges[r.RefA.ElementRefID], r.RefB.ElementRefID)
		}
		if got := len(walk(common.ElementID("DOCUMENT"), edges)) - 2; got != paths || len(sd.Packages) != paths+1 {
			t.Errorf("%s: SPDX reaches %d of %d store paths (%d packages)", name, got, paths, len(sd.Packages))
		}

		doc, err = FormatCycloneDX.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		var bom cdx.BOM
		if err := cdx.NewBOMDecoder(bytes.NewReader(doc), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
			t.Fatalf("%s: cyclonedx-go reads no BOM: %v", name, err)
		}
		deps := map[string][]string{}
		for _, d := range *bom.Dependencies {
			if d.Dependencies != nil {
				deps[d.Ref] = *d.Dependencies
			}
		}
		reached := walk(bom.Metadata.Component.BOMRef, deps)
		for _, comp := range *bom.Components {
			if !reached[comp.BOMRef] {
				t.Errorf("%s: CycloneDX: the image does not reach %s", name, comp.BOMRef)
			}
		}
		if len(*bom.Components) != paths {
			t.Errorf("%s: %d components, want %d", name, len(*bom.Components), paths)
		}
	}
}

// walk returns what edges reach from start, start included.
func walk[T comparable](start T, edges map[T][]T) map[T]bool {
	seen := map[T]bool{start: true}
	for stack := []T{start}; len(stack) > 0; {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, m := range edges[n] {
			if !seen[m] {
				seen[m] = true
				stack = append(stack, m)
			}
		}
	}
	return seen
}
