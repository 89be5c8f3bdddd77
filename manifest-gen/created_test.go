package main

import (
	"testing"
	"time"
)

// The expected forms were checked with CPython 3.11:
// datetime.fromisoformat(in).isoformat() (for naive inputs Python omits the
// offset; we read them as UTC, see doc.go).
func TestCreated(t *testing.T) {
	now := func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600)) }
	cases := []struct{ name, in, want string }{
		{"Default", defaultCreated, "1970-01-01T00:00:01+00:00"},
		{"PythonOffset", "1970-01-01T00:00:01+00:00", "1970-01-01T00:00:01+00:00"},
		{"SpaceSeparatorFraction", "2024-05-06 07:08:09.5+02:00", "2024-05-06T07:08:09.500000+02:00"},
		{"NanosecondsTruncated", "2024-05-06T07:08:09.123456789-05:30", "2024-05-06T07:08:09.123456-05:30"},
		{"OneMicrosecond", "2024-05-06T07:08:09.000001+00:00", "2024-05-06T07:08:09.000001+00:00"},
		{"OffsetWithoutColon", "2024-05-06T07:08:09+0100", "2024-05-06T07:08:09+01:00"},
		{"NoSeconds", "2024-05-06T07:08+01:00", "2024-05-06T07:08:00+01:00"},
		{"NaiveIsUTC", "2024-05-06T07:08", "2024-05-06T07:08:00+00:00"},
		{"DateOnly", "2024-05-06", "2024-05-06T00:00:00+00:00"},
		{"FirstYear", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00"},
		{"NowIsUTCMicroseconds", "now", "2025-03-04T04:06:07.123456+00:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm, err := parseCreated(c.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := isoformat(tm); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestCreatedRefuses(t *testing.T) {
	for _, in := range []string{"", "yesterday", "1970-01-01T00:00:01 UTC", "0000-01-01T00:00:00Z", "2024-13-01", "@1"} {
		if _, err := parseCreated(in, time.Now); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}
