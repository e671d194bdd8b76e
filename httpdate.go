package cookienormalizer

import (
	"strings"
	"time"
)

// imfFixdate is the preferred HTTP date format (RFC 9110 §5.6.7), which
// every cookie-date parser accepts. It is what we write as Expires and what
// servers send as Date.
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// The fast paths below handle IMF-fixdate only, in fixed positions, because
// time.Parse and time.Format interpret their layout on every call and were
// the largest costs of a rewrite in the profile (see BENCHMARKS.md).

const (
	weekdayNames = "SunMonTueWedThuFriSat"
	monthNames   = "JanFebMarAprMayJunJulAugSepOctNovDec"
)

// appendIMFFixdate appends the instant unix (seconds) as an IMF-fixdate,
// for years 0 to 9999. It gives the bytes of time.Format(imfFixdate).
func appendIMFFixdate(b []byte, unix int64) []byte {
	t := time.Unix(unix, 0).UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	wd := int(t.Weekday())
	b = append(b, weekdayNames[3*wd:3*wd+3]...)
	b = append(b, ',', ' ')
	b = append2(b, day)
	b = append(b, ' ')
	b = append(b, monthNames[3*(month-1):3*month]...)
	b = append(b, ' ')
	b = append2(b, year/100)
	b = append2(b, year%100)
	b = append(b, ' ')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ':')
	b = append2(b, second)
	return append(b, " GMT"...)
}

// append2 appends n (0 to 99) as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT". Like time.Parse,
// it does not check that the weekday fits the date, but it must be a
// weekday's name: NSPR's date parser (Chromium's and Firefox's, for the
// Date header) reads a zone, a month or a time found in its place.
func parseIMFFixdate(s string) (time.Time, bool) {
	if len(s) != len(imfFixdate) || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
		s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' || s[25:] != " GMT" ||
		!isWeekday(s[:3]) {
		return time.Time{}, false
	}
	day, ok1 := digits2(s[5:7])
	yearHi, ok2 := digits2(s[12:14])
	yearLo, ok3 := digits2(s[14:16])
	hour, ok4 := digits2(s[17:19])
	minute, ok5 := digits2(s[20:22])
	second, ok6 := digits2(s[23:25])
	month := -1
	for m := 0; m < 12; m++ {
		if s[8:11] == monthNames[3*m:3*m+3] {
			month = m + 1
			break
		}
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 0 ||
		day < 1 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	year := yearHi*100 + yearLo
	t := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 Apr and the like
	}
	return t, true
}

// digits2 parses exactly two ASCII digits.
func digits2(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// obsoleteHTTPDateLayouts are the two obsolete formats a Date header may
// still use (RFC 9110 §5.6.7); IMF-fixdate has its own fast parser.
var obsoleteHTTPDateLayouts = [...]string{
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

// maxObsoleteHTTPDate bounds the Date values tried against
// obsoleteHTTPDateLayouts: the longest date they match is 33 bytes
// ("Wednesday, 09-Nov-94 08:49:37 GMT"). time.Parse builds its error
// for a longer value with the whole value quoted in it, tens of bytes
// for each byte of an upstream's megabyte-long Date, on every response.
const maxObsoleteHTTPDate = 64

// parseHTTPDate parses a Date header in any of the HTTP date formats, as
// net/http.ParseTime does, but for a two-digit year of 69: Go reads 1969,
// NSPR (which Chromium and Firefox read the Date with, to count an
// Expires from it) reads 2069, as the cookie-date algorithm does; here it
// is 2069 too.
func parseHTTPDate(date string) (time.Time, bool) {
	if t, ok := parseIMFFixdate(date); ok {
		return t, true
	}
	if date != "" && len(date) <= maxObsoleteHTTPDate {
		for i, layout := range obsoleteHTTPDateLayouts {
			if t, err := time.Parse(layout, date); err == nil {
				if i == 0 && t.Year() == 1969 {
					t = t.AddDate(100, 0, 0)
				}
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// parsedDate is a Date header and the instant it names, in Unix seconds.
type parsedDate struct {
	date string
	unix int64
}

// responseTime is the instant Max-Age counts from, in Unix seconds: the
// response's Date header if it parses as an HTTP date, else the
// response's reading of the proxy's clock (now). It keeps a one-entry
// cache: a server sends the same Date for a whole second, and parsing it
// was a tenth of the cost of a rewrite (see BENCHMARKS.md). The cache
// allocates once per new Date.
func (n *normalizer) responseTime(date string, now *clock) int64 {
	if c := n.lastDate.Load(); c != nil && c.date == date {
		return c.unix
	}
	at, ok := parseHTTPDate(date)
	if !ok {
		now.dateUnread = date != ""
		return now.seconds()
	}
	n.lastDate.Store(&parsedDate{date: strings.Clone(date), unix: at.Unix()})
	return at.Unix()
}
