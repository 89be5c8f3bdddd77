package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/pyjson"
)

// imageConfig is what goes into the image config besides the layers. Its
// JSON is byte-identical to what nixpkgs' stream_layered_image.py writes
// for the same values (reference §5.4).
type imageConfig struct {
	Created      string // already in Python's isoformat
	Architecture string
	OS           string
	Variant      string // omitted when empty
	Config       *pyjson.Object
	// BaseHistory, when set, is the base image's own history, kept verbatim
	// (empty_layer entries included) in place of one synthesized entry for
	// each of its BaseLayers layers (--keep-base-history).
	BaseHistory pyjson.Array
	BaseLayers  int
}

// layerEntry is one layer as the config records it.
type layerEntry struct {
	DiffID  string
	Comment string // the history comment; empty means none
}

// historyComment is the comment nixpkgs writes for a layer: the trailer's
// comment when it has one, else "store paths: " and the Python repr of the
// path list.
func historyComment(comment string, paths []string) string {
	if comment != "" || paths == nil {
		return comment
	}
	return "store paths: " + pyjson.ReprList(paths)
}

// render returns the config bytes: json.dumps(indent=4), keys in the order
// created, architecture, os, [variant,] config, rootfs, history, no final
// newline.
func (c imageConfig) render(layers []layerEntry) []byte {
	diffIDs := make(pyjson.Array, len(layers))
	history := append(pyjson.Array{}, c.BaseHistory...)
	for i, l := range layers {
		diffIDs[i] = pyjson.String(l.DiffID)
		if c.BaseHistory != nil && i < c.BaseLayers {
			continue
		}
		h := pyjson.NewObject(pyjson.Member{Key: "created", Value: pyjson.String(c.Created)})
		if l.Comment != "" {
			h.Set("comment", pyjson.String(l.Comment))
		}
		history = append(history, h)
	}
	doc := pyjson.NewObject(
		pyjson.Member{Key: "created", Value: pyjson.String(c.Created)},
		pyjson.Member{Key: "architecture", Value: pyjson.String(c.Architecture)},
		pyjson.Member{Key: "os", Value: pyjson.String(c.OS)},
	)
	if c.Variant != "" {
		doc.Set("variant", pyjson.String(c.Variant))
	}
	cfg := c.Config
	if cfg == nil {
		cfg = &pyjson.Object{}
	}
	doc.Set("config", cfg)
	doc.Set("rootfs", pyjson.NewObject(
		pyjson.Member{Key: "diff_ids", Value: diffIDs},
		pyjson.Member{Key: "type", Value: pyjson.String("layers")},
	))
	doc.Set("history", history)
	return pyjson.Dumps(doc, 4)
}

// envList returns the Env member of a Docker config as strings, found
// whatever its case as Docker's decoder finds it; a missing or null Env
// is empty.
func envList(cfg *pyjson.Object, what string) ([]string, error) {
	return envMember(cfg, keyOf(cfg, "Env"), what)
}

// envMember returns the member key of a Docker config as an Env: strings;
// missing or null is none.
func envMember(cfg *pyjson.Object, key, what string) ([]string, error) {
	v, ok := cfg.Get(key)
	if !ok || v == (pyjson.Null{}) {
		return nil, nil
	}
	env, ok := pyjson.AsStrings(v)
	if !ok {
		return nil, fmt.Errorf("%s: Env is not a list of strings: %w", what, errdefs.ErrInvalidInput)
	}
	return env, nil
}

// mergeEnv concatenates base and own and keeps one entry per variable (the
// text before the first "="): at the position of its first occurrence, with
// the value of its last, as nixpkgs' dict comprehension does (§5.4).
func mergeEnv(base, own []string) []string {
	var order []string
	last := map[string]string{}
	for _, e := range append(append([]string{}, base...), own...) {
		k, _, _ := strings.Cut(e, "=")
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = e
	}
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = last[k]
	}
	return out
}

// mergedMaps are the config fields that a Dockerfile instruction adds to
// rather than replaces (LABEL, EXPOSE, VOLUME), by configFields' key.
var mergedMaps = map[string]bool{"labels": true, "exposedports": true, "volumes": true}

// overlayBase combines a base image's config (the "config" member of its
// image config) with our own, which it does not modify.
//
// Without inherit, only Env is inherited, as nixpkgs does: the merged list
// replaces Env where our config has it, or is appended, and is left out when
// empty. With inherit, every field is inherited the way a Dockerfile FROM
// does: the base's fields first in their order, ours replacing theirs in
// place and new ones appended; Labels, ExposedPorts and Volumes are merged
// key by key; Env as above; setting Entrypoint without Cmd drops the base's
// Cmd; OnBuild triggers are not inherited (a FROM consumes them). A field
// is found whatever the case of its key, as Docker's decoder finds it
// ("env" is Env), and keeps the base's spelling.
func overlayBase(base, own *pyjson.Object, inherit bool) (*pyjson.Object, error) {
	own = pyjson.Clone(own).(*pyjson.Object)
	if base == nil {
		return own, nil
	}
	baseEnv, err := envList(base, "base image config")
	if err != nil {
		return nil, err
	}
	ownEnv, err := envList(own, "config")
	if err != nil {
		return nil, err
	}
	out := own
	if inherit {
		out = pyjson.Clone(base).(*pyjson.Object)
		out.Delete(keyOf(out, "OnBuild"))
		_, hasEntrypoint := own.Get(keyOf(own, "Entrypoint"))
		if _, hasCmd := own.Get(keyOf(own, "Cmd")); hasEntrypoint && !hasCmd {
			out.Delete(keyOf(out, "Cmd"))
		}
		for _, m := range own.Members() {
			if _, _, known := fieldOf(configFields, m.Key); known {
				m.Key = keyOf(out, m.Key)
			}
			out.Set(m.Key, mergeField(out, m))
		}
	}
	if env := mergeEnv(baseEnv, ownEnv); len(env) > 0 {
		out.Set(keyOf(out, "Env"), pyjson.Strings(env))
	}
	return out, nil
}

// mergeField returns the value of m's key after our member m is applied
// over cfg: merged for the mergedMaps fields when both are objects, ours
// otherwise.
func mergeField(cfg *pyjson.Object, m pyjson.Member) pyjson.Value {
	prev, _ := cfg.Get(m.Key)
	prevObj, ok1 := prev.(*pyjson.Object)
	ownObj, ok2 := m.Value.(*pyjson.Object)
	field, _, _ := fieldOf(configFields, m.Key)
	if !mergedMaps[field] || !ok1 || !ok2 {
		return m.Value
	}
	merged := pyjson.Clone(prevObj).(*pyjson.Object)
	for _, mm := range ownObj.Members() {
		merged.Set(mm.Key, mm.Value)
	}
	return merged
}

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
