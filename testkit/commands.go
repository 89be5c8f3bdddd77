package testkit

import (
	"flag"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// Commands returns the script commands of the package doc.
func Commands() Cmds {
	return Cmds{
		"mktar":            cmdMktar,
		"tarls":            cmdTarls,
		"tarcat":           cmdTarcat,
		"need":             cmdNeed,
		"docker-start":     cmdDockerStart,
		"registry-start":   cmdRegistryStart,
		"check-image":      cmdCheckImage,
		"subids":           cmdSubids,
		"podman-start":     cmdPodmanStart,
		"containerd-start": cmdContainerdStart,
	}
}

func flags(ts *testscript.TestScript, name string, args []string, define func(*flag.FlagSet)) []string {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	define(fs)
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("%s: %v", name, err)
	}
	return fs.Args()
}

func cmdMktar(ts *testscript.TestScript, neg bool, args []string) {
	var opts TarOptions
	rest := flags(ts, "mktar", args, func(fs *flag.FlagSet) {
		fs.StringVar(&opts.Format, "format", "pax", "")
		fs.StringVar(&opts.Compress, "compress", "", "")
	})
	if len(rest) != 2 {
		ts.Fatalf("usage: mktar [-format F] [-compress C] SPEC OUT")
	}
	spec, err := os.Open(ts.MkAbs(rest[0]))
	ts.Check(err)
	defer spec.Close()
	out, err := os.Create(ts.MkAbs(rest[1]))
	ts.Check(err)
	defer out.Close()
	err = MakeTar(spec, out, opts)
	if neg {
		if err == nil {
			ts.Fatalf("mktar succeeded unexpectedly")
		}
		return
	}
	ts.Check(err)
}

func cmdTarls(ts *testscript.TestScript, neg bool, args []string) {
	var opts ListOptions
	var members multi
	rest := flags(ts, "tarls", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&opts.Sums, "sum", false, "")
		fs.Var(&members, "member", "")
	})
	if len(rest) != 1 {
		ts.Fatalf("usage: tarls [-sum] [-member NAME]... FILE")
	}
	opts.Members = members
	f, err := os.Open(ts.MkAbs(rest[0]))
	ts.Check(err)
	defer f.Close()
	err = ListTar(f, ts.Stdout(), opts)
	if neg != (err != nil) {
		ts.Fatalf("tarls: unexpected result: %v", err)
	}
}

func cmdTarcat(ts *testscript.TestScript, neg bool, args []string) {
	var members multi
	rest := flags(ts, "tarcat", args, func(fs *flag.FlagSet) { fs.Var(&members, "member", "") })
	if len(rest) != 2 {
		ts.Fatalf("usage: tarcat [-member NAME]... FILE MEMBER")
	}
	f, err := os.Open(ts.MkAbs(rest[0]))
	ts.Check(err)
	defer f.Close()
	err = CatMember(f, ts.Stdout(), members, rest[1])
	if neg != (err != nil) {
		ts.Fatalf("tarcat: unexpected result: %v", err)
	}
}

// cmdNeed skips the script (or fails it under REQUIRE_REAL_CLIENTS=1) unless
// every named component is usable.
func cmdNeed(ts *testscript.TestScript, neg bool, args []string) {
	for _, c := range args {
		if why := Missing(c); why != "" {
			if RequireReal() {
				ts.Fatalf("REQUIRE_REAL_CLIENTS=1: %s", why)
			}
			skip(ts, "SKIP: "+why)
		}
	}
}

// cmdDockerStart starts (or reuses) this test binary's Docker engine and
// sets DOCKER_HOST for the rest of the script; with -containerd-store,
// its engine with the containerd image store (StartDockerStore).
func cmdDockerStart(ts *testscript.TestScript, neg bool, args []string) {
	component, start, name := "docker", StartDocker, "docker-start"
	switch {
	case len(args) == 1 && args[0] == "-containerd-store":
		component, start, name = "docker-store", StartDockerStore, "docker-start -containerd-store"
	case len(args) != 0:
		ts.Fatalf("usage: docker-start [-containerd-store]")
	}
	cmdNeed(ts, false, []string{component})
	d, refused, err := start()
	switch {
	case refused != "":
		skip(ts, "SKIP: "+refused)
	case err != nil:
		ts.Fatalf("%s: %v", name, err)
	}
	ts.Setenv("DOCKER_HOST", d.Host)
}

func cmdRegistryStart(ts *testscript.TestScript, neg bool, args []string) {
	var opts RegistryOptions
	rest := flags(ts, "registry-start", args, func(fs *flag.FlagSet) {
		fs.StringVar(&opts.Htpasswd, "htpasswd", "", "")
	})
	if len(rest) != 0 {
		ts.Fatalf("usage: registry-start [-htpasswd FILE]")
	}
	r, _ := startScriptRegistry(ts, &opts)
	ts.Defer(r.Stop)
}

// startScriptRegistry starts the registry of registry-start and its kin in
// the script's .registry directory (returned, for a restart) and sets
// $REGISTRY, $REGISTRY_DIR and $REGISTRY_LOG; opts.Htpasswd is made
// absolute in place. Stopping it is the caller's.
func startScriptRegistry(ts *testscript.TestScript, opts *RegistryOptions) (*Registry, string) {
	cmdNeed(ts, false, []string{"registry"})
	if opts.Htpasswd != "" {
		opts.Htpasswd = ts.MkAbs(opts.Htpasswd)
	}
	dir := ts.MkAbs(".registry")
	ts.Check(os.MkdirAll(dir, 0o755))
	r, err := StartRegistry(dir, *opts)
	ts.Check(err)
	ts.Setenv("REGISTRY", r.Addr)
	ts.Setenv("REGISTRY_DIR", r.Dir)
	ts.Setenv("REGISTRY_LOG", r.Log)
	return r, dir
}

func cmdCheckImage(ts *testscript.TestScript, neg bool, args []string) {
	var oci bool
	rest := flags(ts, "check-image", args, func(fs *flag.FlagSet) { fs.BoolVar(&oci, "oci", false, "") })
	if len(rest) != 1 {
		ts.Fatalf("usage: check-image [-oci] FILE")
	}
	cmdNeed(ts, false, []string{"skopeo", "umoci"})
	err := CheckImage(ts.MkAbs(rest[0]), oci, filepath.Join(ts.Getenv("WORK"), ".check"))
	if neg {
		if err == nil {
			ts.Fatalf("check-image succeeded unexpectedly")
		}
		return
	}
	ts.Check(err)
}
