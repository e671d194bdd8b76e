package cookienormalizer

import "time"

// parseCookieDate parses an Expires attribute value with the cookie-date
// algorithm of RFC 6265 §5.1.1 (unchanged in RFC 6265bis §5.1.1). Browsers
// use this algorithm, not an HTTP-date parser: it accepts dashed dates
// ("Wed, 09-Jun-2021 10:18:14 GMT"), two-digit years, a missing or long
// weekday, asctime order and trailing junk such as "GMT-0500 (EST)". It
// reports false where the value is not a date, in which case the cookie has
// no Expires at all.
//
// It indexes into s and never allocates.
func parseCookieDate(s string) (time.Time, bool) {
	var (
		foundTime, foundDay, foundMonth, foundYear bool

		hour, minute, second int
		day, year            int
		month                time.Month
	)
	for i := 0; i < len(s); {
		// Skip delimiters, then take the run of non-delimiters as a token.
		for i < len(s) && isDateDelimiter(s[i]) {
			i++
		}
		start := i
		for i < len(s) && !isDateDelimiter(s[i]) {
			i++
		}
		if start == i {
			break
		}
		tok := s[start:i]
		// The four productions are tried in this order, each only until it
		// has matched once (§5.1.1 step 2).
		if !foundTime {
			if h, m, sec, ok := parseHMSTime(tok); ok {
				foundTime, hour, minute, second = true, h, m, sec
				continue
			}
		}
		if !foundDay {
			if n, digits := leadingDigits(tok, 2); digits >= 1 && digitRunEnds(tok, digits) {
				foundDay, day = true, n
				continue
			}
		}
		if !foundMonth {
			if m, ok := parseMonth(tok); ok {
				foundMonth, month = true, m
				continue
			}
		}
		if !foundYear {
			if n, digits := leadingDigits(tok, 4); digits >= 2 && digitRunEnds(tok, digits) {
				foundYear, year = true, n
				continue
			}
		}
	}
	if !foundTime || !foundDay || !foundMonth || !foundYear {
		return time.Time{}, false
	}
	// Two-digit years (§5.1.1 steps 3 and 4).
	switch {
	case year >= 70 && year <= 99:
		year += 1900
	case year >= 0 && year <= 69:
		year += 2000
	}
	if day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, second, 0, time.UTC)
	// time.Date normalises 31 April to 1 May; RFC 6265 says such a date
	// does not exist and the attribute is ignored.
	if t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// isDateDelimiter reports whether c is a delimiter of RFC 6265 §5.1.1:
// %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
func isDateDelimiter(c byte) bool {
	return c == 0x09 ||
		(c >= 0x20 && c <= 0x2F) ||
		(c >= 0x3B && c <= 0x40) ||
		(c >= 0x5B && c <= 0x60) ||
		(c >= 0x7B && c <= 0x7E)
}

// leadingDigits parses up to max leading ASCII digits of s and returns their
// value and how many there were.
func leadingDigits(s string, max int) (value, digits int) {
	for digits < len(s) && digits < max && s[digits] >= '0' && s[digits] <= '9' {
		value = value*10 + int(s[digits]-'0')
		digits++
	}
	return value, digits
}

// digitRunEnds reports whether the digits at s[:n] are followed by the end
// of s or by a non-digit: the "( non-digit *OCTET )" tail of the grammar.
func digitRunEnds(s string, n int) bool {
	return n == len(s) || s[n] < '0' || s[n] > '9'
}

// parseHMSTime matches hms-time = time-field ":" time-field ":" time-field,
// each field one or two digits, followed by the end or a non-digit.
func parseHMSTime(tok string) (h, m, s int, ok bool) {
	var fields [3]int
	rest := tok
	for i := range fields {
		v, n := leadingDigits(rest, 2)
		if n == 0 {
			return 0, 0, 0, false
		}
		fields[i] = v
		rest = rest[n:]
		if i < 2 {
			if rest == "" || rest[0] != ':' {
				return 0, 0, 0, false
			}
			rest = rest[1:]
		}
	}
	if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return 0, 0, 0, false
	}
	return fields[0], fields[1], fields[2], true
}

