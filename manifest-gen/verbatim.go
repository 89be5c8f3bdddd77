package main

import (
	"encoding/json"
	"fmt"
	"slices"

	"dockertools.dev/imgkit/errdefs"
)

// checkVerbatim checks that a config the stream carries (a pulled image's)
// describes exactly the stream's layers: a docker load of an archive whose
// config disagrees with its layers fails much later and less clearly.
func checkVerbatim(config []byte, layers []layerEntry) error {
	var doc struct {
		RootFS *struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		return fmt.Errorf("the stream's image config: %v: %w", err, errdefs.ErrInvalidInput)
	}
	if doc.RootFS == nil {
		return fmt.Errorf("the stream's image config has no rootfs: %w", errdefs.ErrInvalidInput)
	}
	want := make([]string, len(layers))
	for i, l := range layers {
		want[i] = l.DiffID
	}
	if !slices.Equal(doc.RootFS.DiffIDs, want) {
		return fmt.Errorf("the stream's image config lists diff_ids %v, the stream's layers are %v: %w", doc.RootFS.DiffIDs, want, errdefs.ErrDigestMismatch)
	}
	return nil
}
