package main

import (
	"testing"
	"time"
)

func TestParseMtime(t *testing.T) {
	now := func() time.Time { return time.Unix(1700000000, 999) }
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1970-01-01T00:00:01Z", want: 1},
		{in: "1970-01-01T00:00:01+00:00", want: 1},
		{in: "1980-01-01T00:00:00Z", want: 315532800},
		{in: "2000-01-01T02:00:00+02:00", want: 946684800},
		{in: "1999-12-31T19:00:00-0500", want: 946684800},
		{in: "2000-01-01 00:00:00", want: 946684800},
		{in: "2000-01-01", want: 946684800},
		{in: "20000101T000000Z", want: 946684800},
		{in: "2000-01-01T00:00:00.999999Z", want: 946684800},
		{in: "1969-12-31T23:59:59.5Z", want: 0}, // int() truncates toward zero
		{in: "1969-12-31T23:59:59Z", want: -1},
		{in: "now", want: 1700000000},
		{in: "yesterday", bad: true},
		{in: "2000-02-30T00:00:00Z", bad: true},
		{in: "2000-01-01T24:00:00Z", bad: true},
		{in: "2000-01-01T00:00:00+25:00", bad: true},
		{in: "", bad: true},
		{in: "0001-01-01T00:00:00Z", want: -62135596800},
		// Python's datetime has no year 0 (fromisoformat refuses it), and
		// neither has manifest-gen's created.
		{in: "0000-12-31T00:00:00Z", bad: true},
		{in: "0000-12-31T23:00:00-02:00", bad: true},
	} {
		got, err := parseMtime(c.in, now)
		if c.bad != (err != nil) || got != c.want {
			t.Errorf("parseMtime(%q) = %d, %v; want %d, failure %v", c.in, got, err, c.want, c.bad)
		}
	}
}
