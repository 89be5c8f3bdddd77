package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
)

// mergeEntry is one image of the merged archive.
type mergeEntry struct {
	config   []byte
	digest   string // the config's
	RepoTags []string
	diffIDs  []string // its layers, bottom first
}

// merger collects the images of several archives. Layers are keyed by
// diff_id and configs by digest, so what several images share is stored
// once; the images keep their input order.
type merger struct {
	o        *cli.IO
	layers   map[string]*archive.Layer // diff_id → the first copy seen
	from     map[string]string         // diff_id → the input archive it is read from
	entries  []*mergeEntry
	byConfig map[string]*mergeEntry // config digest → its image
	owner    map[string]*mergeEntry // normalised tag → the image that has it
}

func newMerger(o *cli.IO) *merger {
	return &merger{
		o:        o,
		layers:   map[string]*archive.Layer{},
		from:     map[string]string{},
		byConfig: map[string]*mergeEntry{},
		owner:    map[string]*mergeEntry{},
	}
}

// add adds every image of an archive (named file, for messages), of a
// multi-platform image only the one for want (lone: archive.ImagesFor),
// then the tags its `repositories` file gives that the images' RepoTags
// do not. A
// tag docker does not accept is an error, before any output: docker load
// refuses an archive whose manifest.json names one, and the merged archive
// would carry it.
func (m *merger) add(a *archive.Archive, file string, want v1.Platform, lone bool) error {
	images, err := a.ImagesFor(want, lone)
	if err != nil {
		return err
	}
	for i, img := range images {
		for _, t := range img.RepoTags {
			if err := archive.CheckRef(t); err != nil {
				return fmt.Errorf("%q: image %d: %w", file, i+1, err)
			}
		}
		e := m.byConfig[img.ConfigDigest]
		if e == nil {
			e = &mergeEntry{config: img.ConfigBytes, digest: img.ConfigDigest}
			for _, l := range img.Layers {
				if m.layers[l.DiffID] == nil {
					m.layers[l.DiffID] = l
					m.from[l.DiffID] = file
				}
				e.diffIDs = append(e.diffIDs, l.DiffID)
			}
			m.byConfig[img.ConfigDigest] = e
			m.entries = append(m.entries, e)
		}
		for _, t := range img.RepoTags {
			m.tag(e, t)
		}
	}
	m.addRepositories(a)
	return nil
}

// tag gives an image a tag. A tag already on another image moves to this
// one, as `docker load` of the inputs in order would leave it.
func (m *merger) tag(e *mergeEntry, ref string) {
	name, tag := archive.SplitRef(ref)
	ref = name + ":" + tag
	key := archive.Normalize(ref)
	prev := m.owner[key]
	if prev == e {
		return
	}
	if prev != nil {
		m.o.Logf("warning: tag %q is on two images; it stays on the later one (%s), as docker load would leave it", ref, configName(e.digest))
		kept := prev.RepoTags[:0]
		for _, t := range prev.RepoTags {
			if archive.Normalize(t) != key {
				kept = append(kept, t)
			}
		}
		prev.RepoTags = kept
	}
	m.owner[key] = e
	e.RepoTags = append(e.RepoTags, ref)
}

// addRepositories keeps the legacy `repositories` entries of an archive
// that RepoTags lack: each names its image by the top layer's directory.
// An entry that is no reference docker accepts is dropped with a warning,
// as docker load, which reads manifest.json, ignores the file.
func (m *merger) addRepositories(a *archive.Archive) {
	repos := slices.Sorted(maps.Keys(a.Repositories))
	for _, repo := range repos {
		for _, tag := range slices.Sorted(maps.Keys(a.Repositories[repo])) {
			ref := repo + ":" + tag
			if !archive.ValidName(repo) || !archive.ValidTag(tag) {
				m.o.Logf("warning: dropping repositories entry %q: not a reference docker accepts", ref)
				continue
			}
			if m.owner[archive.Normalize(ref)] != nil {
				continue
			}
			id := a.Repositories[repo][tag]
			img := imageWithTop(a, id)
			if img == nil {
				m.o.Logf("warning: dropping repositories entry %q: no image has the top layer %q", ref, id)
				continue
			}
			m.tag(m.byConfig[img.ConfigDigest], ref)
		}
	}
}

func imageWithTop(a *archive.Archive, id string) *archive.Image {
	for _, img := range a.Images {
		if n := len(img.Layers); n > 0 && path.Dir(path.Clean(img.Layers[n-1].Member)) == id {
			return img
		}
	}
	return nil
}

// configName is the member name of a config in a docker-archive, as the
// warnings name an image.
func configName(digest string) string { return strings.TrimPrefix(digest, "sha256:") + ".json" }

// write writes the merged docker-archive (archive.Writer): each layer once,
// in the order the images first list them, verified against its diff_id
// as it is copied, then the images in input order.
func (m *merger) write(ctx context.Context, w io.Writer) error {
	aw := archive.NewWriter(w)
	member := map[string]string{} // diff_id → its member in the output
	for _, e := range m.entries {
		for _, id := range e.diffIDs {
			if member[id] != "" {
				continue
			}
			err := m.layers[id].CopyUncompressed(func(size int64, r io.Reader) (err error) {
				member[id], err = aw.AddLayer(size, cli.ContextReader(ctx, r))
				return err
			})
			if err != nil {
				return fmt.Errorf("writing layer %s from %q: %w", id, m.from[id], err)
			}
		}
	}
	for _, e := range m.entries {
		layers := make([]string, len(e.diffIDs))
		for i, id := range e.diffIDs {
			layers[i] = member[id]
		}
		if err := aw.AddImage(e.config, e.RepoTags, layers); err != nil {
			return err
		}
	}
	return aw.Close()
}
