package sbom

import (
	"bytes"
	"fmt"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// imageRef is the bom-ref of the image, metadata.component.
const imageRef = "image"

// toolName names us as the SBOM's author tool, in both formats.
const toolName = "dockertools-go"

// CycloneDX returns the image's SBOM as CycloneDX 1.6 JSON (see the
// package doc for what is in it).
func CycloneDX(img *Image) ([]byte, error) {
	comps, err := img.components()
	if err != nil {
		return nil, err
	}
	serial, err := img.serialNumber()
	if err != nil {
		return nil, err
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = serial
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: toolName}}},
		Component: &cdx.Component{
			BOMRef: imageRef, Type: cdx.ComponentTypeContainer, Name: img.Name, Version: img.ID,
		},
		// The taxonomy's flag for a document without time- or
		// random-based values.
		Properties: &[]cdx.Property{{Name: "cdx:reproducible", Value: "true"}},
	}
	components := make([]cdx.Component, len(comps))
	deps := make([]cdx.Dependency, 0, len(comps)+1)
	deps = append(deps, cdx.Dependency{Ref: imageRef, Dependencies: refs(comps, roots(comps))})
	for i, c := range comps {
		props := make([]cdx.Property, 0, 5)
		for _, f := range c.facts() {
			props = append(props, cdx.Property{Name: f[0], Value: f[1]})
		}
		components[i] = cdx.Component{
			BOMRef: c.path, Type: cdx.ComponentTypeLibrary, Name: c.name, Version: c.version,
			PackageURL: c.purl, Properties: &props,
		}
		if c.narHashHex != "" {
			components[i].Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: c.narHashHex}}
		}
		deps = append(deps, cdx.Dependency{Ref: c.path, Dependencies: refs(comps, c.deps)})
	}
	bom.Components = &components
	bom.Dependencies = &deps
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("writing the CycloneDX SBOM: %w", err)
	}
	return buf.Bytes(), nil
}

// refs are the bom-refs of components, never nil: a component that
// depends on nothing says so with an empty dependsOn.
func refs(comps []*component, idx []int) *[]string {
	r := make([]string, len(idx))
	for i, j := range idx {
		r[i] = comps[j].path
	}
	return &r
}
