package main

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
)

// memberMtime is the modification time of every member of a merged
// archive, 1970-01-01T00:00:01Z as manifest-gen and nixpkgs write.
var memberMtime = time.Unix(1, 0)

// mergeEntry is one image of the merged manifest.json, keys in docker
// save's order.
type mergeEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
	top      string // the top layer's directory, for `repositories`
}

// merger collects the images of several archives. Layers are keyed by
// diff_id and configs by digest, so what several images share is stored
// once; the images keep their input order.
type merger struct {
	o        *cli.IO
	layers   map[string]*archive.Layer // diff_id → the first copy seen
	from     map[string]string         // diff_id → the input archive it is read from
	configs  map[string][]byte         // config member name → bytes
	entries  []*mergeEntry
	byConfig map[string]*mergeEntry
	owner    map[string]*mergeEntry // normalised tag → the image that has it
}

func newMerger(o *cli.IO) *merger {
	return &merger{
		o:        o,
		layers:   map[string]*archive.Layer{},
		from:     map[string]string{},
		configs:  map[string][]byte{},
		byConfig: map[string]*mergeEntry{},
		owner:    map[string]*mergeEntry{},
	}
}

// layerName names a layer member by its diff_id: the bytes written are the
// verified uncompressed layer, so the name says what they hash to.
func layerName(diffID string) string {
	return strings.TrimPrefix(diffID, "sha256:") + "/layer.tar"
}

// add adds every image of an archive (named file, for messages), then the
// tags its `repositories` file gives that the images' RepoTags do not.
func (m *merger) add(a *archive.Archive, file string) {
	for _, img := range a.Images {
		name := strings.TrimPrefix(img.ConfigDigest, "sha256:") + ".json"
		m.configs[name] = img.ConfigBytes
		e := m.byConfig[name]
		if e == nil {
			e = &mergeEntry{Config: name}
			for _, l := range img.Layers {
				if m.layers[l.DiffID] == nil {
					m.layers[l.DiffID] = l
					m.from[l.DiffID] = file
				}
				e.Layers = append(e.Layers, layerName(l.DiffID))
			}
			if len(e.Layers) > 0 {
				e.top = path.Dir(e.Layers[len(e.Layers)-1])
			}
			m.byConfig[name] = e
			m.entries = append(m.entries, e)
		}
		for _, t := range img.RepoTags {
			m.tag(e, t)
		}
	}
	m.addRepositories(a)
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
		m.o.Logf("warning: tag %q is on two images; it stays on the later one (%s), as docker load would leave it", ref, e.Config)
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
func (m *merger) addRepositories(a *archive.Archive) {
	repos := sortedKeys(a.Repositories)
	for _, repo := range repos {
		for _, tag := range sortedKeys(a.Repositories[repo]) {
			ref := repo + ":" + tag
			if m.owner[archive.Normalize(ref)] != nil {
				continue
			}
			id := a.Repositories[repo][tag]
			img := imageWithTop(a, id)
			if img == nil {
				m.o.Logf("warning: dropping repositories entry %q: no image has the top layer %q", ref, id)
				continue
			}
			m.tag(m.byConfig[strings.TrimPrefix(img.ConfigDigest, "sha256:")+".json"], ref)
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// write writes the merged docker-archive: members sorted by name (configs
// "<digest>.json", layers "<diff_id>/layer.tar", manifest.json,
// repositories), each with fixed metadata.
func (m *merger) write(ctx context.Context, w io.Writer) error {
	manifest, err := json.Marshal(m.entries)
	if err != nil {
		return err
	}
	small := map[string][]byte{"manifest.json": append(manifest, '\n')}
	if repos := m.repositories(); len(repos) > 0 {
		b, err := json.Marshal(repos)
		if err != nil {
			return err
		}
		small["repositories"] = append(b, '\n')
	}
	for name, b := range m.configs {
		small[name] = b
	}
	var names []string
	for name := range small {
		names = append(names, name)
	}
	byName := map[string]*archive.Layer{}
	from := map[string]string{}
	for id, l := range m.layers {
		byName[layerName(id)] = l
		from[layerName(id)] = m.from[id]
		names = append(names, layerName(id))
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, name := range names {
		if l := byName[name]; l != nil {
			if err = copyLayer(ctx, tw, name, l); err != nil {
				return fmt.Errorf("writing %s from %q: %w", name, from[name], err)
			}
		} else {
			err = writeMember(tw, name, int64(len(small[name])))
			if err == nil {
				_, err = tw.Write(small[name])
			}
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	return nil
}

// repositories is the legacy file for the merged images: every tag, by
// repository, naming the image's top layer directory.
func (m *merger) repositories() map[string]map[string]string {
	repos := map[string]map[string]string{}
	for _, e := range m.entries {
		for _, t := range e.RepoTags {
			name, tag := archive.SplitRef(t)
			if repos[name] == nil {
				repos[name] = map[string]string{}
			}
			repos[name][tag] = e.top
		}
	}
	return repos
}

func writeMember(tw *tar.Writer, name string, size int64) error {
	return tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: memberMtime,
	})
}

// copyLayer writes a layer uncompressed, verified against its diff_id
// as it is copied.
func copyLayer(ctx context.Context, tw *tar.Writer, name string, l *archive.Layer) error {
	size, err := l.UncompressedSize()
	if err != nil {
		return err
	}
	if err := writeMember(tw, name, size); err != nil {
		return err
	}
	r, err := l.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := io.CopyN(tw, cli.ContextReader(ctx, r), size); err != nil {
		if err == io.EOF {
			err = fmt.Errorf("shorter than %d bytes: %w", size, errdefs.ErrChanged)
		}
		return err
	}
	// Reading to EOF runs the digest check.
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n > 0 {
		return fmt.Errorf("longer than %d bytes: %w", size, errdefs.ErrChanged)
	} else if err != io.EOF {
		return err
	}
	return nil
}
