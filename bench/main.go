// Command bench is the benchmark harness behind `make bench`: for each
// benchmark of the issues it generates its input (cached), measures the
// machine's own limit for the same work in the same run, runs our tools
// from bin/, checks their output is right, and prints a table of our
// figure, the limit, their ratio, the target and each process's
// peak RSS. README.md in this folder describes every benchmark.
//
// Usage (from the repository root, after `make build`):
//
//	go run ./bench [-only scan,pipeline] [-quick] [-runs N] [-work DIR] [size flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"dockertools.dev/testkit/storegen"
)

// config is what the flags set.
type config struct {
	only    string
	quick   bool
	runs    int
	work    string
	bin     string
	scripts string
	repo    string
	seed    uint64
	sizes   sizes
	// storeKind is the pipeline figures' store: "generated" or "debian".
	storeKind   string
	debianRoots []string
}

// sizes are the inputs' dimensions; -quick and the size flags change them.
type sizes struct {
	scanBytes, scanPaths, scanFiles             int64
	popPaths, popLargePaths                     int64
	popRefs                                     float64
	pipeBytes, pipePaths, pipeFiles             int64
	imageBytes, imagePaths, imageFiles          int64
	imageLayers                                 int64
	pushBytes, pushPaths, pushFiles, pushLayers int64
	// storeRefs and storeSigma shape every generated store: references
	// per path and the σ of the log-normal file-size mix (0: storegen's
	// defaults, 4 and 2).
	storeRefs, storeSigma float64
}

var fullSizes = sizes{
	scanBytes: 1 << 30, scanPaths: 1000, scanFiles: 25000,
	popPaths: 100000, popLargePaths: 1000000, popRefs: 8,
	pipeBytes: 2 << 30, pipePaths: 2000, pipeFiles: 50000,
	imageBytes: 1 << 30, imagePaths: 1000, imageFiles: 25000, imageLayers: 20,
	pushBytes: 2 << 30, pushPaths: 2000, pushFiles: 50000, pushLayers: 100,
}

var quickSizes = sizes{
	scanBytes: 48 << 20, scanPaths: 100, scanFiles: 1500,
	popPaths: 10000, popLargePaths: 30000, popRefs: 8,
	pipeBytes: 64 << 20, pipePaths: 150, pipeFiles: 2500,
	imageBytes: 48 << 20, imagePaths: 100, imageFiles: 1500, imageLayers: 8,
	pushBytes: 48 << 20, pushPaths: 100, pushFiles: 1500, pushLayers: 20,
}

// benchmark is one row of the table.
type benchmark struct {
	name string
	run  func(ctx context.Context, b *bench) result
}

var benchmarks = []benchmark{
	{"scan", benchScan},
	{"popularity", benchPopularity},
	{"popularity-uniform", benchPopularityUniform},
	{"popularity-1m", benchPopularity1M},
	{"popularity-uniform-1m", benchPopularityUniform1M},
	{"pipeline", benchPipeline},
	{"layered", benchLayered},
	{"layered-size", benchLayeredSize},
	{"pipeline-scan", benchPipelineScan},
	{"pipeline-cold", benchPipelineCold},
	{"flatten", benchFlatten},
	{"pull", benchPull},
	{"push", benchPush},
	{"rebuild-archive", benchRebuildArchive},
	{"rebuild-archive-xfs", benchRebuildArchiveXFS},
}

// bench is the state shared by the benchmarks of one run.
type bench struct {
	config
	env     []string // children's environment: bin/ first on PATH
	scratch string   // removed at exit
	helper  string   // the rusage helper, built into scratch
	seq     int      // numbers the helper's output files
	cleanup []func()
	// debianKeys names the Debian stores made this run (storeKey).
	debianKeys map[*storegen.Manifest]string
}

func main() {
	os.Exit(mainErr())
}

