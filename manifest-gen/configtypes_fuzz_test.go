package main

import (
	"encoding/json"
	"testing"
	"time"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/pyjson"
	"dockertools.dev/testkit"
)

// mobyConfig is moby's container.Config (api/types/container), field for
// field with the types docker load decodes an image's config into; Cmd,
// Entrypoint and Shell are lists, as the OCI image spec has them.
type mobyConfig struct {
	Hostname, Domainname, User              string
	AttachStdin, AttachStdout, AttachStderr bool
	ExposedPorts                            map[string]struct{}
	Tty, OpenStdin, StdinOnce               bool
	Env, Cmd                                []string
	Healthcheck                             *struct {
		Test                                          []string
		Interval, Timeout, StartPeriod, StartInterval time.Duration
		Retries                                       int
	}
	ArgsEscaped     bool
	Image           string
	Volumes         map[string]struct{}
	WorkingDir      string
	Entrypoint      []string
	NetworkDisabled bool
	MacAddress      string
	OnBuild         []string
	Labels          map[string]string
	StopSignal      string
	StopTimeout     *int
	Shell           []string
}

// FuzzConfigTypes: a config whose field types checkConfigTypes accepts
// decodes as Docker decodes an image's config (Go's JSON decoder, which
// matches names regardless of case); one it refuses is refused with one
// line wrapping ErrInvalidInput.
func FuzzConfigTypes(f *testing.F) {
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		f.Add(fx.Data)
	}
	f.Add([]byte(`{"Env":["A=1"],"exposedports":{"80/tcp":{}},"Healthcheck":{"Test":["CMD"],"interval":5},"StopTimeout":3,"Labels":{"a":"b"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := pyjson.Parse(data)
		if err != nil {
			return // pyjson's own target fuzzes the parser
		}
		cfg, ok := v.(*pyjson.Object)
		if !ok {
			return
		}
		if err := checkConfigTypes(cfg, "config."); err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		var c mobyConfig
		if err := json.Unmarshal(pyjson.Dumps(cfg, pyjson.None), &c); err != nil {
			t.Fatalf("%s passes the type check, but Docker's decoder says %v", data, err)
		}
	})
}
