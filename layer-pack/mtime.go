package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// defaultMtime is nixpkgs' default mtime for store-layer entries.
const defaultMtime = "1970-01-01T00:00:01Z"

// isoRE matches the ISO 8601 forms Python's datetime.fromisoformat
// accepts for nixpkgs' mtime and created: a date (extended or basic), then
// optionally a time (hours, minutes, seconds, a fraction) after 'T', 't' or
// a space, then optionally Z or a ±HH[:MM[:SS]] offset.
var isoRE = regexp.MustCompile(`^(\d{4})-?(\d{2})-?(\d{2})` +
	`(?:[Tt ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6}))?)?)?` +
	`(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?)?$`)

// parseMtime turns an mtime setting into whole seconds since the epoch as
// nixpkgs does (int(datetime.timestamp()), which truncates toward zero).
// "now" is the current time. A time without an offset is taken as UTC,
// which is what it means in the Nix build sandbox; nixpkgs would read it
// in the machine's time zone, which is not reproducible.
func parseMtime(s string, now func() time.Time) (int64, error) {
	if s == "now" {
		return now().Unix(), nil
	}
	m := isoRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("mtime %q is not an ISO 8601 time such as %s, or now", s, defaultMtime)
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(m[i])
		return n
	}
	nanos := 0
	if m[7] != "" {
		frac := m[7] + "000000000"[len(m[7]):]
		nanos, _ = strconv.Atoi(frac)
	}
	year, month, day, hour, minute, sec := num(1), num(2), num(3), num(4), num(5), num(6)
	if year < 1 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return 0, fmt.Errorf("mtime %q is out of range", s)
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		off, err := parseOffset(z)
		if err != nil {
			return 0, fmt.Errorf("mtime %q: %v", s, err)
		}
		loc = time.FixedZone(z, off)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc)
	if t.Day() != day {
		return 0, fmt.Errorf("mtime %q is not a real date", s)
	}
	secs := t.Unix()
	if secs < 0 && t.Nanosecond() > 0 {
		secs++ // truncate toward zero, as Python's int() does
	}
	return secs, nil
}

// parseOffset reads ±HH[[:]MM[[:]SS]] as seconds east of UTC.
func parseOffset(z string) (int, error) {
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	digits := regexp.MustCompile(`\d{2}`).FindAllString(z, -1)
	secs := 0
	for i, unit := range []int{3600, 60, 1} {
		if i < len(digits) {
			n, _ := strconv.Atoi(digits[i])
			if (i == 0 && n > 23) || (i > 0 && n > 59) {
				return 0, fmt.Errorf("offset %q is out of range", z)
			}
			secs += n * unit
		}
	}
	return sign * secs, nil
}
