package main

import (
	"fmt"
	"strings"
	"time"
)

// defaultCreated is nixpkgs' default creation time: the epoch plus one
// second (some tools treat 0 as "unset").
const defaultCreated = "1970-01-01T00:00:01Z"

// createdLayouts are the ISO 8601 forms accepted for --created and a conf's
// created: RFC 3339 and the forms Python's datetime.fromisoformat reads.
// Those without an offset are read as UTC.
var createdLayouts = []struct {
	layout string
	naive  bool
}{
	{"2006-01-02T15:04:05.999999999Z07:00", false},
	{"2006-01-02T15:04:05.999999999Z0700", false},
	{"2006-01-02T15:04:05.999999999Z07", false},
	{"2006-01-02T15:04Z07:00", false},
	{"2006-01-02T15:04:05.999999999", true},
	{"2006-01-02T15:04", true},
	{"2006-01-02", true},
}

// parseCreated reads a creation time; "now" is the current time, which is
// read here once so that every use in one run agrees.
func parseCreated(s string, now func() time.Time) (time.Time, error) {
	if s == "now" {
		return now().UTC().Truncate(time.Microsecond), nil
	}
	norm := s
	if len(norm) > 10 && norm[10] == ' ' { // fromisoformat allows a space for the T
		norm = norm[:10] + "T" + norm[11:]
	}
	for _, l := range createdLayouts {
		t, err := time.Parse(l.layout, norm)
		if err != nil {
			continue
		}
		if t.Year() < 1 {
			break
		}
		// Python's datetime holds microseconds; finer digits are dropped.
		return t.Truncate(time.Microsecond), nil
	}
	return time.Time{}, fmt.Errorf("creation time %q is not an ISO 8601 date and time such as %s, nor now", s, defaultCreated)
}

// isoformat prints t as Python's datetime.isoformat prints an aware
// datetime: 1970-01-01T00:00:01+00:00, with .ffffff only when the
// microseconds are not zero, and the offset's seconds only when not zero.
func isoformat(t time.Time) string {
	var b strings.Builder
	b.WriteString(t.Format("2006-01-02T15:04:05"))
	if us := t.Nanosecond() / 1000; us != 0 {
		fmt.Fprintf(&b, ".%06d", us)
	}
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	fmt.Fprintf(&b, "%c%02d:%02d", sign, off/3600, off/60%60)
	if off%60 != 0 {
		fmt.Fprintf(&b, ":%02d", off%60)
	}
	return b.String()
}
