package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

const (
	popularityTarget    = 2 * time.Second
	popularityTargetRSS = 1 << 30
)

// benchPopularity: issue 2. popularity --max 100 on a random graph of
// 100,000 paths with about 8 references each (preferential attachment, as
// real closures); the limit is the target.
func benchPopularity(ctx context.Context, b *bench) result {
	return b.popularity(ctx, false)
}

// benchPopularityUniform is benchPopularity on a graph whose references
// are drawn uniformly among the earlier paths, 8 each: broad, irregular
// ancestor sets, the hard case of the popularity order.
func benchPopularityUniform(ctx context.Context, b *bench) result {
	return b.popularity(ctx, true)
}

func (b *bench) popularity(ctx context.Context, uniform bool) result {
	r := result{target: "ratio ≥ 1, RSS < 1 GiB"}
	pop, err := b.tool("popularity")
	if err != nil {
		return r.failed(err)
	}
	spec := storegen.GraphSpec{Seed: b.seed, Paths: int(b.sizes.popPaths), Refs: b.sizes.popRefs, SelfRefs: 0.1, Uniform: uniform}
	shape := "random"
	if uniform {
		shape = "uniform"
	}
	key := fmt.Sprintf("%s-v%d-s%d-n%d-r%g", shape, storegen.Version, spec.Seed, spec.Paths, spec.Refs)
	graph, err := b.cachedGraph(key, func() (graphplan.Graph, error) { return storegen.RandomGraph(spec) })
	if err != nil {
		return r.failed(err)
	}
	var ours series
	for i := range b.runs {
		in, err := os.Open(graph)
		if err != nil {
			return r.failed(err)
		}
		var out bytes.Buffer
		o, err := b.run(ctx, []stage{command("popularity", pop, "--max", "100")}, in, &out)
		in.Close()
		if err != nil {
			return r.failed(err)
		}
		if err := checkPlan(out.Bytes(), spec.Paths, 99); err != nil {
			return r.failed(fmt.Errorf("run %d: %w", i+1, err))
		}
		ours.add(o)
	}
	t := ours.best.wall
	r.ours = fmt.Sprintf("%.2f s", t.Seconds())
	r.limit = fmt.Sprintf("%.0f s (target)", popularityTarget.Seconds())
	r.ratio = popularityTarget.Seconds() / t.Seconds()
	r.rss = fmtBytes(ours.best.maxRSS())
	r.met = t < popularityTarget && ours.best.maxRSS() < popularityTargetRSS
	how := "about %g references each, preferential attachment"
	if uniform {
		how = "%g references each, drawn uniformly among the earlier paths"
	}
	r.note("graph: %d paths, "+how+" (seed %d); %.1f µs per path; the plan holds every path once in at most 99 store layers",
		spec.Paths, spec.Refs, spec.Seed, float64(t.Microseconds())/float64(spec.Paths))
	return r
}

// checkPlan checks a layer plan: valid, at most maxLayers layers, and
// every one of paths store paths exactly once.
func checkPlan(data []byte, paths, maxLayers int) error {
	plan, err := graphplan.ReadPlan(bytes.NewReader(data))
	if err != nil {
		return err
	}
	n := 0
	for _, l := range plan {
		n += len(l)
	}
	if len(plan) > maxLayers || n != paths {
		return fmt.Errorf("the plan has %d layers holding %d paths, want at most %d layers holding %d", len(plan), n, maxLayers, paths)
	}
	return nil
}
