package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
)

// The pipelines below run on small graphs written out in the test; every
// expected plan was worked out by hand from nixpkgs' semantics (reference
// §6.3 and flatten_references_graph's sources). Names without "-" keep the
// popularity tie-break (packageName) plain byte order.

// specGraph builds a graph from lines "NAME SIZE [REF...]". Nodes get the
// sizes given; a pipeline starts from them ordered by size.
func specGraph(t testing.TB, spec string) *graph {
	t.Helper()
	var fg graphplan.Graph
	for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
		f := strings.Fields(line)
		size, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("spec line %q: %v", line, err)
		}
		fg = append(fg, graphplan.PathInfo{Path: f[0], NarSize: size, References: f[2:]})
	}
	g, err := newGraph(context.Background(), fg.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// runSpec runs a pipeline (JSON) on g with the named nodes excluded.
func runSpec(t testing.TB, g *graph, pipeline string, exclude ...string) (graphplan.Plan, error) {
	t.Helper()
	steps, err := parsePipeline([]byte(pipeline))
	if err != nil {
		return nil, err
	}
	excluded := make([]bool, g.len())
	for _, p := range exclude {
		i := slices.Index(g.paths, p)
		if i < 0 {
			t.Fatalf("exclude %q: not in the graph", p)
		}
		excluded[i] = true
	}
	return runPipeline(context.Background(), g, excluded, steps)
}

// nixpkgs' test graphs, with sizes that give the vertex order igraph gives
// them (the order names first appear in the edge list).
const (
	// flatten_references_graph_test.py and the __main__ fixture's shape.
	fixtureABCD = `
A 2 A C
B 4 C D
C 6 C
D 8 D`
	// pipe_test.py: Root1→A, A→B, A→C, B→D, B→E, E→F, B→G, Root2→B, Root3→C.
	pipeGraph = `
Root1 1 A
A 2 B C
B 3 D E G
C 4
D 5
E 6 F
F 7
G 8
Root2 9 B
Root3 10 C`
	// split_paths_test.py, with the detached X.
	splitGraph = `
Root1 1 A
A 2 B D
B 3 D F
D 4 E
E 5
F 6
Root2 7 B
Root3 8 C
C 9
X 10`
	// subcomponent_test.py, with the detached X.
	subGraph = `
Root1 1 A
A 2 B C
B 3 D E
C 4
D 5
E 6
Root2 7 B
Root3 8 C
X 9`
	// A chain n0 → n1 → … → n5, generated sizes ascending.
	chain = `
n0 1 n1
n1 2 n2
n2 3 n3
n3 4 n4
n4 5 n5
n5 6`
	// A root R over A, and a cycle X ↔ Y no root reaches (Nix never
	// makes one; the tool must not lose its paths).
	cyclic = `
R 1 A
A 2
X 3 Y
Y 4 X`
)

func TestPipelinePlans(t *testing.T) {
	for _, tc := range []struct {
		name, graph, pipeline string
		exclude               []string
		want                  graphplan.Plan
	}{
		// nixpkgs' __main__ test: its fixture, expected [["B"],["C"],["A"]].
		{"NixpkgsMainFixture", "A 2 A B C\nB 4 C\nC 6 C", `[["split_paths", ["B"]]]`, nil,
			graphplan.Plan{{"B"}, {"C"}, {"A"}}},
		// nixpkgs' second __main__ fixture: everything excluded gives [].
		{"NixpkgsNoPathsFixture", "P 168", `[["popularity_contest"], ["limit_layers", 99]]`, []string{"P"},
			nil},
		{"SplitPathsMainCommonRest", fixtureABCD, `[["split_paths", ["B"]]]`, nil,
			graphplan.Plan{{"B", "D"}, {"C"}, {"A"}}},
		{"OverMainSubcomponentIn", fixtureABCD, `[["split_paths", ["B"]], ["over", "main", ["subcomponent_in", ["B"]]]]`, nil,
			graphplan.Plan{{"B"}, {"D"}, {"C"}, {"A"}}},
		// A excluded: B is the only root and is split off: {main: graph}.
		{"ExcludeLeavesSplitPathAsOnlyRoot", fixtureABCD, `[["split_paths", ["B"]]]`, []string{"A"},
			graphplan.Plan{{"B", "C", "D"}}},
		{"ExcludeDropsReferences", fixtureABCD, `[["split_paths", ["B"]]]`, []string{"D"},
			graphplan.Plan{{"B"}, {"C"}, {"A"}}},
		// pipe_test.py test_1: B split off, its own deps by popularity
		// (F twice referenced), the rest merged with G by limit_layers.
		{"NixpkgsPipeTest1", pipeGraph, `[
			["split_paths", ["B"]],
			["over", "main", ["pipe", [["subcomponent_in", ["B"]], ["over", "rest", ["popularity_contest"]]]]],
			["flatten"],
			["map", ["remove_paths", "Root3"]],
			["limit_layers", 5]]`, nil,
			graphplan.Plan{{"B"}, {"F"}, {"D"}, {"E"}, {"G", "Root1", "A", "C", "Root2"}}},
		{"PopularityContest", "Root1 1 A\nA 2 B\nB 3\nRoot2 4", `[["popularity_contest"]]`, nil,
			graphplan.Plan{{"B"}, {"A"}, {"Root1"}, {"Root2"}}},
		{"PopularityLimitLayers", "Root1 1 A\nA 2 B\nB 3\nRoot2 4", `[["popularity_contest"], ["limit_layers", 3]]`, nil,
			graphplan.Plan{{"B"}, {"A"}, {"Root1", "Root2"}}},
		{"ReverseLimitLayers", "Root1 1 A\nA 2 B\nB 3\nRoot2 4", `[["popularity_contest"], ["reverse"], ["limit_layers", 3]]`, nil,
			graphplan.Plan{{"Root2"}, {"Root1"}, {"A", "B"}}},
		// Fewer graphs than limit_layers allows: all kept, then the empty
		// graph nixpkgs merges of no rest (lib.py's merge_graphs starts
		// from one), left out of the plan...
		{"LimitLayersShort", chain, `[["popularity_contest"], ["limit_layers", 10]]`, nil,
			graphplan.Plan{{"n5"}, {"n4"}, {"n3"}, {"n2"}, {"n1"}, {"n0"}}},
		// ...but counted by a later step: reversed, it is the first of the
		// two graphs the second limit_layers keeps.
		{"LimitLayersShortCountsEmptyRest", chain, `[["popularity_contest"], ["limit_layers", 10], ["reverse"], ["limit_layers", 3]]`, nil,
			graphplan.Plan{{"n0"}, {"n1", "n2", "n3", "n4", "n5"}}},
		{"LimitLayersExact", chain, `[["popularity_contest"], ["limit_layers", 6]]`, nil,
			graphplan.Plan{{"n5"}, {"n4"}, {"n3"}, {"n2"}, {"n1"}, {"n0"}}},
		{"LimitLayersOne", chain, `[["popularity_contest"], ["limit_layers", 1]]`, nil,
			graphplan.Plan{{"n5", "n4", "n3", "n2", "n1", "n0"}}},
		// split_paths_test.py.
		{"SplitNothing", splitGraph, `[["split_paths", []]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "D", "E", "F", "Root2", "Root3", "C", "X"}}},
		{"SplitSingle", splitGraph, `[["split_paths", ["B"]]]`, nil,
			graphplan.Plan{{"B", "F"}, {"D", "E"}, {"Root1", "A", "Root2", "Root3", "C", "X"}}},
		{"SplitMulti", splitGraph, `[["split_paths", ["B", "Root3"]]]`, nil,
			graphplan.Plan{{"B", "F", "Root3", "C"}, {"D", "E"}, {"Root1", "A", "Root2", "X"}}},
		{"SplitNoCommon", splitGraph, `[["split_paths", ["D"]]]`, nil,
			graphplan.Plan{{"D", "E"}, {"Root1", "A", "B", "F", "Root2", "Root3", "C", "X"}}},
		{"SplitNotInGraph", splitGraph, `[["split_paths", ["nope"]], ["over", "main", ["split_every", 1]]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "D", "E", "F", "Root2", "Root3", "C", "X"}}},
		// children_of A: B and D are split off.
		{"SplitChildrenOf", splitGraph, `[["split_paths", [{"children_of": "A"}]]]`, nil,
			graphplan.Plan{{"B", "D", "E", "F"}, {"Root1", "A", "Root2", "Root3", "C", "X"}}},
		// subcomponent_test.py.
		{"SubcomponentOut", subGraph, `[["subcomponent_out", ["B"]]]`, nil,
			graphplan.Plan{{"B", "D", "E"}, {"Root1", "A", "C", "Root2", "Root3", "X"}}},
		{"SubcomponentOutMulti", subGraph, `[["subcomponent_out", ["B", "Root3"]]]`, nil,
			graphplan.Plan{{"B", "C", "D", "E", "Root3"}, {"Root1", "A", "Root2", "X"}}},
		{"SubcomponentIn", subGraph, `[["subcomponent_in", ["B"]]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "Root2"}, {"C", "D", "E", "Root3", "X"}}},
		{"SubcomponentInMulti", subGraph, `[["subcomponent_in", ["B", "Root3"]]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "Root2", "Root3"}, {"C", "D", "E", "X"}}},
		{"SubcomponentNone", subGraph, `[["subcomponent_out", []], ["over", "rest", ["split_every", 4]]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "C"}, {"D", "E", "Root2", "Root3"}, {"X"}}},
		// A string where a list of paths is due is iterated, as Python
		// iterates it: its characters are the paths. A store path given
		// alone matches nothing (main is empty, and left out)...
		{"SubcomponentOfString", subGraph, `[["subcomponent_out", "Root1"]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "C", "D", "E", "Root2", "Root3", "X"}}},
		// ...and characters that are paths match.
		{"SubcomponentOfStringByCharacter", subGraph, `[["subcomponent_out", "DC"]]`, nil,
			graphplan.Plan{{"C", "D"}, {"Root1", "A", "B", "E", "Root2", "Root3", "X"}}},
		{"SubcomponentInOfObject", subGraph, `[["subcomponent_in", {"E": 1}]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "E", "Root2"}, {"C", "D", "Root3", "X"}}},
		// split_paths finds no path in a string or in an object's keys,
		// "children_of" included: {rest: the graph}.
		{"SplitPathsOfString", splitGraph, `[["split_paths", "Root2"]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "D", "E", "F", "Root2", "Root3", "C", "X"}}},
		{"SplitPathsOfObject", splitGraph, `[["split_paths", {"children_of": "A"}]]`, nil,
			graphplan.Plan{{"Root1", "A", "B", "D", "E", "F", "Root2", "Root3", "C", "X"}}},
		// remove_paths alone takes a string as one path.
		{"RemovePathsOfString", chain, `[["remove_paths", "n1"]]`, nil,
			graphplan.Plan{{"n0", "n2", "n3", "n4", "n5"}}},
		// limit_layers merges the rest into one graph as nixpkgs' +
		// does: split_every's lists into the graph of all their graphs...
		{"LimitMergesListsIntoAGraph", chain, `[["split_every", 2], ["map", ["split_every", 1]], ["limit_layers", 2]]`, nil,
			graphplan.Plan{{"n0"}, {"n1"}, {"n2", "n3", "n4", "n5"}}},
		// ...so limit_layers 1 of lists makes a list of one graph, which
		// map takes, its graphs merged without a reference between them.
		{"LimitOneOfListsIsAGraph", chain, `[["split_every", 2], ["map", ["split_every", 1]], ["limit_layers", 1], ["map", ["popularity_contest"]]]`, nil,
			graphplan.Plan{{"n0"}, {"n1"}, {"n2"}, {"n3"}, {"n4"}, {"n5"}}},
		{"RemovePaths", chain, `[["remove_paths", ["n1", "n4", "absent"]], ["split_every", 2]]`, nil,
			graphplan.Plan{{"n0", "n2"}, {"n3", "n5"}}},
		// The graph as prepared, in one layer: ordered by narSize.
		{"EmptyPipeline", "b 2\na 2\nc 1", `[]`, nil,
			graphplan.Plan{{"c", "a", "b"}}},
		// split_paths deletes the references into the split paths in the
		// graph main comes from: n1 → n2 is gone, so n2 is a root of main
		// and ranks with n1 (by name), not below it.
		{"SplitCutsEdgesIntoSplitPaths", chain, `[["split_paths", ["n1", "n2"]], ["over", "main", ["popularity_contest"]]]`, nil,
			graphplan.Plan{{"n5"}, {"n4"}, {"n3"}, {"n1"}, {"n2"}, {"n0"}}},
		// A graph limit_layers merges holds no references between the
		// graphs merged (a disjoint union): ranked again, the one-path
		// graphs merged have popularity 1 each and go by name.
		{"MergedGraphsLoseEdgesBetween", chain, `[["popularity_contest"], ["limit_layers", 2], ["map", ["popularity_contest"]]]`, nil,
			graphplan.Plan{{"n5"}, {"n0"}, {"n1"}, {"n2"}, {"n3"}, {"n4"}}},
		// …and keeps those within each: n0→n1, n2→n3, n4→n5 stay.
		{"MergedGraphsKeepEdgesWithin", chain, `[["split_every", 2], ["limit_layers", 1], ["map", ["popularity_contest"]]]`, nil,
			graphplan.Plan{{"n1"}, {"n3"}, {"n5"}, {"n0"}, {"n2"}, {"n4"}}},
		// over a key split_paths left out: the dict is kept.
		{"OverAbsentKey", fixtureABCD, `[["split_paths", ["D"]], ["over", "common", ["split_every", 1]]]`, nil,
			graphplan.Plan{{"D"}, {"A", "B", "C"}}},
		{"Flatten", fixtureABCD, `[["split_paths", ["B"]], ["flatten"], ["reverse"]]`, nil,
			graphplan.Plan{{"A"}, {"C"}, {"B", "D"}}},
		// Paths only a cycle leads to are kept, in rest.
		{"SplitKeepsCyclePaths", cyclic, `[["split_paths", ["A"]]]`, nil,
			graphplan.Plan{{"A"}, {"R", "X", "Y"}}},
		{"PopularityCycleRemainder", cyclic, `[["popularity_contest"]]`, nil,
			graphplan.Plan{{"A"}, {"R"}, {"X"}, {"Y"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runSpec(t, specGraph(t, tc.graph), tc.pipeline, tc.exclude...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestPipelineErrors: every fault of a pipeline is one error naming the
// step, wrapping ErrInvalidInput, found before any graph is read.
func TestPipelineErrors(t *testing.T) {
	for _, tc := range []struct{ name, pipeline, want string }{
		{"NotJSON", `[["popularity_contest"]`, "JSON line 1 column 24: expecting ',' delimiter"},
		{"NotAList", `{"pipeline": []}`, "the pipeline: want a list of steps, got an object"},
		{"StepNotAList", `["popularity_contest"]`, `step 1: want ["function", arguments...], got the string "popularity_contest"`},
		{"EmptyStep", `[[]]`, `step 1: want ["function", arguments...], got an empty list`},
		{"NameNotString", `[[1]]`, "step 1: the function name must be a string, got the number 1"},
		{"UnknownFunction", `[["popularity_contest"], ["sort"]]`, `step 2: unknown function "sort" (known: flatten, limit_layers, map, over, pipe, popularity_contest, remove_paths, reverse, split_every, split_paths, subcomponent_in, subcomponent_out)`},
		{"TooManyArguments", `[["popularity_contest", 3]]`, "step 1 (popularity_contest): takes no arguments, got 1"},
		{"TooFewArguments", `[["popularity_contest"], ["limit_layers"]]`, "step 2 (limit_layers): takes 1 argument (the number of layers), got 0"},
		{"OverArity", `[["split_paths", ["a"]], ["over", "main"]]`, "step 2 (over): takes 2 arguments (the key, the step), got 1"},
		{"LimitZero", `[["popularity_contest"], ["limit_layers", 0]]`, "step 2 (limit_layers): the number of layers must be a whole number of at least 1, got the number 0"},
		{"LimitNegative", `[["popularity_contest"], ["limit_layers", -2]]`, "got the number -2"},
		{"LimitFloat", `[["popularity_contest"], ["limit_layers", 2.0]]`, "got the number 2.0"},
		{"LimitString", `[["popularity_contest"], ["limit_layers", "2"]]`, `got the string "2"`},
		{"SplitEveryBool", `[["split_every", true]]`, "step 1 (split_every): the number of paths per graph must be a whole number of at least 1, got true"},
		{"PathsNumber", `[["remove_paths", 5]]`, "step 1 (remove_paths): the paths must be a store path or a list of them, got the number 5"},
		{"PathNotString", `[["subcomponent_out", ["/a", null]]]`, "step 1 (subcomponent_out): path 2 must be a string, got null"},
		{"SplitBadObject", `[["split_paths", [{"parent_of": "/a"}]]]`, `step 1 (split_paths): path 1: an object must be {"children_of": paths}, got keys ["parent_of"]`},
		{"SplitBadItem", `[["split_paths", [["/a"]]]]`, `step 1 (split_paths): path 1 must be a store path or {"children_of": paths}, got a list`},
		{"OverBadKey", `[["split_paths", ["/a"]], ["over", "left", ["flatten"]]]`, `step 2 (over): the key must be main, common or rest, got the string "left"`},
		{"OverKeyNeverThere", `[["subcomponent_in", ["/a"]], ["over", "common", ["flatten"]]]`, "step 2 (over): is given a dict (main, rest), which has no key common"},
		{"PipeNotList", `[["pipe", "x"]]`, `step 1 (pipe): want a list of steps, got the string "x"`},
		{"NestedNumbering", `[["split_paths", ["/a"]], ["over", "main", ["pipe", [["popularity_contest"], ["limit_layers"]]]]]`, "step 2.1.2 (limit_layers): takes 1 argument (the number of layers), got 0"},
		{"MapStepNumbering", `[["popularity_contest"], ["map", ["nope"]]]`, `step 2.1: unknown function "nope"`},
		// Kinds: what a step is given is known from the pipeline alone.
		{"PopularityOfList", `[["popularity_contest"], ["popularity_contest"]]`, "step 2 (popularity_contest): takes a graph, but is given a list of graphs"},
		{"LimitOfGraph", `[["limit_layers", 3]]`, "step 1 (limit_layers): takes a list of graphs or of lists, but is given a graph"},
		// limit_layers 2 of lists: a list and a graph, which no step
		// map applies takes both of (Python fails).
		{"MapOfListsAndAGraph", `[["split_every", 2], ["map", ["split_every", 1]], ["limit_layers", 2], ["map", ["limit_layers", 1]]]`, "step 4 (map): takes a list of values of one kind, but is given a list of lists of graphs and a graph"},
		{"LimitOfDicts", `[["split_every", 2], ["map", ["split_paths", ["/a"]]], ["limit_layers", 3]]`, "step 3 (limit_layers): takes a list of graphs or of lists, but is given a list of dicts (main, common, rest)"},
		{"OverOfGraph", `[["over", "main", ["flatten"]]]`, "step 1 (over): takes a dict, but is given a graph"},
		{"MapOfDict", `[["split_paths", ["/a"]], ["map", ["flatten"]]]`, "step 2 (map): takes a list, but is given a dict (main, common, rest)"},
		{"ReverseOfGraph", `[["reverse"]]`, "step 1 (reverse): takes a list, but is given a graph"},
		{"InnerKind", `[["popularity_contest"], ["map", ["split_every", 1]], ["map", ["popularity_contest"]]]`, "step 3.1 (popularity_contest): takes a graph, but is given a list of graphs"},
		{"DeepList", `[["split_every", 1], ["map", ["split_every", 1]], ["map", ["map", ["remove_paths", "/a"]]], ["reverse"], ["popularity_contest"]]`, "step 5 (popularity_contest): takes a graph, but is given a list of lists of graphs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePipeline([]byte(tc.pipeline))
			if err == nil {
				t.Fatalf("%s: no error", tc.pipeline)
			}
			if !errors.Is(err, errdefs.ErrInvalidInput) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%q: not one line wrapping ErrInvalidInput", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not say %q", err, tc.want)
			}
		})
	}
}

// TestPipelineG2DefaultIsClassic: nixpkgs' G2 default pipeline,
// popularity_contest then limit_layers A, makes the classic split of the
// popularity order (§6.2) when nothing is excluded, on any graph: the
// pipeline reuses the strategy's ranking and split semantics.
func TestPipelineG2DefaultIsClassic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	for i := range 200 {
		var g *graph
		if i%4 == 3 {
			g = randomCyclic(t, rng, 1+rng.IntN(40), 0.1, 0.03)
		} else {
			g = randomDAG(t, rng, 1+rng.IntN(40), 0.15)
		}
		available := 1 + rng.IntN(12)
		got, err := runSpec(t, g, `[["popularity_contest"], ["limit_layers", `+strconv.Itoa(available)+`]]`)
		if err != nil {
			t.Fatal(err)
		}
		want := splitClassic(pathsOf(g, mustRank(t, context.Background(), g, 0).order, make([]bool, g.len())), available)
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("graph %d, %d layers:\ngot  %q\nwant %q", i, available, got, want)
		}
	}
}

// TestPipelineLimitLayersOfIterators: the lists popularity_contest (and
// map, reverse, flatten, limit_layers) make are iterators in Python, which
// + cannot add to a graph: limit_layers merging even one of them fails
// there, and here.
func TestPipelineLimitLayersOfIterators(t *testing.T) {
	for _, n := range []string{"2", "3"} { // two left over, one
		_, err := runSpec(t, specGraph(t, chain), `[["split_every", 2], ["map", ["popularity_contest"]], ["limit_layers", `+n+`]]`)
		want := "step 3 (limit_layers): merges a list that nixpkgs' Python holds as an iterator, which it cannot add (+) to a graph: only split_every's lists are"
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, errdefs.ErrInvalidInput) {
			t.Fatalf("limit_layers %s: error %v, want one saying %q", n, err, want)
		}
	}
}
