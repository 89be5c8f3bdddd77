package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// FuzzPipeline: any text either is refused as one line naming the cause
// (wrapping ErrInvalidInput), or is a pipeline that runs on a graph with
// roots, a shared dependency, a detached path and a cycle no root reaches:
// no panic, the same plan on a second run, no empty layer, no path twice,
// and every path there unless a remove_paths step names it.
func FuzzPipeline(f *testing.F) {
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		f.Add(fx.Data)
	}
	for _, seed := range []string{
		`[]`,
		`[["popularity_contest"], ["limit_layers", 3]]`,
		`[["split_paths", ["B"]], ["over", "main", ["pipe", [["subcomponent_in", ["B"]], ["over", "rest", ["popularity_contest"]]]]], ["flatten"], ["map", ["remove_paths", "Root3"]], ["limit_layers", 5]]`,
		`[["split_paths", [{"children_of": ["A", "Root1"]}, "X"]], ["over", "common", ["split_every", 2]], ["over", "rest", ["subcomponent_out", "C"]]]`,
		`[["split_every", 2], ["limit_layers", 1], ["map", ["popularity_contest"]], ["flatten"], ["reverse"]]`,
		`[["remove_paths", ["E", "Y"]], ["split_paths", ["B", "Y"]], ["over", "main", ["split_paths", ["D"]]]]`,
	} {
		f.Add([]byte(seed))
	}
	g := specGraph(f, pipeGraph+"\nX 11 Y\nY 12 X\nZ 12")
	f.Fuzz(func(t *testing.T, data []byte) {
		steps, err := parsePipeline(data)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		excluded := make([]bool, g.len())
		plan, err := runPipeline(context.Background(), g, excluded, steps)
		if err != nil && strings.Contains(err.Error(), "(limit_layers): merges lists") {
			// The one fault found as a step runs (nixpkgs fails there too).
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		again, _ := runPipeline(context.Background(), g, excluded, steps)
		if !reflect.DeepEqual(plan, again) {
			t.Fatalf("%s: two runs gave %q and %q", data, plan, again)
		}
		// A path named by remove_paths anywhere may be gone; one named by
		// a top-level remove_paths (the whole value is a graph there) is.
		removed, gone := map[string]bool{}, map[string]bool{}
		walkSteps(steps, func(s *step, p string) {
			if s.fn == fnRemovePaths {
				removed[p] = true
			}
		})
		for _, s := range steps {
			if s.fn == fnRemovePaths {
				for _, p := range s.paths {
					gone[p] = true
				}
			}
		}
		seen := map[string]bool{}
		for _, layer := range plan {
			if len(layer) == 0 {
				t.Fatalf("%s: an empty layer in %q", data, plan)
			}
			for _, p := range layer {
				if seen[p] || gone[p] {
					t.Fatalf("%s: %q twice, or removed, in %q", data, p, plan)
				}
				seen[p] = true
			}
		}
		for _, p := range g.paths {
			if !seen[p] && !removed[p] {
				t.Fatalf("%s: %q is lost: %q", data, p, plan)
			}
		}
	})
}
