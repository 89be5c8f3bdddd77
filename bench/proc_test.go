package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testBench is a bench with the rusage helper built, for running
// processes in tests.
func testBench(t *testing.T) *bench {
	t.Helper()
	dir := t.TempDir()
	b := &bench{scratch: dir, helper: filepath.Join(dir, "rusage"), env: os.Environ()}
	if err := b.buildHelper("rusage"); err != nil {
		t.Fatal(err)
	}
	return b
}

// Peak RSS is each process's own: a small process reports a small peak
// even when the harness is large (Linux would otherwise start its record
// at the harness's size), and a large one reports its size.
func TestRunMeasuresOwnRSS(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIP: python3 is not installed")
	}
	b := testBench(t)
	ballast := bytes.Repeat([]byte{1}, 300<<20) // the harness's own peak
	s, err := b.run(context.Background(), []stage{
		command("python3", "python3", "-c", "import sys; x = b'x' * (100 << 20); sys.stdout.write('ok')"),
		command("cat", "cat"),
	}, nil, nil)
	runtime.KeepAlive(ballast)
	if err != nil {
		t.Fatal(err)
	}
	if s.rss[0] < 100<<20 || s.rss[0] > 200<<20 {
		t.Errorf("python3 holding 100 MiB: peak RSS %s", fmtBytes(s.rss[0]))
	}
	if s.rss[1] > 16<<20 {
		t.Errorf("cat: peak RSS %s, the harness's size leaked into it", fmtBytes(s.rss[1]))
	}
}

func TestRunReportsFailures(t *testing.T) {
	b := testBench(t)
	sh := func(script string) stage { return command("sh", "/bin/sh", "-c", script) }
	for name, c := range map[string]struct {
		stages []stage
		skip   bool
		want   string // in the error
	}{
		"NotImplemented":     {[]stage{sh("echo 'tool: not implemented yet' >&2; exit 1")}, true, "not implemented yet"},
		"Failure":            {[]stage{sh("echo 'tool: bad input' >&2; exit 1")}, false, "tool: bad input"},
		"DownstreamExplains": {[]stage{sh("yes"), sh("head -c 10 >/dev/null; echo 'tool: broke' >&2; exit 3")}, false, "tool: broke"},
		"MissingProgram":     {[]stage{command("nope", "/nonexistent/tool")}, false, "nonexistent"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := b.run(context.Background(), c.stages, nil, &out)
			if err == nil {
				t.Fatal("no error")
			}
			if isSkip(err) != c.skip || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (skip %v)", err, isSkip(err))
			}
		})
	}
}

func TestRunPipesAndCounts(t *testing.T) {
	b := testBench(t)
	var out bytes.Buffer
	s, err := b.run(context.Background(), []stage{
		command("printf", "printf", "a\\nb\\n"),
		command("sort", "sort", "-r"),
	}, strings.NewReader("ignored"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "b\na\n" || len(s.rss) != 2 || s.wall <= 0 {
		t.Fatalf("output %q, sample %+v", out.String(), s)
	}
}

func TestSeriesKeepsBestTimeAndWorstRSS(t *testing.T) {
	var s series
	for _, x := range []sample{
		{wall: 3 * time.Second, rss: []int64{10, 50}},
		{wall: 1 * time.Second, rss: []int64{20, 5}},
		{wall: 2 * time.Second, rss: []int64{30, 5}},
	} {
		s.add(x)
	}
	if s.best.wall != time.Second || s.best.rss[0] != 30 || s.best.rss[1] != 50 || len(s.walls) != 3 {
		t.Fatalf("got %+v", s)
	}
}

func TestSeriesSpreadAndMedian(t *testing.T) {
	var odd, even series
	for _, w := range []float64{3, 1, 2.5} {
		odd.add(sample{wall: time.Duration(w * float64(time.Second))})
	}
	for _, w := range []float64{4, 1, 2, 3} {
		even.add(sample{wall: time.Duration(w * float64(time.Second))})
	}
	if got := odd.spread(); got != "3.00 1.00 2.50" {
		t.Errorf("spread %q, want the times in the order run", got)
	}
	if odd.median() != 2.5 || even.median() != 2.5 {
		t.Errorf("medians %v and %v, want 2.5 and 2.5", odd.median(), even.median())
	}
	var r result
	r.throughput(1e9, odd, even)
	if len(r.notes) != 1 || r.notes[0] != "runs (s, interleaved, limit first): ours 3.00 1.00 2.50; the limit 4.00 1.00 2.00 3.00; ratio of the medians 1.00" {
		t.Errorf("notes %q", r.notes)
	}
	if r.ratio != 1 {
		t.Errorf("ratio %v: the best runs' (1 s and 1 s)", r.ratio)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "64M": 64 << 20, "1.5G": 3 << 29, "8k": 8 << 10} {
		var s byteSize
		if err := s.Set(in); err != nil || int64(s) != want {
			t.Errorf("%q: %d, %v", in, s, err)
		}
	}
	for _, bad := range []string{"", "G", "-1M", "lots"} {
		var s byteSize
		if err := s.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-quick", "-scan-bytes", "2M", "-only", "scan,pull"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.sizes.scanBytes != 2<<20 || cfg.sizes.pipeBytes != quickSizes.pipeBytes || !selected(cfg.only, "pull") || selected(cfg.only, "push") {
		t.Fatalf("got %+v", cfg)
	}
	cfg, err = parseFlags([]string{"-store-refs", "12", "-store-size-sigma", "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.sizes.storeRefs != 12 || cfg.sizes.storeSigma != 0.5 || cfg.sizes.scanBytes != fullSizes.scanBytes {
		t.Fatalf("got %+v", cfg.sizes)
	}
	for _, bad := range [][]string{{"-only", "nope"}, {"-runs", "0"}, {"extra"}, {"-store-refs", "-1"}, {"-store-size-sigma", "NaN"}} {
		if _, err := parseFlags(bad); err == nil || errors.Is(err, nil) {
			t.Errorf("%q accepted", bad)
		}
	}
}
