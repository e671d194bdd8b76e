package cookienormalizer

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIMFFixdateMatchesTime checks the fixed-position formatter and parser
// against time.Format and time.Parse with http.TimeFormat, over instants
// spread across the years a cookie can name.
func TestIMFFixdateMatchesTime(t *testing.T) {
	start := time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	end := latestExpires
	step := (end - start) / 20011 // a prime number of steps, to vary every field
	for unix := start; unix <= end; unix += step {
		tm := time.Unix(unix, 0).UTC()
		want := tm.Format(http.TimeFormat)
		if got := string(appendIMFFixdate(nil, unix)); got != want {
			t.Fatalf("appendIMFFixdate(%d) = %q, want %q", unix, got, want)
		}
		parsed, ok := parseIMFFixdate(want)
		if !ok || !parsed.Equal(tm) {
			t.Fatalf("parseIMFFixdate(%q) = %v, %t; want %v", want, parsed, ok, tm)
		}
	}
}

// TestParseIMFFixdateRejects checks that what time.Parse rejects, the fast
// parser rejects too (and the other way round for the valid ones).
func TestParseIMFFixdateRejects(t *testing.T) {
	for _, s := range []string{
		"Tue, 24 Nov 2026 12:00:00 GMT",
		"Tue, 31 Apr 2026 12:00:00 GMT", // no 31 April
		"Tue, 24 Nov 2026 24:00:00 GMT",
		"Tue, 24 Nov 2026 12:60:00 GMT",
		"Tue, 24 Nov 2026 12:00:60 GMT",
		"Tue, 24 Foo 2026 12:00:00 GMT",
		"Tue, 00 Nov 2026 12:00:00 GMT",
		"Tue, 24 Nov 2026 12:00:00 UTC",
		"Tue 24 Nov 2026 12:00:00 GMT",
		"Tue, 24 Nov 26 12:00:00 GMT",
		"Tue, 2x Nov 2026 12:00:00 GMT",
		"",
	} {
		want, err := time.Parse(http.TimeFormat, s)
		got, ok := parseIMFFixdate(s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Errorf("parseIMFFixdate(%q) = %v, %t; time.Parse gives %v, %v", s, got, ok, want, err)
		}
	}
}

// TestParseHTTPDateObsoleteLength: the obsolete formats parse up to the
// longest date they can match, and a longer value is no date, however
// well it starts (an upstream's junk after a date).
func TestParseHTTPDateObsoleteLength(t *testing.T) {
	for _, tc := range []struct {
		date string
		want time.Time
		ok   bool
	}{
		{"Wednesday, 09-Nov-94 08:49:37 GMT", time.Date(1994, 11, 9, 8, 49, 37, 0, time.UTC), true},
		{"Sun Nov  6 08:49:37 1994", time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), true},
		{"Wednesday, 09-Nov-94 08:49:37 GMT" + strings.Repeat("\x80", 1<<20), time.Time{}, false},
		{"Sun Nov  6 08:49:37 1994" + strings.Repeat(" ", 1<<20), time.Time{}, false},
	} {
		got, ok := parseHTTPDate(tc.date)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseHTTPDate(%.40q…) = %v, %v; want %v, %v", tc.date, got, ok, tc.want, tc.ok)
		}
	}
}
