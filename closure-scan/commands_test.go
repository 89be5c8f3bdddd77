package main

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/storefs"
	"github.com/rogpeppe/go-internal/testscript"
)

// graphCommands are the scripts' own commands, for comparing graphs with
// what Nix prints:
//
//	graph-canon FILE   prints a graph in any accepted form (nix path-info
//	                   --json included) in canonical form
//	graph-names FILE   prints a graph one node per line without hash parts,
//	                   "name narSize -> reference names", sorted by name, so
//	                   that scripts can pin the shape of a closure whose
//	                   hashes depend on the machine
var graphCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"graph-canon": func(ts *testscript.TestScript, neg bool, args []string) {
		g := readGraphArg(ts, "graph-canon", args)
		ts.Check(graphplan.WriteGraph(ts.Stdout(), g))
	},
	"graph-names": func(ts *testscript.TestScript, neg bool, args []string) {
		g := readGraphArg(ts, "graph-names", args)
		var lines []string
		for _, n := range g {
			refs := make([]string, len(n.References))
			for i, r := range n.References {
				refs[i] = baseName(r)
			}
			slices.Sort(refs)
			lines = append(lines, strings.TrimSpace(fmt.Sprintf("%s %d -> %s", baseName(n.Path), n.NarSize, strings.Join(refs, " "))))
		}
		slices.Sort(lines)
		fmt.Fprintln(ts.Stdout(), strings.Join(lines, "\n"))
	},
}

func readGraphArg(ts *testscript.TestScript, name string, args []string) graphplan.Graph {
	if len(args) != 1 {
		ts.Fatalf("usage: %s FILE", name)
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	g, err := graphplan.ReadGraph(f, "")
	ts.Check(err)
	return g
}

// baseName is a path's last element without its hash part.
func baseName(p string) string {
	b := path.Base(p)
	if storefs.ValidName(b) {
		return b[hashLen+1:]
	}
	return b
}
