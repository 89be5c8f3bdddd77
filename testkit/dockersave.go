package testkit

import (
	"archive/tar"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdDockerSave writes what `docker save` of a multi-platform image writes
// with the containerd image store, from the OCI layout tar of that image
// (tar-merge --index and build-index write one):
//
//	dockersave [-saved P] [-drop-manifest P]... [-drop-layers P]... OUT LAYOUT
//
// As Docker 26.1 (containerd 1.7's exporter) writes it, checked against a
// real save: the same blobs; the image index extended, after the
// platforms' manifests, with an attestation manifest for each
// (platform unknown/unknown, vnd.docker.reference.* annotations, an
// in-toto layer), as buildx builds and docker keeps them; index.json
// naming that index under the layout's name; manifest.json listing one
// image, the one for -saved (the platform of the daemon that saved it,
// linux/amd64 by default), its config and layers as blobs/sha256/HEX,
// tagged with the familiar form of the name; members sorted by name,
// blobs and oci-layout read-only, under blobs/ and blobs/sha256/
// directories. -drop-manifest leaves out a platform's manifest and what
// it names (a platform docker never pulled), -drop-layers its layers only
// (containerd's WithSkipMissing keeps the manifest of content it lacks);
// a blob another platform shares stays.
func cmdDockerSave(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! dockersave")
	}
	var dropManifest, dropLayers multi
	saved := "linux/amd64"
	rest := flags(ts, "dockersave", args, func(fs *flag.FlagSet) {
		fs.StringVar(&saved, "saved", saved, "")
		fs.Var(&dropManifest, "drop-manifest", "")
		fs.Var(&dropLayers, "drop-layers", "")
	})
	if len(rest) != 2 {
		ts.Fatalf("usage: dockersave [-saved P] [-drop-manifest P]... [-drop-layers P]... OUT LAYOUT")
	}
	out, err := dockerSave(ts.MkAbs(rest[1]), saved, dropManifest, dropLayers)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(rest[0]), out, 0o644))
}

type saveDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *savePlatform     `json:"platform,omitempty"`
}

type savePlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

func (p *savePlatform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

type saveIndex struct {
	SchemaVersion int              `json:"schemaVersion"`
	MediaType     string           `json:"mediaType"`
	Manifests     []saveDescriptor `json:"manifests"`
}

type saveManifest struct {
	SchemaVersion int              `json:"schemaVersion"`
	MediaType     string           `json:"mediaType"`
	Config        saveDescriptor   `json:"config"`
	Layers        []saveDescriptor `json:"layers"`
}

// saveEntry is an entry of manifest.json, its keys in docker's order.
type saveEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func dockerSave(layout, saved string, dropManifest, dropLayers []string) ([]byte, error) {
	members, err := readMembers(layout)
	if err != nil {
		return nil, err
	}
	blob := func(d string) string { return "blobs/" + strings.Replace(d, ":", "/", 1) }
	var top saveIndex
	if err := json.Unmarshal(members["index.json"], &top); err != nil || len(top.Manifests) != 1 {
		return nil, fmt.Errorf("dockersave: %s: index.json names not one image index (%v)", layout, err)
	}
	var index saveIndex
	if err := json.Unmarshal(members[blob(top.Manifests[0].Digest)], &index); err != nil {
		return nil, fmt.Errorf("dockersave: %s: the image index: %v", layout, err)
	}
	put := func(mediaType string, data []byte) saveDescriptor {
		d := digestOfBytes(data)
		members[blob(d)] = data
		return saveDescriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
	}
	name := top.Manifests[0].Annotations["io.containerd.image.name"]
	var entry []saveEntry
	var attestations []saveDescriptor
	var drop []string
	keep := map[string]bool{}
	for _, m := range index.Manifests {
		var manifest saveManifest
		if err := json.Unmarshal(members[blob(m.Digest)], &manifest); err != nil {
			return nil, fmt.Errorf("dockersave: %s: manifest %s: %v", layout, m.Digest, err)
		}
		p := m.Platform.String()
		statement := put("application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{"name":"`+p+`"}]}`))
		statement.Annotations = map[string]string{"in-toto.io/predicate-type": "https://spdx.dev/Document"}
		config := put("application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":["`+statement.Digest+`"]}}`))
		am, _ := json.Marshal(saveManifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.manifest.v1+json", Config: config, Layers: []saveDescriptor{statement}})
		a := put("application/vnd.oci.image.manifest.v1+json", am)
		a.Platform = &savePlatform{Architecture: "unknown", OS: "unknown"}
		a.Annotations = map[string]string{"vnd.docker.reference.digest": m.Digest, "vnd.docker.reference.type": "attestation-manifest"}
		attestations = append(attestations, a)
		if slices.Contains(dropManifest, p) || slices.Contains(dropLayers, p) {
			for _, l := range manifest.Layers {
				drop = append(drop, blob(l.Digest))
			}
		}
		if slices.Contains(dropManifest, p) {
			drop = append(drop, blob(m.Digest), blob(manifest.Config.Digest))
		} else {
			keep[blob(manifest.Config.Digest)] = true
			if !slices.Contains(dropLayers, p) {
				for _, l := range manifest.Layers {
					keep[blob(l.Digest)] = true
				}
			}
		}
		if p == saved {
			var layers []string
			for _, l := range manifest.Layers {
				layers = append(layers, blob(l.Digest))
			}
			var tags []string
			if name != "" {
				tags = append(tags, familiar(name))
			}
			entry = append(entry, saveEntry{blob(manifest.Config.Digest), tags, layers})
		}
	}
	for _, d := range drop {
		if !keep[d] { // a blob another platform shares stays
			delete(members, d)
		}
	}
	delete(members, blob(top.Manifests[0].Digest))
	index.Manifests = append(index.Manifests, attestations...)
	ib, _ := json.Marshal(index)
	id := put("application/vnd.oci.image.index.v1+json", ib)
	id.Annotations = top.Manifests[0].Annotations
	top.Manifests = []saveDescriptor{id}
	members["index.json"], _ = json.Marshal(top)
	members["manifest.json"], _ = json.Marshal(entry)
	return writeSave(members)
}

// familiar is a full reference as docker names it to users:
// "docker.io/library/app:1" is "app:1".
func familiar(ref string) string {
	if r, ok := strings.CutPrefix(ref, "docker.io/library/"); ok && !strings.Contains(r, "/") {
		return r
	}
	return strings.TrimPrefix(ref, "docker.io/")
}

func readMembers(file string) (map[string][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	members := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return members, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dockersave: %s: %v", file, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if members[hdr.Name], err = io.ReadAll(tr); err != nil {
				return nil, err
			}
		}
	}
}

// writeSave writes the members as containerd's exporter does.
func writeSave(members map[string][]byte) ([]byte, error) {
	var buf strings.Builder
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
			return nil, err
		}
	}
	for _, n := range slices.Sorted(maps.Keys(members)) {
		mode := int64(0o444)
		if n == "index.json" || n == "manifest.json" {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: mode, Size: int64(len(members[n])), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(members[n]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return []byte(buf.String()), nil
}
