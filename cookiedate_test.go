package cookienormalizer

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// dateVector is one entry of testdata/http-state-dates.json.
type dateVector struct {
	Test     string  `json:"test"`
	Expected *string `json:"expected"`
}

func loadDateVectors(tb testing.TB) []dateVector {
	tb.Helper()
	data, err := os.ReadFile("testdata/http-state-dates.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vectors []dateVector
	if err := json.Unmarshal(data, &vectors); err != nil {
		tb.Fatal(err)
	}
	if len(vectors) == 0 {
		tb.Fatal("no date vectors")
	}
	return vectors
}

func TestParseCookieDateConformance(t *testing.T) {
	for i, v := range loadDateVectors(t) {
		got, ok := parseCookieDate(v.Test)
		if v.Expected == nil {
			if ok {
				t.Errorf("%d: parseCookieDate(%q) = %s, want no date", i, v.Test, got.Format(imfFixdate))
			}
			continue
		}
		if !ok {
			t.Errorf("%d: parseCookieDate(%q) found no date, want %s", i, v.Test, *v.Expected)
			continue
		}
		if s := got.Format(imfFixdate); s != *v.Expected {
			t.Errorf("%d: parseCookieDate(%q) = %s, want %s", i, v.Test, s, *v.Expected)
		}
	}
}

func TestParseCookieDateEdges(t *testing.T) {
	for i, tc := range []struct {
		in   string
		want string // IMF-fixdate, or "" for no date
	}{
		{"Wed, 09-Jun-2021 10:18:14 GMT", "Wed, 09 Jun 2021 10:18:14 GMT"},
		{"09 Jun 2021 10:18:14", "Wed, 09 Jun 2021 10:18:14 GMT"}, // no weekday, no zone
		{"wed, 09 JUNE 2021 10:18:14 gmt", "Wed, 09 Jun 2021 10:18:14 GMT"},
		{"Thu, 01 Jan 1970 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"},
		{"Fri, 01 Jan 99 00:00:00 GMT", "Fri, 01 Jan 1999 00:00:00 GMT"},
		{"Sat, 01 Jan 69 00:00:00 GMT", "Tue, 01 Jan 2069 00:00:00 GMT"},
		{"Sat, 01 Jan 70 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"},
		{"Fri, 31 Dec 9999 23:59:59 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"},
		{"Mon, 31 Dec 1600 23:59:59 GMT", ""}, // before 1601
		{"Thu, 31 Apr 2026 10:00:00 GMT", ""}, // no such day
		{"Thu, 29 Feb 2026 10:00:00 GMT", ""}, // not a leap year
		{"Sat, 29 Feb 2028 10:00:00 GMT", "Tue, 29 Feb 2028 10:00:00 GMT"},
		{"Thu, 01 Jan 2026 24:00:00 GMT", ""},
		{"Thu, 01 Jan 2026 23:60:00 GMT", ""},
		{"Thu, 01 Jan 2026 23:59:60 GMT", ""},
		{"Thu, 00 Jan 2026 10:00:00 GMT", ""},
		{"Thu, 32 Jan 2026 10:00:00 GMT", ""},
		{"Thu, 01 Foo 2026 10:00:00 GMT", ""},
		{"Thu, 01 Jan 2026 GMT", ""},                          // no time
		{"Thu, 01 Jan 10:00:00 GMT", ""},                      // no year
		{"1:2:3 1 jan 2026", "Thu, 01 Jan 2026 01:02:03 GMT"}, // one-digit fields
		{"10:00:001 1 jan 2026", ""},                          // three-digit second: no time
		{"10:00:00x 1st jan 2026", "Thu, 01 Jan 2026 10:00:00 GMT"},
		{"", ""},
		{";;;", ""},
		{"\x00\x01", ""},
	} {
		got, ok := parseCookieDate(tc.in)
		var s string
		if ok {
			s = got.Format(imfFixdate)
		}
		if s != tc.want {
			t.Errorf("%d: parseCookieDate(%q) = %q, want %q", i, tc.in, s, tc.want)
		}
	}
}

// TestParseAgreedDateTwoDigitYear69: RFC 6265 §5.1.1: a two-digit year
// from 70 to 99 is 19xx, from 00 to 69 20xx; so "69" is 2069.
func TestParseAgreedDateTwoDigitYear69(t *testing.T) {
	for _, year := range []int{2069, 1970} {
		at := time.Date(year, time.November, 25, 0, 0, 0, 0, time.UTC)
		s := at.Format("Mon, 02-Jan-06 15:04:05 GMT")
		got, ok := parseAgreedDate(s)
		if !ok || got != at.Unix() {
			t.Errorf("%q: got %d, %v; want %d (%d)", s, got, ok, at.Unix(), year)
		}
	}
}
