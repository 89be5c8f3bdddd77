package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/sbom"
	"dockertools.dev/imgkit/tarw"
)

// sbomRequest is what the --sbom flags ask for, read before any output.
type sbomRequest struct {
	graph   graphplan.Graph
	plan    graphplan.Plan // nil: the trailer's paths
	files   []sbomFile
	inImage []sbom.Format
}

type sbomFile struct {
	format sbom.Format
	path   string
}

// checkSBOM checks the --sbom flags together (a part of Validate).
func (c *command) checkSBOM() error {
	out := c.SBOMCycloneDX != "" || c.SBOMSPDX != "" || len(c.SBOMInImage) > 0
	switch {
	case c.SBOMGraph == "" && (out || c.SBOMPlan != ""):
		return cli.Usagef("--sbom-cyclonedx, --sbom-spdx, --sbom-in-image and --sbom-plan need --sbom-graph, the closure graph the SBOM is made from")
	case c.SBOMGraph == "":
		return nil
	case !out:
		return cli.Usagef("--sbom-graph: say where the SBOM goes (--sbom-cyclonedx FILE, --sbom-spdx FILE, --sbom-in-image FORMAT)")
	case c.SBOMGraph == "-" || c.SBOMPlan == "-":
		return cli.Usagef("--sbom-graph and --sbom-plan cannot be stdin: stdin carries the layer stream")
	}
	return nil
}

// readSBOM reads the graph and plan the --sbom flags (checked by
// checkSBOM) name; nil when no SBOM is asked for.
func (c *command) readSBOM(o *cli.IO) (*sbomRequest, error) {
	if c.SBOMGraph == "" {
		return nil, nil
	}
	r := &sbomRequest{}
	for _, f := range []sbomFile{{sbom.FormatCycloneDX, c.SBOMCycloneDX}, {sbom.FormatSPDX, c.SBOMSPDX}} {
		if f.path != "" {
			r.files = append(r.files, f)
		}
	}
	for _, f := range c.SBOMInImage {
		if !slices.Contains(r.inImage, f) {
			r.inImage = append(r.inImage, f)
		}
	}
	f, err := o.Open(c.SBOMGraph)
	if err != nil {
		return nil, fmt.Errorf("--sbom-graph %q: %w", c.SBOMGraph, cli.PathCause(err))
	}
	r.graph, err = graphplan.ReadGraph(f, "")
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("--sbom-graph %q: %w", c.SBOMGraph, err)
	}
	if c.SBOMPlan != "" {
		f, err := o.Open(c.SBOMPlan)
		if err != nil {
			return nil, fmt.Errorf("--sbom-plan %q: %w", c.SBOMPlan, cli.PathCause(err))
		}
		r.plan, err = graphplan.ReadPlan(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--sbom-plan %q: %w", c.SBOMPlan, err)
		}
	}
	return r, nil
}

// image describes the image being written for the SBOM: config is its
// config without the SBOM layer, layers all its layers (nBase from the
// base image, then the stream's, whose store paths the trailer or the
// plan give).
func (r *sbomRequest) image(name string, config []byte, layers []layerEntry, nBase int, trailer []layerstream.LayerInfo) (*sbom.Image, error) {
	img := &sbom.Image{Name: name, ID: oci.DigestOf(config), Graph: r.graph}
	var probe struct {
		Created string `json:"created"`
	}
	if err := json.Unmarshal(config, &probe); err != nil {
		return nil, fmt.Errorf("reading the image config for the SBOM: %v: %w", err, errdefs.ErrInvalidInput)
	}
	if probe.Created != "" {
		t, err := time.Parse(time.RFC3339Nano, probe.Created)
		if err != nil {
			return nil, fmt.Errorf("the image config's created %q: %v: %w", probe.Created, err, errdefs.ErrInvalidInput)
		}
		img.Created = t
	} else {
		img.Created = time.Unix(0, 0)
	}
	if r.plan != nil && len(r.plan) > len(trailer) {
		return nil, fmt.Errorf("--sbom-plan has %d layers, the stream %d: %w", len(r.plan), len(trailer), errdefs.ErrInvalidInput)
	}
	for i, l := range layers {
		sl := sbom.Layer{DiffID: l.DiffID}
		if j := i - nBase; j >= 0 {
			if r.plan != nil {
				if j < len(r.plan) {
					sl.Paths = r.plan[j]
				}
			} else {
				sl.Paths = trailer[j].Paths
			}
		}
		img.Layers = append(img.Layers, sl)
	}
	return img, nil
}

