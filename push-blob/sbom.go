package main

import (
	"context"
	"fmt"
	"path"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/sbom"
)

// sbomDoc is an SBOM to attach to the pushed image.
type sbomDoc struct {
	file   string
	format sbom.Format
	data   []byte
}

// readSBOMs reads the --sbom files and tells their formats, before
// anything is pushed.
func readSBOMs(o *cli.IO, files []string) ([]sbomDoc, error) {
	var docs []sbomDoc
	for _, f := range files {
		data, err := readSBOM(o, f)
		if err != nil {
			return nil, fmt.Errorf("--sbom %q: %w", f, cli.PathCause(err))
		}
		format, err := sbom.Detect(data)
		if err != nil {
			return nil, fmt.Errorf("--sbom %q: %w", f, err)
		}
		docs = append(docs, sbomDoc{file: f, format: format, data: data})
	}
	return docs, nil
}

// readSBOM reads an SBOM file whole, within cli.MaxDocument.
func readSBOM(o *cli.IO, name string) ([]byte, error) {
	f, err := o.OpenNamed(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return cli.ReadAllMax(f, cli.MaxDocument)
}

// attach pushes doc as an artifact whose subject is the image manifest
// just put: the empty config and the document as blobs, then the
// artifact manifest, made a referrer of the image (registry.PutReferrer).
func (ps *pusher) attach(ctx context.Context, manifest []byte, doc sbomDoc) error {
	what := fmt.Sprintf("the SBOM %q", doc.file)
	empty := layerstream.Blob{MediaType: v1.MediaTypeEmptyJSON, Digest: oci.DigestOf(oci.EmptyConfig), Size: int64(len(oci.EmptyConfig))}
	if err := ps.putSmall(ctx, empty, oci.EmptyConfig, what+"'s empty config"); err != nil {
		return err
	}
	blob := layerstream.Blob{MediaType: doc.format.MediaType(), Digest: oci.DigestOf(doc.data), Size: int64(len(doc.data))}
	if err := ps.putSmall(ctx, blob, doc.data, what); err != nil {
		return err
	}
	subject := oci.DescriptorOf(oci.ManifestMediaType, manifest)
	// The document's title is the file name oras pull writes it to (it
	// skips a layer without one): the name the image holds it under with
	// --sbom-in-image, fixed by the format, so the same document gives
	// the same artifact whatever the file it was read from is called.
	layer := oci.Descriptor(blob)
	layer.Annotations = map[string]string{v1.AnnotationTitle: path.Base(doc.format.ImagePath())}
	artifact := oci.ArtifactManifest(layer, subject)
	via, err := ps.p.PutReferrer(ctx, artifact, string(subject.Digest))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	ps.o.Debugf("attached %s (%s) as %s@%s, a referrer of the image through %s", what, doc.format.MediaType(), ps.opts.repoName, oci.DigestOf(artifact), via)
	return nil
}
