package main

import (
	"time"

	"dockertools.dev/imgkit/pyjson"
)

// buildImageConfig is the image config nixpkgs' buildImage writes
// (reference §2.2, --build-image-config), whose bytes are the image ID.
// Its builder makes it with jq: baseJson, Nix's toJSON of {architecture,
// config, created, os = "linux", preferLocalBuild = true, variant} (keys
// sorted), then `.config.Env = $baseenv + .config.Env` (the base config's
// Env, else [], before ours: no de-duplication; a config without Env gets
// it last, a null config becomes {"Env": [...]}), then `. + {rootfs:
// {diff_ids: [], type: "layers"}}`, then per layer, base layers included,
// `.history += [{created}]` and `.rootfs.diff_ids += [sha256:…]`; printed
// by jq (two spaces, UTF-8) and echo (a final newline). The base's own
// history is dropped.
type buildImageConfig struct {
	Created      string // as written: see buildImageCreated
	Architecture string
	Variant      string // written even when empty, as baseJson holds it
	Config       *pyjson.Object
	BaseEnv      []string
}

// buildImageCreated is the created nixpkgs' buildImage writes for flag:
// the string itself (baseJson holds it verbatim), and for now the
// second in UTC as `TZ=utc date --iso-8601=seconds` prints it. A time
// Docker cannot read (which is what Go's RFC 3339 parser reads: the
// forms such as 1970-01-01 that --created also takes) would make an
// image nobody loads, so it is written in Python's isoformat instead.
func buildImageCreated(flag string, now func() time.Time) (string, error) {
	if flag == "" {
		return defaultCreated, nil
	}
	if flag == "now" {
		return now().UTC().Format("2006-01-02T15:04:05+00:00"), nil
	}
	if _, err := time.Parse(time.RFC3339Nano, flag); err == nil {
		return flag, nil
	}
	t, err := parseCreated(flag, now)
	if err != nil {
		return "", err
	}
	return isoformat(t), nil
}

// render returns the config bytes.
func (c buildImageConfig) render(layers []layerEntry) ([]byte, error) {
	var cfg *pyjson.Object
	if c.Config != nil {
		cfg = pyjson.Clone(c.Config).(*pyjson.Object)
	} else {
		cfg = pyjson.NewObject()
	}
	// jq's .config.Env is the member named exactly Env.
	own, err := exactEnv(cfg, "config")
	if err != nil {
		return nil, err
	}
	cfg.Set("Env", pyjson.Strings(append(append([]string{}, c.BaseEnv...), own...)))
	diffIDs := make(pyjson.Array, len(layers))
	history := make(pyjson.Array, len(layers))
	for i, l := range layers {
		diffIDs[i] = pyjson.String(l.DiffID)
		history[i] = pyjson.NewObject(pyjson.Member{Key: "created", Value: pyjson.String(c.Created)})
	}
	doc := pyjson.NewObject(
		pyjson.Member{Key: "architecture", Value: pyjson.String(c.Architecture)},
		pyjson.Member{Key: "config", Value: cfg},
		pyjson.Member{Key: "created", Value: pyjson.String(c.Created)},
		pyjson.Member{Key: "os", Value: pyjson.String("linux")},
		pyjson.Member{Key: "preferLocalBuild", Value: pyjson.Bool(true)},
		pyjson.Member{Key: "variant", Value: pyjson.String(c.Variant)},
		pyjson.Member{Key: "rootfs", Value: pyjson.NewObject(
			pyjson.Member{Key: "diff_ids", Value: diffIDs},
			pyjson.Member{Key: "type", Value: pyjson.String("layers")},
		)},
		pyjson.Member{Key: "history", Value: history},
	)
	return append(pyjson.Options{Indent: 2, JQ: true}.Dumps(doc), '\n'), nil
}

// exactEnv returns the member named exactly Env of a Docker config (jq's
// .config.Env; of the base, `.config.Env // []`); missing or null is none.
func exactEnv(cfg *pyjson.Object, what string) ([]string, error) {
	return envMember(cfg, "Env", what)
}