// encode writes the SBOM in each format asked for, once.
func (r *sbomRequest) encode(img *sbom.Image) (map[sbom.Format][]byte, error) {
	docs := map[sbom.Format][]byte{}
	need := append([]sbom.Format(nil), r.inImage...)
	for _, f := range r.files {
		need = append(need, f.format)
	}
	for _, f := range need {
		if docs[f] != nil {
			continue
		}
		doc, err := f.Encode(img)
		if err != nil {
			return nil, fmt.Errorf("the SBOM: %w", err)
		}
		docs[f] = doc
	}
	return docs, nil
}

// sbomMtime is the modification time of the SBOM layer's entries:
// nixpkgs' default, 1970-01-01T00:00:01Z.
const sbomMtime = 1

// sbomLayer is the layer --sbom-in-image adds: the directory /sbom and the
// documents in it (sbom.Format.ImagePath), owned by 0:0, read-only, in
// GNU tar's format as the customisation layer is; and its history
// comment.
func sbomLayer(formats []sbom.Format, docs map[sbom.Format][]byte) ([]byte, string, error) {
	var buf bytes.Buffer
	tw := tarw.NewWriter(&buf, tarw.GNU)
	if err := tw.WriteHeader(&tarw.Header{Name: sbom.ImageDir, Type: tarw.TypeDir, Mode: 0o755, Mtime: sbomMtime}); err != nil {
		return nil, "", err
	}
	var names []string
	for _, f := range sbom.Formats {
		if !slices.Contains(formats, f) {
			continue
		}
		doc := docs[f]
		if err := tw.WriteHeader(&tarw.Header{Name: f.ImagePath(), Type: tarw.TypeReg, Mode: 0o444, Mtime: sbomMtime, Size: int64(len(doc))}); err != nil {
			return nil, "", err
		}
		if _, err := tw.Write(doc); err != nil {
			return nil, "", err
		}
		names = append(names, "/"+f.ImagePath())
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "SBOM: " + strings.Join(names, ", "), nil
}

// sbomFiles are the --sbom-cyclonedx and --sbom-spdx files, written to
// temporary files; commit renames them into place once the image is.
// Both methods do nothing on a nil *sbomFiles.
type sbomFiles struct{ files []*cli.AtomicFile }

func (r *sbomRequest) writeFiles(o *cli.IO, docs map[sbom.Format][]byte) (*sbomFiles, error) {
	out := &sbomFiles{}
	for _, sf := range r.files {
		f, err := o.CreateAtomic(sf.path, 0o644)
		if err != nil {
			out.abort()
			return nil, err
		}
		out.files = append(out.files, f)
		if _, err := f.Write(docs[sf.format]); err != nil {
			out.abort()
			return nil, fmt.Errorf("writing %q: %w", sf.path, err)
		}
	}
	return out, nil
}

func (s *sbomFiles) commit() error {
	if s == nil {
		return nil
	}
	for _, f := range s.files {
		if err := f.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func (s *sbomFiles) abort() {
	if s == nil {
		return
	}
	for _, f := range s.files {
		f.Abort()
	}
}

// addSBOM makes the SBOM of the image whose layers and config (without
// an SBOM) are given: with --sbom-in-image it adds the SBOM layer on top
// and returns the layers and config that include it; the SBOM files are
// written, to be committed with the image.
func (c *command) addSBOM(o *cli.IO, a imageWriter, r *sbomRequest, p *plan, base *baseImage, in *streamInput, layers []layerEntry, config []byte) ([]layerEntry, []byte, *sbomFiles, error) {
	nBase := 0
	if base != nil {
		nBase = len(base.layers)
	}
	img, err := r.image(p.name, config, layers, nBase, in.r.Trailer().Layers)
	if err != nil {
		return nil, nil, nil, err
	}
	docs, err := r.encode(img)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(r.inImage) > 0 {
		if in.r.Config() != nil {
			return nil, nil, nil, cli.Usagef("--sbom-in-image adds a layer, which would change the config the layer stream carries (kept verbatim so the image ID stays its digest)")
		}
		if len(layers)+1 > c.MaxLayers {
			return nil, nil, nil, fmt.Errorf("the SBOM layer makes %d layers, more than --max-layers %d: %w", len(layers)+1, c.MaxLayers, errdefs.ErrTooManyLayers)
		}
		tar, comment, err := sbomLayer(r.inImage, docs)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("the SBOM layer: %w", err)
		}
		o.Debugf("adding the SBOM layer (%d bytes)", len(tar))
		if err := a.addLayer(int64(len(tar)), bytes.NewReader(tar)); err != nil {
			return nil, nil, nil, fmt.Errorf("the SBOM layer: %w", err)
		}
		layers = append(layers, layerEntry{DiffID: oci.DigestOf(tar), Comment: comment})
		if config, err = c.configBytes(p, base, nil, layers); err != nil {
			return nil, nil, nil, err
		}
	}
	files, err := r.writeFiles(o, docs)
	if err != nil {
		return nil, nil, nil, err
	}
	return layers, config, files, nil
}
