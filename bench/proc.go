package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// stage is one process of a measured pipeline.
type stage struct {
	name string // for messages: the tool or command name
	path string // the executable
	args []string
}

func command(name, path string, args ...string) stage {
	return stage{name: name, path: path, args: args}
}

// sample is one measured run of a pipeline: its wall time (first start to
// last exit) and each process's peak resident set size (getrusage's
// Maxrss, which for a shell script covers the children it waited for).
type sample struct {
	wall time.Duration
	rss  []int64         // bytes, one per stage
	cpu  []time.Duration // user + system time, one per stage
}

// cores is how many cores stage i kept busy on average.
func (s sample) cores(i int) float64 {
	if i >= len(s.cpu) || s.wall == 0 {
		return 0
	}
	return s.cpu[i].Seconds() / s.wall.Seconds()
}

func (s sample) seconds() float64 { return s.wall.Seconds() }

// cpuSeconds is the CPU time of all the run's processes.
func (s sample) cpuSeconds() float64 {
	var t time.Duration
	for _, c := range s.cpu {
		t += c
	}
	return t.Seconds()
}

// maxRSS is the largest peak RSS of the run's processes.
func (s sample) maxRSS() int64 {
	var m int64
	for _, r := range s.rss {
		m = max(m, r)
	}
	return m
}

// skipError says a benchmark cannot run yet: a tool that is not
// implemented, a missing binary, script or component.
type skipError struct{ why string }

func (e *skipError) Error() string { return "skipped: " + e.why }

func skipf(format string, args ...any) error {
	return &skipError{why: fmt.Sprintf(format, args...)}
}

// stageTimeout bounds one pipeline run, so a hung tool cannot hang the
// harness.
const stageTimeout = 15 * time.Minute

// run runs stages connected by pipes, stdin from in (nil: /dev/null) and
// stdout to out (nil: /dev/null). An *os.File is handed to the process
// directly, so the harness copies nothing on the measured path. Each
// process is started through the rusage helper (see rusage/main.go) in a
// process group of its own, killed whole on timeout.
func (b *bench) run(ctx context.Context, stages []stage, in io.Reader, out io.Writer) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, stageTimeout)
	defer cancel()
	cmds := make([]*exec.Cmd, len(stages))
	errs := make([]*capped, len(stages))
	usage := make([]string, len(stages))
	var closeAfterStart []io.Closer
	for i, s := range stages {
		b.seq++
		usage[i] = filepath.Join(b.scratch, fmt.Sprintf("rusage-%d", b.seq))
		c := exec.CommandContext(ctx, b.helper, append([]string{usage[i], s.path}, s.args...)...)
		c.Env = b.env
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
		c.WaitDelay = 5 * time.Second
		errs[i] = &capped{max: 16 << 10}
		c.Stderr = errs[i]
		cmds[i] = c
	}
	if in != nil {
		cmds[0].Stdin = in
	}
	for i := 1; i < len(cmds); i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return sample{}, err
		}
		cmds[i-1].Stdout, cmds[i].Stdin = w, r
		closeAfterStart = append(closeAfterStart, r, w)
	}
	if out != nil {
		cmds[len(cmds)-1].Stdout = out
	}
	start := time.Now()
	var startErr error
	started := 0
	for _, c := range cmds {
		if startErr = c.Start(); startErr != nil {
			break
		}
		started++
	}
	for _, f := range closeAfterStart {
		f.Close()
	}
	waitErrs := make([]error, len(cmds))
	for i := range started {
		waitErrs[i] = cmds[i].Wait()
	}
	wall := time.Since(start)
	if startErr != nil {
		return sample{}, fmt.Errorf("starting %s: %w", stages[started].name, startErr)
	}
	s := sample{wall: wall, rss: make([]int64, len(cmds)), cpu: make([]time.Duration, len(cmds))}
	signals := make([]int, len(cmds))
	for i := range cmds {
		s.rss[i], s.cpu[i], signals[i] = readUsage(usage[i])
		os.Remove(usage[i])
	}
	return s, pipelineError(stages, waitErrs, signals, errs)
}

