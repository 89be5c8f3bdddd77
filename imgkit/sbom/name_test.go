package sbom

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	packageurl "github.com/package-url/packageurl-go"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/testkit"
)

// drvNames are store path names and how builtins.parseDrvName splits
// them (TestParseDrvNameAsNix asks Nix about the same table).
var drvNames = []struct{ in, name, version string }{
	{"hello-2.12.1", "hello", "2.12.1"},
	{"python3.11-requests-2.31.0", "python3.11-requests", "2.31.0"},
	{"glibc-2.38-44", "glibc", "2.38-44"},
	{"source", "source", ""},
	{"perl5.38.2-URI-5.21", "perl5.38.2-URI", "5.21"},
	{"nix-2.18.1-man", "nix", "2.18.1-man"},
	{"glibc-2.38-44-bin", "glibc", "2.38-44-bin"},
	{"openssl-3.0.13-dev", "openssl", "3.0.13-dev"},
	{"bash-interactive-5.2p26", "bash-interactive", "5.2p26"},
	{"hook", "hook", ""},
	{"etc-os-release", "etc-os-release", ""},
	{"unit-script-foo-start", "unit-script-foo-start", ""},
	{"gtk+3-3.24.41", "gtk+3", "3.24.41"},
	{"foo-", "foo-", ""},
	{"foo--bar", "foo", "-bar"},
	{"foo-_1", "foo", "_1"},
	{"-1.0", "", "1.0"},
	{"libX11-1.8.7", "libX11", "1.8.7"},
	{"linux-6.6.30-modules-shrunk", "linux", "6.6.30-modules-shrunk"},
	{"node_foo-1.0.0-rc.1", "node_foo", "1.0.0-rc.1"},
}

func TestParseDrvName(t *testing.T) {
	for _, c := range drvNames {
		name, version := ParseDrvName(c.in)
		if name != c.name || version != c.version {
			t.Errorf("ParseDrvName(%q) = %q, %q; want %q, %q", c.in, name, version, c.name, c.version)
		}
	}
}

// TestParseDrvNameAsNix checks the table against Nix's own
// builtins.parseDrvName, so the rule is Nix's and not our reading of it.
func TestParseDrvNameAsNix(t *testing.T) {
	testkit.Need(t, "nix")
	var ins []string
	for _, c := range drvNames {
		b, _ := json.Marshal(c.in)
		ins = append(ins, string(b))
	}
	expr := "map builtins.parseDrvName [ " + strings.Join(ins, " ") + " ]"
	cmd := exec.Command("nix-instantiate", "--eval", "--strict", "--json", "-E", expr)
	cmd.Env = append(cmd.Environ(), testkit.NixEnv()...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix-instantiate: %v", err)
	}
	var got []struct{ Name, Version string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i, c := range drvNames {
		if got[i].Name != c.name || got[i].Version != c.version {
			t.Errorf("Nix splits %q into %q, %q; the table says %q, %q", c.in, got[i].Name, got[i].Version, c.name, c.version)
		}
	}
}

func TestPURL(t *testing.T) {
	const h = "0c7c0m1fbn6zp5m79wpf2kwah1g3d0q3"
	for _, c := range []struct{ name, version, want string }{
		{"hello", "2.12.1", "pkg:nix/hello@2.12.1?outputhash=" + h},
		{"source", "", "pkg:nix/source?outputhash=" + h},
		{"gtk+3", "3.24.41", "pkg:nix/gtk%2B3@3.24.41?outputhash=" + h},
		{"a?b=c", "1@2", "pkg:nix/a%3Fb%3Dc@1%402?outputhash=" + h},
	} {
		if got := PURL(c.name, c.version, h); got != c.want {
			t.Errorf("PURL(%q, %q) = %s, want %s", c.name, c.version, got, c.want)
		}
	}
}

// TestEveryComponentHasAName: a store path name Nix splits into no name
// ("-1.0") still gives a component and a package with a name, and a purl
// the purl specification's library parses back to it (syft drops an
// unparsable purl with a warning); so do names of punctuation alone.
func TestEveryComponentHasAName(t *testing.T) {
	img := testImage()
	img.Graph, img.Layers = nil, []Layer{{DiffID: "sha256:" + strings.Repeat("d", 64)}}
	for i, n := range []string{"-1.0", "--", "-", ".-1", "?-1", "=-=", "+-1", "x-?"} {
		p := "/nix/store/" + string(storefs.Base32[i]) + strings.Repeat("0", storefs.HashLen-1) + "-" + n
		img.Graph = append(img.Graph, graphplan.PathInfo{Path: p, NarSize: 1, References: []string{}})
	}
	doc, err := CycloneDX(img)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, FormatCycloneDX, doc)
	var bom struct {
		Components []struct{ Name, Version, Purl string }
	}
	if err := json.Unmarshal(doc, &bom); err != nil {
		t.Fatal(err)
	}
	if len(bom.Components) != len(img.Graph) {
		t.Fatalf("%d components for %d paths", len(bom.Components), len(img.Graph))
	}
	for _, c := range bom.Components {
		u, err := packageurl.FromString(c.Purl)
		if c.Name == "" || err != nil || u.Name != c.Name || u.Version != c.Version {
			t.Errorf("component %q %q: purl %s parses to %+v, %v", c.Name, c.Version, c.Purl, u, err)
		}
	}
	doc, err = SPDX(img)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, FormatSPDX, doc)
	var spdx struct{ Packages []struct{ Name string } }
	if err := json.Unmarshal(doc, &spdx); err != nil {
		t.Fatal(err)
	}
	for _, p := range spdx.Packages {
		if p.Name == "" {
			t.Errorf("an SPDX package without a name")
		}
	}
}
