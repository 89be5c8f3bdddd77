package scripts

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/testkit"
)

// sbomCommands are the workflow scripts' commands for looking into an
// SBOM (syft, the real consumer, reads names and versions; these check the
// rest):
//
//	sbom-components FILE
//	    prints the components of a CycloneDX SBOM one a line, sorted:
//	    NAME VERSION layer=INDEX nar=HASH, with "-" for an empty version,
//	    a path in no layer of the image, a path without a NAR hash
var sbomCommands = testkit.Cmds{
	"sbom-components": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: sbom-components FILE")
		}
		data, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		var bom struct {
			Components []struct {
				Name, Version string
				Properties    []struct{ Name, Value string }
			}
		}
		ts.Check(json.Unmarshal(data, &bom))
		var lines []string
		for _, c := range bom.Components {
			props := map[string]string{"dockertools-go:layer:index": "-", "dockertools-go:nix:nar_hash": "-"}
			for _, p := range c.Properties {
				props[p.Name] = p.Value
			}
			version := c.Version
			if version == "" {
				version = "-"
			}
			lines = append(lines, fmt.Sprintf("%s %s layer=%s nar=%s", c.Name, version, props["dockertools-go:layer:index"], props["dockertools-go:nix:nar_hash"]))
		}
		slices.Sort(lines)
		fmt.Fprintln(ts.Stdout(), strings.Join(lines, "\n"))
	},
}
