package graphplan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/sniff"
)

// Plan is a layer plan: one list of store paths per layer, bottom layer
// first, paths in the order they are written into the layer. It is the
// store_layers value of nixpkgs' stream configuration.
type Plan [][]string

// WritePlan writes p as a JSON array with one layer per line.
func WritePlan(w io.Writer, p Plan) error {
	layers := make(Plan, len(p))
	for i, layer := range p {
		if layer == nil {
			layer = []string{} // [], not null
		}
		layers[i] = layer
	}
	return writeLines(w, layers)
}

// ReadPlan reads a layer plan. Every path must be a clean absolute path,
// UTF-8 without a NUL or a newline, and appear at most once in the whole
// plan; empty layers are allowed (they hold only /nix/ and /nix/store/, as
// in nixpkgs).
func ReadPlan(r io.Reader) (Plan, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("plan: %s: %w", errdefs.EmptyInput, errdefs.ErrInvalidInput)
	}
	// Another stage's document (a graph, a stream) says what it is.
	if m, ok := sniff.Mismatch(data[:min(len(data), sniff.Len)], sniff.Plan); ok {
		return nil, fmt.Errorf("plan: %s: %w", m, errdefs.ErrInvalidInput)
	}
	if err := checkText(data); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("plan: expected a JSON array of arrays of store paths: %v: %w", err, errdefs.ErrInvalidInput)
	}
	seen := map[string]int{}
	for i, layer := range p {
		for _, sp := range layer {
			if problem := pathProblem(sp); problem != "" {
				return nil, fmt.Errorf("plan: layer %d: %q %s: %w", i, sp, problem, errdefs.ErrInvalidInput)
			}
			if j, dup := seen[sp]; dup {
				return nil, fmt.Errorf("plan: %q is in layer %d and layer %d: %w", sp, j, i, errdefs.ErrInvalidInput)
			}
			seen[sp] = i
		}
	}
	return p, nil
}
