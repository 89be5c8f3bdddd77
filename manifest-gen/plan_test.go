package main

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/pyjson"
)

func TestPlanPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf.json")
	os.WriteFile(conf, []byte(`{"architecture": "arm64", "os": "windows", "created": "2000-01-01T00:00:00+00:00",
		"repo_tag": "Localhost.Example:5000/conf:ctag", "config": {"User": "conf"}, "from_image": "base.tar"}`), 0o644)
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(cfg, []byte(`{"User": "flag"}`), 0o644)
	cases := []struct {
		name string
		cmd  command
		want string // name tag created architecture os fromImage config
	}{
		{"Defaults", command{Name: "App"},
			"app  1970-01-01T00:00:01+00:00 " + runtime.GOARCH + " linux  {}"},
		{"ConfOnly", command{Conf: conf},
			"Localhost.Example:5000/conf ctag 2000-01-01T00:00:00+00:00 arm64 linux base.tar {\"User\": \"conf\"}"},
		{"FlagsWin", command{Conf: conf, Name: "n", Tag: ptr("t"), Created: "2001-01-01T00:00:00Z", Architecture: "386", OS: "freebsd", FromImage: "other.tar", Config: cfg},
			"n t 2001-01-01T00:00:00+00:00 386 freebsd other.tar {\"User\": \"flag\"}"},
		{"NameKeepsConfTag", command{Conf: conf, Name: "n"},
			"n ctag 2000-01-01T00:00:00+00:00 arm64 linux base.tar {\"User\": \"conf\"}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cmd.MaxLayers = 125
			p, err := c.cmd.plan(&cli.IO{})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join([]string{p.name, p.tag, p.image.Created, p.image.Architecture, p.image.OS, p.fromImage, string(pyjson.Dumps(p.image.Config, pyjson.None))}, " ")
			if got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestPlanUsageErrors(t *testing.T) {
	cases := map[string]command{
		"NoName":              {},
		"BadName":             {Name: "a b"},
		"BadTag":              {Name: "a", Tag: ptr(".x")},
		"EmptyTag":            {Name: "a", Tag: ptr("")},
		"BadCreated":          {Name: "a", Created: "soon"},
		"StdinBase":           {Name: "a", FromImage: "-"},
		"InheritWithoutBase":  {Name: "a", InheritConfig: true},
		"BaseNameWithoutBase": {Name: "a", FromImageName: "x"},
		"TooManyForRuntimes":  {Name: "a", MaxLayers: 128},
		"NoLayersAllowed":     {Name: "a", MaxLayers: -1},
	}
	for name, cmd := range cases {
		t.Run(name, func(t *testing.T) {
			if cmd.MaxLayers == 0 {
				cmd.MaxLayers = 125
			}
			err := cmd.Validate()
			if err == nil {
				_, err = cmd.plan(&cli.IO{})
			}
			var ue *cli.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want a usage error", err)
			}
		})
	}
}

func ptr(s string) *string { return &s }
