package testkit

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// ArchiveCommands returns the script commands for image archives, to add
// to Params' Cmds:
//
//	mkimage [-oci] [-tag T]... [-repositories T]... [-cmd ARG]... [-compress C] [-layer-compress C] [-bad-diffid N] [-history FILE] [-platform P] OUT LAYER...
//	    writes an image archive (docker-archive, or OCI layout with -oci)
//	    holding the uncompressed layer tars LAYER..., bottom first; see
//	    ImageOptions.
//	dockersave [-saved P] [-drop-manifest P]... [-drop-layers P]... OUT LAYOUT
//	    writes what docker save of the multi-platform image in the OCI
//	    layout tar LAYOUT writes with the containerd image store (see
//	    cmdDockerSave).
//	tardiff [-docker-export] [-absent-ok PATH]... A B
//	    compares two filesystem tars (see DiffRootfs) and fails listing
//	    the differences. -docker-export: B is a `docker export`, so the
//	    paths of DockerCreateAdds may be missing from A.
func ArchiveCommands() Cmds {
	return Cmds{
		"mkimage":    cmdMkimage,
		"tardiff":    cmdTardiff,
		"dockersave": cmdDockerSave,
	}
}

func cmdMkimage(ts *testscript.TestScript, neg bool, args []string) {
	var opts ImageOptions
	var tags, cmd, repos multi
	var history string
	rest := flags(ts, "mkimage", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&opts.OCI, "oci", false, "")
		fs.Var(&tags, "tag", "")
		fs.Var(&cmd, "cmd", "")
		fs.Var(&repos, "repositories", "")
		fs.StringVar(&opts.Compress, "compress", "", "")
		fs.StringVar(&opts.LayerCompress, "layer-compress", "", "")
		fs.IntVar(&opts.BadDiffID, "bad-diffid", 0, "")
		fs.StringVar(&history, "history", "", "")
		fs.StringVar(&opts.Platform, "platform", "", "")
	})
	if len(rest) < 1 {
		ts.Fatalf("usage: mkimage [flags] OUT LAYER...")
	}
	opts.Tags, opts.Cmd, opts.Repositories = tags, cmd, repos
	if history != "" {
		opts.History = ts.ReadFile(history)
	}
	out, err := os.Create(ts.MkAbs(rest[0]))
	ts.Check(err)
	defer out.Close()
	var layers []string
	for _, l := range rest[1:] {
		layers = append(layers, ts.MkAbs(l))
	}
	err = MakeImage(out, layers, opts)
	if neg != (err != nil) {
		ts.Fatalf("mkimage: unexpected result: %v", err)
	}
}

func cmdTardiff(ts *testscript.TestScript, neg bool, args []string) {
	var absent multi
	var docker bool
	rest := flags(ts, "tardiff", args, func(fs *flag.FlagSet) {
		fs.Var(&absent, "absent-ok", "")
		fs.BoolVar(&docker, "docker-export", false, "")
	})
	if len(rest) != 2 {
		ts.Fatalf("usage: tardiff [-docker-export] [-absent-ok PATH]... A B")
	}
	if docker {
		absent = append(absent, DockerCreateAdds...)
	}
	a, err := os.Open(ts.MkAbs(rest[0]))
	ts.Check(err)
	defer a.Close()
	b, err := os.Open(ts.MkAbs(rest[1]))
	ts.Check(err)
	defer b.Close()
	diffs, err := DiffRootfs(a, b, absent)
	ts.Check(err)
	if len(diffs) > 0 {
		fmt.Fprintln(ts.Stdout(), strings.Join(diffs, "\n"))
	}
	if neg != (len(diffs) > 0) {
		ts.Fatalf("tardiff: %d differences", len(diffs))
	}
}
