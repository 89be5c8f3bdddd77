package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit/storegen"
)

// benchScan: issue 2. closure-scan --source scan over a generated store,
// in MB/s, against reading the same files with two parallel readers.
func benchScan(ctx context.Context, b *bench) result {
	r := result{target: "ratio ≥ 0.5"}
	cs, err := b.tool("closure-scan")
	if err != nil {
		return r.failed(err)
	}
	s := b.sizes
	m, err := b.store("scan", s.scanBytes, s.scanPaths, s.scanFiles)
	if err != nil {
		return r.failed(err)
	}
	files, total, err := storeFiles(m.Physical(m.StoreDir))
	if err != nil {
		return r.failed(err)
	}
	var want bytes.Buffer
	graphplan.WriteGraph(&want, m.Graph())
	scan := []stage{command("closure-scan", cs, "--source", "scan", "--root", m.Root, m.Top)}

	// One untimed read warms the page cache for both sides.
	if _, err := readLimit(ctx, files, 2, false); err != nil {
		return r.failed(err)
	}
	ours, limit, err := compare(b.runs,
		func() (sample, error) { return readLimit(ctx, files, 2, false) },
		func(i int) (sample, error) {
			var out bytes.Buffer
			o, err := b.run(ctx, scan, nil, &out)
			if err == nil {
				if err = sameGraph(out.Bytes(), want.Bytes()); err != nil {
					err = fmt.Errorf("run %d: closure-scan's graph is wrong: %w", i+1, err)
				}
			}
			return o, err
		})
	if err != nil {
		return r.failed(err)
	}
	r.throughput(total, ours, limit)
	r.met = r.ratio >= 0.5
	describeStore(&r, m, len(files), total)
	r.note("closure-scan %.2f s using %.1f cores, read limit (2 readers, warm cache) %.2f s; its graph equals the manifest's (%d references, every narSize)",
		ours.best.seconds(), ours.best.cores(0), limit.best.seconds(), m.Totals.References)
	return r
}

// sameGraph compares a tool's graph output with the expected canonical
// graph, naming the first differing node.
func sameGraph(got, want []byte) error {
	g, err := graphplan.ReadGraph(bytes.NewReader(got), "")
	if err != nil {
		return err
	}
	var canon bytes.Buffer
	graphplan.WriteGraph(&canon, g)
	if bytes.Equal(canon.Bytes(), want) {
		return nil
	}
	gl, wl := strings.Split(canon.String(), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			return fmt.Errorf("line %d is\n  %.300s\nwant\n  %.300s", i+1, gl[i], wl[i])
		}
	}
	return fmt.Errorf("%d lines, want %d", len(gl), len(wl))
}

// describeStore notes the generated input of a benchmark.
func describeStore(r *result, m *storegen.Manifest, files int, total int64) {
	r.note("store: %s in %d files (%d names with hardlinks), %d paths, %d references, %d symlinks (seed %d)",
		fmtBytes(total), m.Totals.Files, files, m.Totals.Paths, m.Totals.References, m.Totals.Symlinks, m.Spec.Seed)
}
