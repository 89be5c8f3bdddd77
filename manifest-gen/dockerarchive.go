package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/layerstream"
)

// dockerArchive is --format docker: archive.Writer (its doc says how
// members are named and written), fed layers as they arrive.
type dockerArchive struct {
	w      *archive.Writer
	layers []string // member names, bottom first
}

func newDockerArchive(w io.Writer) *dockerArchive { return &dockerArchive{w: archive.NewWriter(w)} }

func (a *dockerArchive) addLayer(size int64, r io.Reader) error {
	name, err := a.w.AddLayer(size, r)
	if err != nil {
		return err
	}
	a.layers = append(a.layers, name)
	return nil
}

// A docker-archive holds every layer's bytes.
func (a *dockerArchive) addRef(ref *layerstream.Ref) error {
	return errNeedsBytes("a docker-archive", len(a.layers))
}

// finish writes the config, manifest.json and repositories, and ends the
// tar (it does not close the underlying writer). repoTag returns the name
// and tag from the config's hex digest.
func (a *dockerArchive) finish(config []byte, repoTag func(configHex string) (string, string)) error {
	sum := sha256.Sum256(config)
	name, tag := repoTag(hex.EncodeToString(sum[:]))
	if err := a.w.AddImage(config, []string{name + ":" + tag}, a.layers); err != nil {
		return err
	}
	return a.w.Close()
}

func (a *dockerArchive) diffIDs() ([]string, error) { return nil, nil }