// readUsage reads what the rusage helper wrote: peak RSS (bytes), CPU
// time, and the signal that ended the program. A missing file (the
// program never ran) reads as zeros.
func readUsage(name string) (rss int64, cpu time.Duration, sig int) {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, 0, 0
	}
	var kib, user, sys int64
	fmt.Sscan(string(data), &kib, &user, &sys, &sig)
	return kib << 10, time.Duration(user + sys), sig
}

// pipelineError names the failure that explains a failed pipeline: a tool
// that is not implemented yet (a skip), else the first stage that failed
// for a reason of its own rather than because its neighbour went away.
func pipelineError(stages []stage, waitErrs []error, signals []int, stderr []*capped) error {
	var failed []int
	for i, err := range waitErrs {
		if err != nil {
			failed = append(failed, i)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	for _, i := range failed {
		if strings.Contains(stderr[i].String(), "not implemented yet") {
			return skipf("%s: not implemented yet", stages[i].name)
		}
	}
	pick := failed[0]
	for _, i := range failed {
		if !brokenPipe(waitErrs[i], signals[i], stderr[i].String()) {
			pick = i
			break
		}
	}
	return fmt.Errorf("%s %s: %v: %s", stages[pick].name, strings.Join(stages[pick].args, " "), waitErrs[pick], lastLine(stderr[pick].String()))
}

// brokenPipe tells a process that failed because its reader went away: it
// died of SIGPIPE, exited 141 as a shell does when its child did, or said
// so.
func brokenPipe(err error, sig int, stderr string) bool {
	var ee *exec.ExitError
	return sig == int(syscall.SIGPIPE) ||
		errors.As(err, &ee) && ee.ExitCode() == 128+int(syscall.SIGPIPE) ||
		strings.Contains(stderr, "broken pipe")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if l := lines[len(lines)-1]; l != "" {
		return l
	}
	return "(no message)"
}

// capped keeps the first max bytes written to it: a verbose tool cannot
// fill the harness's memory.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }

// compare measures the limit and ours runs times each, interleaved so
// that a change in the machine's load hits both, and keeps the best of
// each.
func compare(runs int, limitRun func() (sample, error), oursRun func(i int) (sample, error)) (ours, limit series, err error) {
	for i := range runs {
		l, err := limitRun()
		if err != nil {
			return ours, limit, err
		}
		limit.add(l)
		o, err := oursRun(i)
		if err != nil {
			return ours, limit, err
		}
		ours.add(o)
	}
	return ours, limit, nil
}

// series keeps the best of repeated samples: the shortest wall time (the
// machine is shared and noise only ever adds time) and, per process, the
// largest peak RSS seen (memory does not get better by luck); and every
// wall time, in order, for the spread.
type series struct {
	best  sample
	walls []time.Duration // every run's, in order; len is the number of runs
}

func (s *series) add(x sample) {
	merged := slices.Clone(x.rss)
	if len(s.walls) > 0 {
		for i := range min(len(merged), len(s.best.rss)) {
			merged[i] = max(merged[i], s.best.rss[i])
		}
	}
	if len(s.walls) == 0 || x.wall < s.best.wall {
		s.best = x
	}
	s.best.rss = merged
	s.walls = append(s.walls, x.wall)
}

// median is the median wall time in seconds (of the two middle ones, the
// mean).
func (s *series) median() float64 {
	w := slices.Sorted(slices.Values(s.walls))
	if len(w) == 0 {
		return 0
	}
	return (w[(len(w)-1)/2] + w[len(w)/2]).Seconds() / 2
}

// spread is the wall times in seconds, in the order run.
func (s *series) spread() string {
	f := make([]string, len(s.walls))
	for i, w := range s.walls {
		f[i] = fmt.Sprintf("%.2f", w.Seconds())
	}
	return strings.Join(f, " ")
}
