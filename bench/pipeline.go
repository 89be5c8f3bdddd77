package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"dockertools.dev/imgkit/graphplan"
)

const pipelineRSS = 64 << 20

// benchPipeline: issue 3. popularity | layer-pack | manifest-gen over a
// generated store, against tar | openssl dgst -sha256 of the same paths.
func benchPipeline(ctx context.Context, b *bench) result {
	r := result{target: "ratio ≥ 0.8, RSS < 64 MiB each"}
	tools, err := b.tools("popularity", "layer-pack", "manifest-gen")
	if err != nil {
		return r.failed(err)
	}
	in, err := b.pipelineInput(ctx)
	if err != nil {
		return r.failed(err)
	}
	m, graph, files, total, rel := in.m, in.graph, in.files, in.total, in.rel
	stages := flagStages(tools, m.Root)

	// An untimed run whose image is read back and checked (it also warms
	// the page cache): right layer count, every diff_id, every path.
	storeLayers, err := planLayers(in.plan)
	if err != nil {
		return r.failed(err)
	}
	info, err := b.runImage(ctx, stages, graph, m.StoreDir)
	if err != nil {
		return r.failed(err)
	}
	if n := len(info.layers); n != storeLayers && n != storeLayers+1 {
		return r.failed(fmt.Errorf("the image has %d layers, the plan %d store layers", n, storeLayers))
	}
	if err := checkCovers(info, m); err != nil {
		return r.failed(err)
	}

	// The limit is tar | openssl; reading and hashing on both
	// cores (the harness's own code) is a stricter one, noted.
	var strict series
	ours, limit, err := compare(b.runs,
		func() (sample, error) {
			s, err := readLimit(ctx, files, 2, true)
			strict.add(s)
			if err != nil {
				return s, err
			}
			return b.tarHashLimit(ctx, m.Root, rel)
		},
		func(int) (sample, error) { return b.runFile(ctx, stages, graph, nil) })
	if err != nil {
		return r.failed(err)
	}
	r.throughput(total, ours, limit)
	r.met = r.ratio >= 0.8 && ours.best.maxRSS() < pipelineRSS
	b.describeStore(&r, m, len(files), total)
	r.note("peak RSS popularity %s, layer-pack %s, manifest-gen %s; layer-pack used %.1f cores",
		fmtBytes(ours.best.rss[0]), fmtBytes(ours.best.rss[1]), fmtBytes(ours.best.rss[2]), ours.best.cores(1))
	r.note("image checked: %d layers (%d store layers planned), every diff_id recomputed, every store path present", len(info.layers), storeLayers)
	r.note("stricter limit, every file read and sha256-hashed by 2 parallel readers: %s, ratio %.2f (the issue's tar | openssl is bound by tar, one file at a time on one core)",
		fmtRate(total, strict.best.seconds()), strict.best.seconds()/ours.best.seconds())
	cpuNote(&r, ours, limit)
	r.note("nixpkgs' stream_layered_image.py was not run (not on this machine); issue 3 puts it at about 0.15 of the limit")
	return r
}

// runFile runs stages with a file on stdin.
func (b *bench) runFile(ctx context.Context, stages []stage, in string, out io.Writer) (sample, error) {
	f, err := os.Open(in)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	return b.run(ctx, stages, f, out)
}

// runImage runs stages that write an image archive and checks the
// archive as it streams, without storing it.
func (b *bench) runImage(ctx context.Context, stages []stage, in, storeDir string) (*imageInfo, error) {
	var info *imageInfo
	err := b.runChecked(ctx, stages, in, func(r io.Reader) (err error) {
		info, err = readImage(r, storeDir)
		return err
	})
	return info, err
}

// runChecked runs stages with the file in on stdin and hands their output
// to check as it streams.
func (b *bench) runChecked(ctx context.Context, stages []stage, in string, check func(io.Reader) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := check(pr)
		if err == nil {
			_, err = io.Copy(io.Discard, pr)
		}
		pr.CloseWithError(err)
		done <- err
	}()
	_, err := b.runFile(ctx, stages, in, pw)
	pw.Close()
	cerr := <-done
	switch {
	case err != nil && cerr != nil:
		return fmt.Errorf("%w (reading its output: %v)", err, cerr)
	case cerr != nil:
		return fmt.Errorf("checking the output of %s: %w", stages[len(stages)-1].name, cerr)
	}
	return err
}

// flagStages is the flag pipeline popularity --max 100 | layer-pack
// --root root | manifest-gen of the pipeline figures, from the three tools'
// paths in that order.
func flagStages(tools []string, root string) []stage {
	return []stage{
		command("popularity", tools[0], "--max", "100"),
		command("layer-pack", tools[1], "--root", root),
		command("manifest-gen", tools[2], "--name", "bench"),
	}
}

func planLayers(data []byte) (int, error) {
	plan, err := graphplan.ReadPlan(bytes.NewReader(data))
	return len(plan), err
}
