package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// parse reads the archive's manifest: manifest.json when present (docker
// save writes both it and index.json since Docker 25, and only it has the
// RepoTags Docker loads; index.json then adds the other platforms of a
// multi-platform image, savedPlatforms), else an OCI index.json.
func (a *Archive) parse() error {
	switch {
	case a.has("manifest.json"):
		a.Format = "docker"
		if err := a.parseDocker(); err != nil {
			return err
		}
		if err := a.parseRepositories(); err != nil {
			return err
		}
		if a.has("index.json") {
			return a.savedPlatforms()
		}
		return nil
	case a.has("index.json"):
		a.Format = "oci"
		return a.parseOCI()
	}
	return invalid("no manifest.json (docker-archive) or index.json (OCI layout): not an image archive")
}

// dockerManifest is one entry of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (a *Archive) parseDocker() error {
	raw, err := a.readSmall("manifest.json")
	if err != nil {
		return err
	}
	var entries []dockerManifest
	if err := strictJSON(raw, &entries); err != nil {
		return invalid("manifest.json: %v", err)
	}
	if len(entries) == 0 {
		return invalid("manifest.json lists no image")
	}
	for i, e := range entries {
		if e.Config == "" {
			return invalid("manifest.json: image %d has no Config", i+1)
		}
		refs := make([]layerRef, len(e.Layers))
		for j, l := range e.Layers {
			refs[j] = layerRef{member: l, blobDigest: digestInName(l, false)}
		}
		img, err := a.newImage(e.RepoTags, e.Config, digestInName(e.Config, true), refs)
		if err != nil {
			return err
		}
		a.Images = append(a.Images, img)
	}
	return nil
}

// parseRepositories reads the legacy `repositories` file when there is one.
func (a *Archive) parseRepositories() error {
	if !a.has("repositories") {
		return nil
	}
	raw, err := a.readSmall("repositories")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &a.Repositories); err != nil {
		return invalid("repositories: %v", err)
	}
	return nil
}

// layerRef is a layer as a manifest names it, before it is resolved.
type layerRef struct {
	member     string
	blobDigest string // the stored bytes' digest, when the archive gives one
	mediaType  string
}

// newImage reads and checks an image's config, then resolves its layers.
func (a *Archive) newImage(tags []string, configName, wantDigest string, refs []layerRef) (*Image, error) {
	if len(a.Images) >= maxImages {
		return nil, tooMany("more than %d images", maxImages)
	}
	if a.layerRefs += len(refs); a.layerRefs > maxLayerRefs {
		return nil, tooMany("more than %d layers in all (image %d has %d)", maxLayerRefs, len(a.Images)+1, len(refs))
	}
	cfg, err := a.readSmall(configName)
	if err != nil {
		return nil, err
	}
	got := digestOf(cfg)
	if wantDigest != "" && got != wantDigest {
		return nil, mismatch("config %s hashes to %s, not %s", errdefs.Quote(configName), got, wantDigest)
	}
	var c struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, invalid("config %s: %v", errdefs.Quote(configName), err)
	}
	if len(c.RootFS.DiffIDs) != len(refs) {
		return nil, invalid("config %s lists %d diff_ids for %d layers", errdefs.Quote(configName), len(c.RootFS.DiffIDs), len(refs))
	}
	img := &Image{RepoTags: tags, ConfigBytes: cfg, ConfigDigest: got}
	for i, r := range refs {
		id := c.RootFS.DiffIDs[i]
		if !validDigest(id) {
			return nil, invalid("config %s: diff_id %s is not a sha256 digest", errdefs.Quote(configName), errdefs.Quote(id))
		}
		m, err := a.lookup(r.member)
		if err != nil {
			return nil, err
		}
		img.Layers = append(img.Layers, &Layer{
			DiffID: id, Member: r.member,
			a: a, m: m, blobDigest: r.blobDigest, mediaType: r.mediaType,
		})
	}
	return img, nil
}

// digestInName returns "sha256:<hex>" when a member name carries its own
// digest: blobs/sha256/<hex> (OCI, and docker save since Docker 25), or,
// for a config (json true), "<hex>.json". Legacy "<id>/layer.tar" names
// carry a v1 id, not a digest.
func digestInName(name string, json bool) string {
	name = cleanMember(name)
	dir, base := path.Split(name)
	if dir == "blobs/sha256/" && isHex64(base) {
		return "sha256:" + base
	}
	if json && dir == "" && isHex64(strings.TrimSuffix(base, ".json")) && strings.HasSuffix(base, ".json") {
		return "sha256:" + strings.TrimSuffix(base, ".json")
	}
	return ""
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func validDigest(d string) bool {
	h, ok := strings.CutPrefix(d, "sha256:")
	return ok && isHex64(h)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// strictJSON decodes one JSON value and refuses trailing data.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}
