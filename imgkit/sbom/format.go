package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"

	"dockertools.dev/imgkit/errdefs"
)

// Format is an SBOM format.
type Format string

const (
	FormatCycloneDX Format = "cyclonedx"
	FormatSPDX      Format = "spdx"
)

// Formats are the formats, in the order files and layers list them.
var Formats = []Format{FormatCycloneDX, FormatSPDX}

// UnmarshalText reads a format's name, cyclonedx or spdx (manifest-gen's
// --sbom-in-image values are Formats, parsed by kong through this method).
func (f *Format) UnmarshalText(text []byte) error {
	for _, g := range Formats {
		if string(text) == string(g) {
			*f = g
			return nil
		}
	}
	return fmt.Errorf("%q is not one of cyclonedx, spdx", text)
}

// Encode writes the image's SBOM in format f.
func (f Format) Encode(img *Image) ([]byte, error) {
	if f == FormatSPDX {
		return SPDX(img)
	}
	return CycloneDX(img)
}

// MediaType is the format's IANA media type, an OCI artifact's
// artifactType and layer media type.
func (f Format) MediaType() string {
	if f == FormatSPDX {
		return "application/spdx+json"
	}
	return "application/vnd.cyclonedx+json"
}

// Suffix is what a file of the format is named with: OUT.cdx.json,
// OUT.spdx.json (the suffixes syft and trivy look for).
func (f Format) Suffix() string {
	if f == FormatSPDX {
		return ".spdx.json"
	}
	return ".cdx.json"
}

// ImageDir is the directory of the image where manifest-gen
// --sbom-in-image puts the SBOM, relative to the image's root.
const ImageDir = "sbom"

// ImagePath is where manifest-gen --sbom-in-image puts the SBOM in the
// image, relative to its root: sbom/image.cdx.json, sbom/image.spdx.json.
func (f Format) ImagePath() string { return ImageDir + "/image" + f.Suffix() }

// Detect tells the format of an SBOM document from its content: a JSON
// object with bomFormat "CycloneDX", or with an spdxVersion "SPDX-2.…".
func Detect(data []byte) (Format, error) {
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return "", fmt.Errorf("not a JSON SBOM: %v: %w", err, errdefs.ErrInvalidInput)
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return FormatCycloneDX, nil
	case bytes.HasPrefix([]byte(probe.SPDXVersion), []byte("SPDX-2.")):
		return FormatSPDX, nil
	}
	return "", fmt.Errorf("neither a CycloneDX nor an SPDX 2 JSON document: %w", errdefs.ErrInvalidInput)
}
