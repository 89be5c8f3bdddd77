package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// TestParseAsNix: the ATerm reader reads a .drv Nix wrote as Nix reads it
// (nix show-derivation prints it): outputs, inputs, system, builder,
// arguments and environment, with quotes, backslashes, newlines,
// carriage returns, tabs and UTF-8 in the strings.
func TestParseAsNix(t *testing.T) {
	testkit.Need(t, "nix")
	dir := t.TempDir()
	expr := `let dep = builtins.derivation { name = "dep"; system = builtins.currentSystem; builder = "/bin/sh"; outputs = [ "out" "lib" ]; };
	in builtins.derivation {
	  name = "tricky";
	  system = builtins.currentSystem;
	  builder = "/bin/sh";
	  args = [ "-c" "echo \"quoted\" 'single' \\backslash\\ $out" "line\none\r\ttab" "ünïcode ☃" "" ];
	  dep = "${dep.lib}";
	  src = ./src.txt;
	  empty = "";
	  flag = true;
	  list = [ 1 "two" null ];
	}`
	if err := os.WriteFile(filepath.Join(dir, "default.nix"), []byte(expr), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src.txt"), []byte("source\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		t.Helper()
		return testkit.RunNix(t, dir, "", nil, args...)
	}
	drvPath := strings.TrimSpace(string(run("nix-instantiate", "--quiet", "default.nix")))
	var shown map[string]struct {
		Outputs   map[string]struct{ Path string } `json:"outputs"`
		InputSrcs []string                         `json:"inputSrcs"`
		InputDrvs map[string][]string              `json:"inputDrvs"`
		System    string                           `json:"system"`
		Builder   string                           `json:"builder"`
		Args      []string                         `json:"args"`
		Env       map[string]string                `json:"env"`
	}
	if err := json.Unmarshal(run("nix", "show-derivation", drvPath), &shown); err != nil {
		t.Fatal(err)
	}
	want := shown[drvPath]
	data, err := os.ReadFile(drvPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDerivation(drvPath, data)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{}
	for _, o := range d.outputs {
		outputs[o.name] = o.path
	}
	wantOutputs := map[string]string{}
	for name, o := range want.Outputs {
		wantOutputs[name] = o.Path
	}
	inputDrvs := map[string][]string{}
	for _, in := range d.inputDrvs {
		inputDrvs[in.path] = in.outputs
	}
	env := map[string]string{}
	for _, p := range d.env {
		env[p.name] = p.value
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"outputs", outputs, wantOutputs},
		{"inputDrvs", inputDrvs, want.InputDrvs},
		{"inputSrcs", d.inputSrcs, want.InputSrcs},
		{"system", d.system, want.System},
		{"builder", d.builder, want.Builder},
		{"args", d.args, want.Args},
		{"env", env, want.Env},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: read %q, Nix shows %q", c.what, c.got, c.want)
		}
	}
	if len(d.args) != 5 || !strings.Contains(d.args[2], "\r\t") || env["flag"] != "1" {
		t.Fatalf("not the fixture's derivation: %q %q", d.args, env)
	}
}

// TestDuplicateInputDrvsReadOnce: an input derivation listed more than
// once is one input, with the outputs of its last entry, as Nix reads it
// (into a map): it is read once, not once per entry, which a crafted .drv
// used to make cost minutes.
func TestDuplicateInputDrvsReadOnce(t *testing.T) {
	dep := "/nix/store/dddddddddddddddddddddddddddddddd-dep.drv"
	other := "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-other.drv"
	var ins []string
	for range 1000 {
		ins = append(ins, `("`+dep+`",["out"])`)
	}
	ins = append(ins, `("`+other+`",["out"])`, `("`+dep+`",["dev"])`)
	drv := `Derive([("out","/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x","","")],[` + strings.Join(ins, ",") + `],[],"x86_64-linux","/bin/sh",[],[("name","x")])`
	d, err := parseDerivation("x.drv", []byte(drv))
	if err != nil {
		t.Fatal(err)
	}
	want := []inputDrv{{dep, []string{"dev"}}, {other, []string{"out"}}}
	if !reflect.DeepEqual(d.inputDrvs, want) {
		t.Fatalf("inputDrvs = %q, want %q", d.inputDrvs, want)
	}
}
