package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

// Benchmarks for the performance target (100,000 paths, about 8
// references each, ordered and split in under 2 s): `go test -run X
// -bench . -benchtime 1x`. Two shapes: storegen's preferential attachment
// and uniform references to earlier paths, whose ancestor sets are broader
// and less regular (`make bench` times both, as popularity and
// popularity-uniform).

const benchPaths = 100_000

func benchGraphs(b *testing.B) map[string]graphplan.Graph {
	b.Helper()
	sg, err := storegen.RandomGraph(storegen.GraphSpec{Seed: 1, Paths: benchPaths, Refs: 8, SelfRefs: 0.3})
	if err != nil {
		b.Fatal(err)
	}
	u := uniformDAG(b, rand.New(rand.NewPCG(1, 2)), benchPaths, 8)
	ug := make(graphplan.Graph, u.len())
	for i := range ug {
		var refs []string
		for _, j := range u.refs.of(int32(i)) {
			refs = append(refs, u.paths[j])
		}
		ug[i] = graphplan.PathInfo{Path: u.paths[i], NarSize: u.sizes[i], References: refs}
	}
	return map[string]graphplan.Graph{"storegen": sg, "uniform": ug}
}

// BenchmarkRun is the whole tool: JSON in, plan out.
func BenchmarkRun(b *testing.B) {
	for name, fg := range benchGraphs(b) {
		var in bytes.Buffer
		if err := graphplan.WriteGraph(&in, fg); err != nil {
			b.Fatal(err)
		}
		for _, strategy := range []string{"popularity", "size"} {
			b.Run(name+"/"+strategy, func(b *testing.B) {
				for range b.N {
					o := &cli.IO{Stdin: bytes.NewReader(in.Bytes()), Stdout: io.Discard, Stderr: io.Discard}
					if code := cli.Run(context.Background(), "popularity", manual, &command{}, []string{"--strategy", strategy}, o); code != 0 {
						b.Fatalf("exit %d", code)
					}
				}
			})
		}
	}
}

// BenchmarkRank is the popularity order alone, on one worker and on all.
func BenchmarkRank(b *testing.B) {
	for name, fg := range benchGraphs(b) {
		g, err := newGraph(context.Background(), fg.Canonical())
		if err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 0} {
			b.Run(name+map[int]string{1: "/1worker", 0: "/allworkers"}[workers], func(b *testing.B) {
				for range b.N {
					mustRank(b, context.Background(), g, workers)
				}
			})
		}
	}
}
