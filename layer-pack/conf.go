package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
)

// streamConf holds the fields of nixpkgs' stream configuration
// (conf.json, reference §5.1) that layer-pack uses. The image fields
// (architecture, config, created, repo_tag, from_image, …) are
// manifest-gen's.
type streamConf struct {
	StoreDir           string
	StoreLayers        graphplan.Plan
	CustomisationLayer string // a directory with layer.tar and checksum; "" for none
	Mtime              string // "" when the configuration has none
	Uid, Gid           *int64
	Uname, Gname       *string
}

// readConf parses a stream configuration.
func readConf(r io.Reader) (*streamConf, error) {
	var raw struct {
		StoreDir           *string         `json:"store_dir"`
		StoreLayers        json.RawMessage `json:"store_layers"`
		CustomisationLayer *string         `json:"customisation_layer"`
		Mtime              *string         `json:"mtime"`
		Created            *string         `json:"created"`
		Uid                json.RawMessage `json:"uid"`
		Gid                json.RawMessage `json:"gid"`
		Uname              *string         `json:"uname"`
		Gname              *string         `json:"gname"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("expected a JSON object as nixpkgs' conf.json: %v: %w", err, errdefs.ErrInvalidInput)
	}
	if raw.StoreLayers == nil || bytes.Equal(raw.StoreLayers, []byte("null")) {
		return nil, fmt.Errorf("no store_layers: %w", errdefs.ErrInvalidInput)
	}
	plan, err := graphplan.ReadPlan(bytes.NewReader(raw.StoreLayers))
	if err != nil {
		return nil, fmt.Errorf("store_layers: %w", err)
	}
	c := &streamConf{StoreLayers: plan, Uname: raw.Uname, Gname: raw.Gname}
	if raw.StoreDir != nil {
		c.StoreDir = *raw.StoreDir
	}
	if raw.CustomisationLayer != nil {
		c.CustomisationLayer = *raw.CustomisationLayer
	}
	// Configurations from before nixpkgs had mtime used created for it.
	switch {
	case raw.Mtime != nil:
		c.Mtime = *raw.Mtime
	case raw.Created != nil:
		c.Mtime = *raw.Created
	}
	if c.Uid, err = confID("uid", raw.Uid); err != nil {
		return nil, err
	}
	if c.Gid, err = confID("gid", raw.Gid); err != nil {
		return nil, err
	}
	return c, nil
}

// confID reads uid or gid, which nixpkgs writes as a string and its script
// reads with int(): a JSON number or a string of decimal digits.
func confID(key string, raw json.RawMessage) (*int64, error) {
	if raw == nil || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", key, err, errdefs.ErrInvalidInput)
	}
	var s string
	switch v := v.(type) {
	case string:
		s = strings.TrimSpace(v)
	case float64:
		s = string(raw)
	default:
		return nil, fmt.Errorf("%s is %s, want a number or a string of digits: %w", key, shownJSON(raw), errdefs.ErrInvalidInput)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%s %s is not a non-negative integer: %w", key, shownJSON(raw), errdefs.ErrInvalidInput)
	}
	return &n, nil
}

// shownJSON is a JSON value as an error shows it: on one line (a value
// may span lines), and quoted and cut when long.
func shownJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil || b.Len() > errdefs.MaxQuoted {
		return errdefs.Quote(string(raw))
	}
	return b.String()
}
