package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"dockertools.dev/imgkit/cli"
)

func TestCheckName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hello", "hello"},
		{"Hello", "hello"},
		{"registry-1.docker.io/library/hello", "registry-1.docker.io/library/hello"},
		{"localhost:5000/a/b", "localhost:5000/a/b"},
		{"a__b.c-d---e", "a__b.c-d---e"},
		{"[::1]:5000/x", "[::1]:5000/x"},
	}
	for _, c := range cases {
		got, err := checkName("--name", c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "hello world", "hello:1", "-x", "x-", "a___b", "a//b", "/a", "a/", "a.-b", "ünï"} {
		if _, err := checkName("--name", bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestSplitRepoTag(t *testing.T) {
	cases := []struct{ in, name, tag string }{
		{"hello:latest", "hello", "latest"},
		{"hello", "hello", ""},
		{"localhost:5000/hello", "localhost:5000/hello", ""},
		{"localhost:5000/hello:1", "localhost:5000/hello", "1"},
		{"", "", ""},
	}
	for _, c := range cases {
		if n, tg := splitRepoTag(c.in); n != c.name || tg != c.tag {
			t.Errorf("%q: got %q %q, want %q %q", c.in, n, tg, c.name, c.tag)
		}
	}
}

// TestPlanConfRepoTag: a --conf's repo_tag is read as the workflows read
// -t: "NAME" is NAME:latest (it had the config's digest as its tag, and
// -t NAME gave latest); "NAME:" and ":TAG" are refused, naming the conf
// ("NAME:" took the config's digest without a word; nixpkgs writes it,
// and docker load refuses it). The name is written as given, as nixpkgs'
// script writes it: an upper-case registry host stays, upper case in the
// path (which docker load refuses) is refused, not lower-cased into
// another name. A bad name from the conf names the conf, not --name.
func TestPlanConfRepoTag(t *testing.T) {
	dir := t.TempDir()
	conf := func(rt string) string {
		p := filepath.Join(dir, fmt.Sprintf("conf%d.json", len(rt)))
		if err := os.WriteFile(p, []byte(`{"repo_tag": "`+rt+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for rt, want := range map[string]string{"app": "app latest", "Reg.Example/app:V1": "Reg.Example/app V1", "reg:5000": "reg 5000", "reg:5000/app": "reg:5000/app latest"} {
		p, err := (&command{Conf: conf(rt), MaxLayers: 125}).plan(&cli.IO{})
		if err != nil || p.name+" "+p.tag != want {
			t.Errorf("repo_tag %q: got %v, %v; want %q", rt, p, err, want)
		}
	}
	for rt, want := range map[string]string{
		"app:":        `--conf ".*": repo_tag "app:": want NAME\[:TAG\]`,
		":1":          `--conf ".*": repo_tag ":1": want NAME\[:TAG\]`,
		"reg:5000/a:": `--conf ".*": repo_tag "reg:5000/a:": want NAME\[:TAG\]`,
		"a b:1":       `--conf ".*": repo_tag "a b" is not a valid image name`,
		"a:.x":        `--conf ".*": repo_tag: tag ".x" is not a valid tag`,
		"App:1":       `--conf ".*": repo_tag: "App" is not a repository name docker accepts: upper case outside the registry host`,
	} {
		_, err := (&command{Conf: conf(rt), MaxLayers: 125}).plan(&cli.IO{})
		var ue *cli.UsageError
		if !errors.As(err, &ue) || !regexp.MustCompile("^"+want).MatchString(err.Error()) {
			t.Errorf("repo_tag %q: got %v, want a usage error %s", rt, err, want)
		}
	}
}