func mainErr() int {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	defer b.close()
	b.logf("machine: %d CPUs, load %s; work dir %s; best of %d runs", runtime.NumCPU(), loadAvg(), b.work, b.runs)
	var results []result
	for _, bm := range benchmarks {
		if !selected(cfg.only, bm.name) {
			continue
		}
		b.logf("%s: start", bm.name)
		load := loadAvg()
		before, ok := readCPUTimes()
		r := bm.run(ctx, b)
		after, ok2 := readCPUTimes()
		r.name = bm.name
		if r.err == nil {
			r.note("%s", machineNote(load, before, after, ok && ok2))
		}
		b.logf("%s: %s", bm.name, r.summary())
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	printTable(os.Stdout, results)
	for _, r := range results {
		if r.err != nil && !isSkip(r.err) {
			return 1
		}
	}
	return 0
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg := config{}
	fs.StringVar(&cfg.only, "only", "", "run only these benchmarks (comma-separated: scan,popularity,popularity-uniform,popularity-1m,popularity-uniform-1m,pipeline,layered,layered-size,pipeline-scan,pipeline-cold,flatten,pull,push,rebuild-archive,rebuild-archive-xfs)")
	fs.BoolVar(&cfg.quick, "quick", false, "small inputs, for a smoke run (figures are not meaningful)")
	fs.IntVar(&cfg.runs, "runs", 3, "measure each figure this many times and keep the best")
	fs.StringVar(&cfg.work, "work", filepath.Join(os.TempDir(), "dockertools-bench"), "where generated inputs are cached between runs")
	fs.StringVar(&cfg.bin, "bin", "bin", "the directory holding the built tools")
	fs.StringVar(&cfg.scripts, "scripts", "scripts", "the directory holding the workflow scripts")
	fs.Uint64Var(&cfg.seed, "seed", 1, "the seed of every generated input")
	fs.StringVar(&cfg.storeKind, "store", "generated", "the store of the pipeline figures: generated (testkit/storegen) or debian (real packages, downloaded once with apt-get)")
	roots := fs.String("debian-roots", "libreoffice-writer,gimp,inkscape", "with -store debian: the packages whose closure makes the store")
	var over struct {
		scanBytes, pipeBytes, imageBytes, pushBytes               byteSize
		scanPaths, scanFiles, popPaths, pipePaths, pipeFiles      int64
		popLargePaths                                             int64
		imagePaths, imageFiles, imageLayers, pushPaths, pushFiles int64
		pushLayers                                                int64
		popRefs, storeRefs, storeSigma                            float64
	}
	fs.Var(&over.scanBytes, "scan-bytes", "size of the scan store (e.g. 1G)")
	fs.Int64Var(&over.scanPaths, "scan-paths", 0, "store paths of the scan store")
	fs.Int64Var(&over.scanFiles, "scan-files", 0, "files of the scan store")
	fs.Int64Var(&over.popPaths, "popularity-paths", 0, "paths of the popularity graphs")
	fs.Int64Var(&over.popLargePaths, "popularity-large-paths", 0, "paths of the large popularity graphs (the -1m rows)")
	fs.Float64Var(&over.popRefs, "popularity-refs", 0, "average references per path of the popularity graphs")
	fs.Var(&over.pipeBytes, "pipeline-bytes", "size of the pipeline store")
	fs.Int64Var(&over.pipePaths, "pipeline-paths", 0, "store paths of the pipeline store")
	fs.Int64Var(&over.pipeFiles, "pipeline-files", 0, "files of the pipeline store")
	fs.Var(&over.imageBytes, "image-bytes", "size of the store behind the flatten and pull image")
	fs.Int64Var(&over.imagePaths, "image-paths", 0, "store paths behind the flatten and pull image")
	fs.Int64Var(&over.imageFiles, "image-files", 0, "files behind the flatten and pull image")
	fs.Int64Var(&over.imageLayers, "image-layers", 0, "layers of the flatten and pull image")
	fs.Var(&over.pushBytes, "push-bytes", "size of the store behind the push image")
	fs.Int64Var(&over.pushPaths, "push-paths", 0, "store paths behind the push image")
	fs.Int64Var(&over.pushFiles, "push-files", 0, "files behind the push image")
	fs.Int64Var(&over.pushLayers, "push-layers", 0, "layers of the push image")
	fs.Float64Var(&over.storeRefs, "store-refs", 0, "average references per store path of every generated store (default 4)")
	fs.Float64Var(&over.storeSigma, "store-size-sigma", 0, "the file-size mix of every generated store: σ of its log-normal file sizes (default 2: the mean file is about 7 times the median)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]   (from the repository root, after make build)\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.storeKind != "generated" && cfg.storeKind != "debian" {
		return cfg, fmt.Errorf("-store %q: want generated or debian", cfg.storeKind)
	}
	cfg.debianRoots = strings.Split(*roots, ",")
	if cfg.runs < 1 {
		return cfg, fmt.Errorf("-runs %d: need at least 1", cfg.runs)
	}
	for _, name := range strings.Split(cfg.only, ",") {
		if name != "" && !known(name) {
			return cfg, fmt.Errorf("-only: unknown benchmark %q", name)
		}
	}
	cfg.sizes = fullSizes
	if cfg.quick {
		cfg.sizes = quickSizes
	}
	s := &cfg.sizes
	for _, o := range []struct {
		dst *int64
		v   int64
	}{
		{&s.scanBytes, int64(over.scanBytes)}, {&s.scanPaths, over.scanPaths}, {&s.scanFiles, over.scanFiles},
		{&s.popPaths, over.popPaths}, {&s.popLargePaths, over.popLargePaths},
		{&s.pipeBytes, int64(over.pipeBytes)}, {&s.pipePaths, over.pipePaths}, {&s.pipeFiles, over.pipeFiles},
		{&s.imageBytes, int64(over.imageBytes)}, {&s.imagePaths, over.imagePaths}, {&s.imageFiles, over.imageFiles},
		{&s.imageLayers, over.imageLayers},
		{&s.pushBytes, int64(over.pushBytes)}, {&s.pushPaths, over.pushPaths}, {&s.pushFiles, over.pushFiles},
		{&s.pushLayers, over.pushLayers},
	} {
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	if over.popRefs > 0 {
		s.popRefs = over.popRefs
	}
	for _, o := range []struct {
		dst  *float64
		v    float64
		name string
	}{{&s.storeRefs, over.storeRefs, "-store-refs"}, {&s.storeSigma, over.storeSigma, "-store-size-sigma"}} {
		if o.v < 0 || math.IsNaN(o.v) || math.IsInf(o.v, 0) {
			return cfg, fmt.Errorf("%s %v: want a positive number", o.name, o.v)
		}
		*o.dst = o.v
	}
	return cfg, nil
}

func known(name string) bool {
	for _, bm := range benchmarks {
		if bm.name == name {
			return true
		}
	}
	return false
}

func selected(only, name string) bool {
	if only == "" {
		return true
	}
	for _, n := range strings.Split(only, ",") {
		if n == name {
			return true
		}
	}
	return false
}

func newBench(cfg config) (*bench, error) {
	var err error
	if cfg.repo, err = os.Getwd(); err != nil {
		return nil, err
	}
	if cfg.bin, err = filepath.Abs(cfg.bin); err != nil {
		return nil, err
	}
	if cfg.scripts, err = filepath.Abs(cfg.scripts); err != nil {
		return nil, err
	}
	if cfg.work, err = filepath.Abs(cfg.work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.work, 0o755); err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp(cfg.work, "run-")
	if err != nil {
		return nil, err
	}
	b := &bench{config: cfg, scratch: scratch, helper: filepath.Join(scratch, "rusage"), debianKeys: map[*storegen.Manifest]string{}}
	b.env = append(os.Environ(), "PATH="+cfg.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := b.buildHelper(filepath.Join(cfg.repo, "bench", "rusage")); err != nil {
		removeTree(scratch)
		return nil, err
	}
	return b, nil
}

// buildHelper builds the rusage helper (rusage/main.go, in src) with the
// go command on PATH.
func (b *bench) buildHelper(src string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("run from the repository root (no %s)", src)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is needed to build the rusage helper: %w", err)
	}
	cmd := exec.Command(goCmd, "build", "-o", b.helper, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the rusage helper: %v: %s", err, out)
	}
	return nil
}

// close stops what the run started and removes its scratch directory.
func (b *bench) close() {
	for i := len(b.cleanup) - 1; i >= 0; i-- {
		b.cleanup[i]()
	}
	removeTree(b.scratch)
}

// logf reports progress on stderr; the table goes to stdout.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// tool returns the path of a built tool, or a skip when it is not built.
func (b *bench) tool(name string) (string, error) {
	p := filepath.Join(b.bin, name)
	if _, err := os.Stat(p); err != nil {
		return "", skipf("%s is not built (run make build)", p)
	}
	return p, nil
}

// tools returns the paths of the named tools, in order, or the first
// one's error.
func (b *bench) tools(names ...string) ([]string, error) {
	var paths []string
	for _, name := range names {
		p, err := b.tool(name)
		if err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// script returns the path of a workflow script, or a skip when it does
// not exist yet.
func (b *bench) script(name string) (string, error) {
	p := filepath.Join(b.scripts, name)
	if _, err := os.Stat(p); err != nil {
		return "", skipf("%s does not exist yet", p)
	}
	return p, nil
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
