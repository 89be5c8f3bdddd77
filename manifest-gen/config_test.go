package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/pyjson"
	"dockertools.dev/testkit"
)

func mustObject(t *testing.T, s string) *pyjson.Object {
	t.Helper()
	if s == "" {
		return nil
	}
	v, err := pyjson.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*pyjson.Object)
}

// TestVectorConfigDigest builds the config of the layer vector
// (shared/reference/vectors/layers-vector.md) from its diff_ids and paths:
// its sha256 is the image ID nixpkgs' stream script gives.
func TestVectorConfigDigest(t *testing.T) {
	const store = "/tmp/dockertools-vector/store/"
	img := imageConfig{Created: "1970-01-01T00:00:01+00:00", Architecture: "amd64", OS: "linux",
		Config: mustObject(t, `{"Cmd": ["/bin/hello"], "Env": ["PATH=/bin"]}`)}
	layers := []layerEntry{
		{"sha256:a430567bff15d6b5819750480f5ef86e50a2ba96c4584483b24907fd5ba157f3", historyComment("", []string{store + "1b9p07z77phvv2hf6gm9f28syp39f1ag-libfoo-1.0"})},
		{"sha256:ae5350986681dcfef20f7c6aa98426c8f4c8caa6333bccc82730c47d39dcce63", historyComment("", []string{store + "4ijy8jbsiqmj8fkq1ymr5shs8hsxhcnn-hello-2.12", store + "9dbr5w5ib0yk3h4m3a8zxchdhvnbvrqi-hello-link"})},
		{"sha256:a491ced9ef82f0e7843018b6e0ec9c3948cfc6945a403fc5ef5839b7480ec8db", historyComment("", []string{"/tmp/dockertools-vector/custom"})},
	}
	data := img.render(layers)
	sum := sha256.Sum256(data)
	if got, want := hex.EncodeToString(sum[:]), "4213ec7ad4734aa0369e26c79942f70620fed71b740f1c4f5ea1439b9487928b"; got != want || len(data) != 1186 {
		t.Fatalf("config digest %s (%d bytes), want %s (1186 bytes):\n%s", got, len(data), want, data)
	}
}

