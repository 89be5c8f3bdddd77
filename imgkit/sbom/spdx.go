package sbom

import (
	"bytes"
	"fmt"
	"time"

	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	spdxjson "github.com/spdx/tools-golang/json"

	"dockertools.dev/imgkit/errdefs"
)

// imageID is the SPDX identifier of the image's package.
const imageID common.ElementID = "image"

// SPDX returns the image's SBOM as SPDX 2.3 JSON (see the package doc for
// what is in it).
func SPDX(img *Image) ([]byte, error) {
	comps, err := img.components()
	if err != nil {
		return nil, err
	}
	// SPDX's dates are YYYY-MM-DDThh:mm:ssZ, in UTC: 9999-12-31T23:00:00-02:00,
	// a time an image config may carry, is in the year 10000 there.
	if y := img.Created.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("the image's creation time %s is in the year %d in UTC, which SPDX's dates (YYYY-MM-DDThh:mm:ssZ) cannot write: %w", img.Created.Format(time.RFC3339), y, errdefs.ErrInvalidInput)
	}
	created := img.Created.UTC().Format("2006-01-02T15:04:05Z")
	tool := common.Annotator{Annotator: toolName, AnnotatorType: "Tool"}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      img.Name,
		DocumentNamespace: img.namespace(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{Creator: toolName, CreatorType: "Tool"}},
			Created:  created,
		},
	}
	doc.Packages = append(doc.Packages, &spdx.Package{
		PackageName: img.Name, PackageSPDXIdentifier: imageID, PackageVersion: img.ID,
		PackageDownloadLocation: "NOASSERTION", PrimaryPackagePurpose: "CONTAINER",
	})
	rel := func(a, b common.ElementID, kind string) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: kind,
		})
	}
	rel("DOCUMENT", imageID, common.TypeRelationshipDescribe)
	ids := make([]common.ElementID, len(comps))
	seen := map[common.ElementID]string{}
	for i, c := range comps {
		ids[i] = common.ElementID("nix-" + c.hashPart)
		if other, dup := seen[ids[i]]; dup {
			return nil, fmt.Errorf("%q and %q share the hash part %s: %w", other, c.path, c.hashPart, errdefs.ErrInvalidInput)
		}
		seen[ids[i]] = c.path
	}
	for i, c := range comps {
		p := &spdx.Package{
			PackageName: c.name, PackageSPDXIdentifier: ids[i], PackageVersion: c.version,
			PackageDownloadLocation: "NOASSERTION",
			PackageExternalReferences: []*spdx.PackageExternalReference{
				{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: c.purl},
			},
		}
		if c.narHashHex != "" {
			// The NAR is the package's archive form, the one Nix hashes.
			p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: c.narHashHex}}
		}
		for _, f := range c.facts() {
			p.Annotations = append(p.Annotations, spdx.Annotation{
				Annotator: tool, AnnotationDate: created, AnnotationType: "OTHER", AnnotationComment: f[0] + "=" + f[1],
			})
		}
		doc.Packages = append(doc.Packages, p)
		rel(imageID, ids[i], common.TypeRelationshipContains)
	}
	for i, c := range comps {
		for _, j := range c.deps {
			rel(ids[i], ids[j], common.TypeRelationshipDependsOn)
		}
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("writing the SPDX SBOM: %w", err)
	}
	return buf.Bytes(), nil
}
