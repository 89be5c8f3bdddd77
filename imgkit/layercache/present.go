package layercache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
)

// Held is one entry of a holdings list: a layer tar (its diff_id) whose
// stored blob a registry repository holds.
type Held struct {
	DiffID string `json:"diff_id"`
	layerstream.Blob
}

// Holdings is what a destination repository is known to hold, by diff_id:
// the list push-blob --list-present writes and layer-pack --reuse reads
// (docs/formats.md §5).
type Holdings map[string][]layerstream.Blob

// WriteHoldings writes h as a JSON array of Held, one per line, sorted by
// diff_id then digest, with a final newline.
func WriteHoldings(w io.Writer, h Holdings) error {
	var all []Held
	for d, blobs := range h {
		for _, b := range blobs {
			all = append(all, Held{DiffID: d, Blob: b})
		}
	}
	slices.SortFunc(all, func(a, b Held) int {
		if a.DiffID != b.DiffID {
			return cmpString(a.DiffID, b.DiffID)
		}
		return cmpString(a.Digest, b.Digest)
	})
	out := []byte("[")
	for i, e := range all {
		if i > 0 {
			out = append(out, ',')
		}
		b, _ := json.Marshal(e) // strings and numbers: cannot fail
		out = append(append(out, '\n'), b...)
	}
	if len(all) > 0 {
		out = append(out, '\n')
	}
	out = append(out, "]\n"...)
	_, err := w.Write(out)
	return err
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ReadHoldings reads a holdings list, checking every digest. It is read
// whole within cli.MaxDocument (an error wrapping errdefs.ErrTooLarge
// past it): a list of 100,000 layers is 25 MB, and a FIFO that never ends
// was read until memory ran out and the runtime stopped the tool.
func ReadHoldings(r io.Reader) (Holdings, error) {
	data, err := cli.ReadAllMax(r, cli.MaxDocument)
	if err != nil {
		return nil, err
	}
	var all []Held
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&all); err != nil {
		return nil, fmt.Errorf("holdings list: %v: %w", err, errdefs.ErrInvalidInput)
	}
	h := Holdings{}
	// A set, not a search of the layer's blobs so far: a list naming one
	// layer 100,000 times (25 MB) took 19 s to read, the time growing as
	// the square of the entries.
	seen := make(map[Held]struct{}, len(all))
	for i, e := range all {
		if !validDigest(e.DiffID) || !validDigest(e.Digest) || e.Size < 0 || e.MediaType == "" {
			return nil, fmt.Errorf("holdings list: entry %d is not a diff_id, a media type, a digest and a size: %w", i, errdefs.ErrInvalidInput)
		}
		if _, dup := seen[e]; !dup {
			seen[e] = struct{}{}
			h[e.DiffID] = append(h[e.DiffID], e.Blob)
		}
	}
	return h, nil
}