// parseMonth matches a token whose first three characters name a month,
// case-insensitively ("Dec", "december", "DECEMBRE" all match).
func parseMonth(tok string) (time.Month, bool) {
	if len(tok) < 3 {
		return 0, false
	}
	const months = "janfebmaraprmayjunjulaugsepoctnovdec"
	var p [3]byte
	for i := range p {
		c := tok[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		p[i] = c
	}
	for m := 0; m < 12; m++ {
		if months[3*m] == p[0] && months[3*m+1] == p[1] && months[3*m+2] == p[2] {
			return time.Month(m + 1), true
		}
	}
	return 0, false
}

// parseAgreedDate parses an Expires value in one of the forms every major
// engine reads as the same instant: "Wed, 25 Nov 2026 00:00:00 GMT"
// (IMF-fixdate), the same with its zone written "UTC", "+0000" or "-0000"
// (Ruby's Time#rfc2822, which Rack before 2.1 writes cookies with,
// Python's email.utils.formatdate, PHP's date('r')), or with dashes,
// "Wed, 25-Nov-2026 00:00:00 GMT" and "Wed, 25-Nov-26 00:00:00 GMT" (the
// Netscape cookie form; a two-digit year is 19xx from 70, else 20xx).
// Any other zone, or a dashed date with one, is not read: Chromium skips
// a zone, the others apply it. The engines parse dates with three
// different parsers (Chromium the cookie-date algorithm of RFC 6265
// §5.1.1, Firefox NSPR's PR_ParseTimeString, libsoup its own HTTP-date
// parser), which disagree on time zones, short years and junk; on these
// forms they agree (docs/engines.md measures them). A four-digit year
// before 1601 is refused: the cookie-date algorithm rejects it, the
// others read a date in the past.
func parseAgreedDate(s string) (int64, bool) {
	switch {
	case len(s) == len(imfFixdate) && s[7] == ' ' && s[25:] == " UTC",
		len(s) == len(imfFixdate)+2 && s[7] == ' ' && (s[25:] == " +0000" || s[25:] == " -0000"):
		return parseZeroZoneDate(s)
	case len(s) == len(imfFixdate) && s[7] == ' ':
		return parseAgreedIMFFixdate(s)
	case len(s) == len(imfFixdate) && s[7] == '-' && s[11] == '-':
		return parseDashedDate(s, 4)
	case len(s) == len(imfFixdate)-2 && s[7] == '-' && s[11] == '-':
		return parseDashedDate(s, 2)
	}
	return 0, false
}

// parseAgreedIMFFixdate parses an IMF-fixdate, its zone GMT, from 1601.
func parseAgreedIMFFixdate(s string) (int64, bool) {
	t, ok := parseIMFFixdate(s)
	if !ok || t.Year() < 1601 {
		return 0, false
	}
	return t.Unix(), true
}

// parseZeroZoneDate parses "Wed, 25 Nov 2026 00:00:00 UTC", "… +0000" or
// "… -0000" by rewriting its zone as GMT, in a buffer on the stack.
func parseZeroZoneDate(s string) (int64, bool) {
	var b [len(imfFixdate)]byte
	copy(b[:25], s) // "Wed, 25 Nov 2026 00:00:00"
	copy(b[25:], " GMT")
	return parseAgreedIMFFixdate(string(b[:]))
}

// parseDashedDate parses "Wed, 25-Nov-2026 00:00:00 GMT" (yearDigits 4)
// or "Wed, 25-Nov-26 00:00:00 GMT" (2) by rewriting it as an IMF-fixdate,
// in a buffer on the stack.
func parseDashedDate(s string, yearDigits int) (int64, bool) {
	var b [len(imfFixdate)]byte
	n := copy(b[:], s[:7]) // "Wed, 25"
	b[n] = ' '
	copy(b[n+1:], s[8:11]) // "Nov"
	b[11] = ' '
	rest := s[12:] // the year, then " 00:00:00 GMT"
	if yearDigits == 2 {
		yy, ok := digits2(rest[:2])
		if !ok {
			return 0, false
		}
		century := 20
		if yy >= 70 {
			century = 19
		}
		append2(b[12:12], century)
		copy(b[14:], rest)
	} else {
		copy(b[12:], rest)
	}
	// GMT only: a dashed date with another zone was not measured.
	return parseAgreedIMFFixdate(string(b[:]))
}

// isWeekday reports whether s is a weekday's three-letter name.
func isWeekday(s string) bool {
	for i := 0; i+3 <= len(weekdayNames); i += 3 {
		if s == weekdayNames[i:i+3] {
			return true
		}
	}
	return false
}