func TestHistoryComment(t *testing.T) {
	cases := []struct {
		name, comment string
		paths         []string
		want          string
	}{
		{"CommentWins", "customisation layer", []string{"/nix/store/a"}, "customisation layer"},
		{"PathsRepr", "", []string{"/nix/store/a", "/nix/store/b"}, "store paths: ['/nix/store/a', '/nix/store/b']"},
		{"QuoteInPath", "", []string{"/nix/store/it's"}, `store paths: ["/nix/store/it's"]`},
		{"EmptyListKept", "", []string{}, "store paths: []"},
		{"NothingNoComment", "", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := historyComment(c.comment, c.paths); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	cases := []struct {
		name            string
		base, own, want []string
	}{
		{"Empty", nil, nil, []string{}},
		{"OwnOnlyDeduplicated", nil, []string{"A=1", "B=2", "A=3"}, []string{"A=3", "B=2"}},
		{"FirstPositionLastValue", []string{"PATH=/usr/bin", "P=1", "L=base"}, []string{"C=1", "L=child", "PATH=/bin"}, []string{"PATH=/bin", "P=1", "L=child", "C=1"}},
		{"NoEqualsSign", []string{"BARE", "X=1"}, []string{"BARE=now"}, []string{"BARE=now", "X=1"}},
		{"KeyIsBeforeFirstEquals", []string{"A=b=c"}, []string{"A=d"}, []string{"A=d"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mergeEnv(c.base, c.own); !slices.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

type overlayCase struct {
	name, base, own string
	inherit         bool
	want            string
}

var overlayCases = []overlayCase{
	{"NoBaseUntouched", "", `{"Env": ["A=1", "A=2"], "Cmd": ["x"]}`, false,
		`{"Env": ["A=1", "A=2"], "Cmd": ["x"]}`},
	{"BaseEnvAppended", `{"Env": ["P=1"], "Cmd": ["base"]}`, `{"Cmd": ["own"]}`, false,
		`{"Cmd": ["own"], "Env": ["P=1"]}`},
	{"EnvKeepsItsPlace", `{"Env": ["P=1", "L=base"]}`, `{"Env": ["L=child"], "User": "u"}`, false,
		`{"Env": ["P=1", "L=child"], "User": "u"}`},
	{"EmptyEnvLeftOut", `{"Env": []}`, `{"User": "u"}`, false,
		`{"User": "u"}`},
	{"NullBaseEnv", `{"Env": null}`, `{"Env": ["A=1"]}`, false,
		`{"Env": ["A=1"]}`},
	{"InheritEverything", `{"User": "b", "Cmd": ["base"], "WorkingDir": "/b", "Env": ["P=1"]}`, `{"User": "o"}`, true,
		`{"User": "o", "Cmd": ["base"], "WorkingDir": "/b", "Env": ["P=1"]}`},
	{"InheritEntrypointDropsCmd", `{"Cmd": ["base"], "Entrypoint": ["/b"]}`, `{"Entrypoint": ["/o"]}`, true,
		`{"Entrypoint": ["/o"]}`},
	{"InheritEntrypointAndCmd", `{"Cmd": ["base"]}`, `{"Entrypoint": ["/o"], "Cmd": ["arg"]}`, true,
		`{"Cmd": ["arg"], "Entrypoint": ["/o"]}`},
	{"InheritMergesMaps", `{"Labels": {"a": "1", "s": "b"}, "Volumes": {"/b": {}}, "ExposedPorts": {"80/tcp": {}}}`,
		`{"Labels": {"s": "o", "c": "3"}, "Volumes": {"/o": {}}, "ExposedPorts": null}`, true,
		`{"Labels": {"a": "1", "s": "o", "c": "3"}, "Volumes": {"/b": {}, "/o": {}}, "ExposedPorts": null}`},
	{"InheritDropsOnBuild", `{"OnBuild": ["RUN x"], "User": "b"}`, `{}`, true,
		`{"User": "b"}`},
}

func TestOverlayBase(t *testing.T) {
	for _, c := range overlayCases {
		t.Run(c.name, func(t *testing.T) {
			own := mustObject(t, c.own)
			before := string(pyjson.Dumps(own, pyjson.None))
			got, err := overlayBase(mustObject(t, c.base), own, c.inherit)
			if err != nil {
				t.Fatal(err)
			}
			if s := string(pyjson.Dumps(got, pyjson.None)); s != c.want {
				t.Fatalf("got  %s\nwant %s", s, c.want)
			}
			if after := string(pyjson.Dumps(own, pyjson.None)); after != before {
				t.Fatalf("our config was modified: %s", after)
			}
		})
	}
}

func TestOverlayBaseRefusesBadEnv(t *testing.T) {
	for name, c := range map[string][2]string{
		"BaseEnvNotStrings": {`{"Env": [1]}`, `{}`},
		"OwnEnvNotAList":    {`{}`, `{"Env": "A=1"}`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := overlayBase(mustObject(t, c[0]), mustObject(t, c[1]), false); err == nil || !strings.Contains(err.Error(), "Env is not a list of strings") {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// nixpkgsConfig is the config-building part of nixpkgs'
// stream_layered_image.py (overlay_base_config and the image JSON of
// reference §5.4), transcribed: it reads one JSON case a line and prints
// the config it would write.
const nixpkgsConfig = `
import json, sys
def overlay_base_config(base_config, final_config):
    if base_config is None:
        return final_config
    final_env = base_config.get("Env", []) + final_config.get("Env", [])
    if final_env:
        resolved_env = {entry.split("=", 1)[0]: entry for entry in final_env}
        final_config["Env"] = list(resolved_env.values())
    return final_config
for line in sys.stdin:
    c = json.loads(line)
    image_json = {
        "created": c["created"],
        "architecture": "amd64",
        "os": "linux",
        "config": overlay_base_config(c["base"], c["own"]),
        "rootfs": {"diff_ids": c["diff_ids"], "type": "layers"},
        "history": [{"created": c["created"], "comment": f"store paths: {paths}"} for paths in c["paths"]],
    }
    print(json.dumps(json.dumps(image_json, indent=4)))
`

// TestConfigAgainstPython builds configs from the overlay cases (without
// --inherit-config, which nixpkgs does not have) and compares them byte for
// byte with what nixpkgs' Python code writes.
func TestConfigAgainstPython(t *testing.T) {
	testkit.Need(t, "python3")
	paths := [][]string{{"/nix/store/a-x"}, {"/nix/store/b-\u00e9", "/nix/store/c-it's"}}
	diffIDs := []string{"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("b", 64)}
	var input strings.Builder
	var cases []overlayCase
	for _, c := range overlayCases {
		// nixpkgs has no --inherit-config, and a null base Env makes it
		// raise TypeError (we read it as empty).
		if c.inherit || c.name == "NullBaseEnv" {
			continue
		}
		base := c.base
		if base == "" {
			base = "null"
		}
		p, _ := json.Marshal(paths)
		d, _ := json.Marshal(diffIDs)
		input.WriteString(`{"created": "1970-01-01T00:00:01+00:00", "base": ` + base + `, "own": ` + c.own + `, "paths": ` + string(p) + `, "diff_ids": ` + string(d) + "}\n")
		cases = append(cases, c)
	}
	cmd := exec.Command("python3", "-c", nixpkgsConfig)
	cmd.Stdin = strings.NewReader(input.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v: %s", err, stderrOf(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, c := range cases {
		var want string
		if err := json.Unmarshal([]byte(lines[i]), &want); err != nil {
			t.Fatal(err)
		}
		cfg, err := overlayBase(mustObject(t, c.base), mustObject(t, c.own), false)
		if err != nil {
			t.Fatal(err)
		}
		img := imageConfig{Created: "1970-01-01T00:00:01+00:00", Architecture: "amd64", OS: "linux", Config: cfg}
		layers := []layerEntry{{diffIDs[0], historyComment("", paths[0])}, {diffIDs[1], historyComment("", paths[1])}}
		if got := string(img.render(layers)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// TestCheckConfigTypes: the config fields Docker's and OCI's readers
// decode are checked for the type they decode into; others pass as they
// are.
func TestCheckConfigTypes(t *testing.T) {
	cases := []struct {
		name, config, want string // want: the error's start, "" for none
	}{
		{"Empty", `{}`, ""},
		{"NullIsZero", `{"Env": null, "Healthcheck": null, "Labels": null}`, ""},
		{"UnknownFieldAnyType", `{"Memory": "1g", "X": [1, {"a": null}]}`, ""},
		{"EnvString", `{"Env": "FOO=1"}`, "Env is not a list of strings"},
		{"EnvNullElement", `{"Env": ["A=1", null]}`, "Env is not a list of strings"},
		{"CaseInsensitive", `{"ENTRYPOINT": "/bin/sh"}`, "ENTRYPOINT is not a list of strings"},
		{"UserNumber", `{"User": 1000}`, "User is not a string"},
		{"TtyString", `{"Tty": "true"}`, "Tty is not true or false"},
		{"StopTimeoutFloat", `{"StopTimeout": 1.5}`, "StopTimeout is not an integer"},
		{"StopTimeoutHuge", `{"StopTimeout": 100000000000000000000}`, "StopTimeout is not an integer"},
		{"VolumesString", `{"Volumes": {"/data": "yes"}}`, "Volumes is not an object of objects"},
		{"LabelsList", `{"Labels": ["a=b"]}`, "Labels is not an object of strings"},
		{"HealthcheckList", `{"Healthcheck": ["CMD"]}`, "Healthcheck is not an object"},
		{"HealthcheckTest", `{"Healthcheck": {"test": "true"}}`, "Healthcheck.test is not a list of strings"},
		{"HealthcheckUnknown", `{"Healthcheck": {"Other": "x"}}`, ""},
		// Go's decoder folds case as Unicode does: a long s is an s
		// (FuzzConfigTypes found "Labelſ" passing unchecked).
		{"CaseFoldedLongS", `{"Labelſ": 5}`, "Labelſ is not an object of strings"},
		{"CaseFoldedNested", `{"Healthcheck": {"Retrieſ": "x"}}`, "Healthcheck.Retrieſ is not an integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkConfigTypes(mustObject(t, c.config), "")
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want+": ")):
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}
