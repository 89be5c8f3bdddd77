package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// result is one row of the table, plus the notes printed under it.
type result struct {
	name   string
	ours   string  // our figure: a throughput or a time
	limit  string  // the limit measured in the same run, or the target
	ratio  float64 // ours relative to the limit; 0 when there is none
	target string  // the target, as text
	met    bool    // whether every part of the target was met
	rss    string  // peak RSS of our processes
	notes  []string
	err    error // a skip or a failure; the figures are then empty
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// throughput fills the figures of a row whose work is bytes long: our
// rate, the limit's rate, their ratio (of the best runs) and our peak RSS;
// with several runs, a note gives every run's time and the ratio of the
// medians, so that a verdict near its target can be told from noise.
func (r *result) throughput(bytes int64, ours, limit series) {
	r.ours = fmtRate(bytes, ours.best.seconds())
	r.limit = fmtRate(bytes, limit.best.seconds())
	r.ratio = limit.best.seconds() / ours.best.seconds()
	r.rss = fmtBytes(ours.best.maxRSS())
	if len(ours.walls) > 1 && len(limit.walls) > 1 {
		r.note("runs (s, interleaved, limit first): ours %s; the limit %s; ratio of the medians %.2f",
			ours.spread(), limit.spread(), limit.median()/ours.median())
	}
}

func isSkip(err error) bool {
	var s *skipError
	return errors.As(err, &s)
}

// failed returns r with err recorded: a skip stays a skip, anything else
// is a failure.
func (r result) failed(err error) result {
	r.err = err
	return r
}

func (r result) verdict() string {
	switch {
	case r.err != nil && isSkip(r.err):
		return r.err.Error()
	case r.err != nil:
		return "FAILED: " + r.err.Error()
	case r.met:
		return "ok"
	}
	return "MISSED"
}

func (r result) summary() string {
	if r.err != nil {
		return r.verdict()
	}
	return fmt.Sprintf("ours %s, limit %s, ratio %s, target %s, peak RSS %s: %s", r.ours, r.limit, fmtRatio(r.ratio), r.target, r.rss, r.verdict())
}

func fmtRatio(x float64) string {
	if x == 0 {
		return "-"
	}
	if x < 0.1 {
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// printTable writes the results as an aligned table, then each row's
// notes (what was measured, how it was checked).
func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tours\tlimit\tratio\ttarget\tpeak RSS\tverdict")
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\t-\t%s\n", r.name, r.target, oneLine(r.verdict()))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name, r.ours, r.limit, fmtRatio(r.ratio), r.target, r.rss, r.verdict())
	}
	tw.Flush()
	for _, r := range results {
		for _, n := range r.notes {
			fmt.Fprintf(w, "%s: %s\n", r.name, n)
		}
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
