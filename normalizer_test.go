package cookienormalizer

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// testDate is the response Date of every README example.
const testDate = "Tue, 24 Nov 2026 12:00:00 GMT"

// testClock is the proxy clock in tests: one hour after testDate, so a test
// can tell which of the two the rewrite used.
var testClock = time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)

// rewriteResponse is rewriteResponseJoins without the memo's joins or
// the follower log: the fields come back built, as tests want them.
func (n *normalizer) rewriteResponse(values []string, date string, req *request, obs observer) []string {
	return n.rewriteResponseJoins(values, date, req, obs, nil, nil)
}

// testNormalizer compiles rules with a fixed clock.
func testNormalizer(tb testing.TB, rules ...rule) *normalizer {
	tb.Helper()
	n, err := newNormalizer(rules)
	if err != nil {
		tb.Fatal(err)
	}
	n.now = func() time.Time { return testClock }
	return n
}

// Rule constructors for the tables.
func session(patterns ...string) rule { return rule{patterns: patterns, expiry: expireSession} }
func fixed(secs int64, patterns ...string) rule {
	return rule{patterns: patterns, expiry: expireFixed, seconds: secs}
}
func capped(secs int64, patterns ...string) rule {
	return rule{patterns: patterns, expiry: expireMax, seconds: secs}
}
func like(leader string, patterns ...string) rule {
	return rule{patterns: patterns, expiry: expireLike, like: leader}
}

// rewriteAll runs the rewrite on a copy of in.
func rewriteAll(n *normalizer, in []string, date string) []string {
	out := append([]string(nil), in...)
	n.rewrite(out, date, nil, nil)
	return out
}

func TestRewrite(t *testing.T) {
	long := "big=" + strings.Repeat("x", maxValueLen) + "; Max-Age=5"
	for i, tc := range []struct {
		name  string
		rules []rule
		date  string // testDate if empty
		in    []string
		want  []string
	}{
		// The rewrite examples of the README, row by row.
		{
			name:  "example: session removes Max-Age",
			rules: []rule{session("session_id")},
			in:    []string{"session_id=abc; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax"},
			want:  []string{"session_id=abc; Path=/; HttpOnly; Secure; SameSite=Lax"},
		},
		{
			name:  "example: fixed lifetime appends Max-Age and Expires",
			rules: []rule{fixed(43200, "user_id__insecure")},
			in:    []string{"user_id__insecure=42; Path=/; Secure"},
			want:  []string{"user_id__insecure=42; Path=/; Secure; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"},
		},
		{
			name:  "example: Max-Age=0 deletion unchanged",
			rules: []rule{fixed(43200, "session_id")},
			in:    []string{"session_id=; Max-Age=0; Path=/"},
			want:  []string{"session_id=; Max-Age=0; Path=/"},
		},
		{
			name:  "example: past Expires deletion unchanged, lower-case dashed",
			rules: []rule{session("session_id")},
			in:    []string{"session_id=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/"},
			want:  []string{"session_id=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/"},
		},
		{
			// The example's own field ends in a past Expires, which libsoup
			// (WebKitGTK) honours because it comes last: a deletion there,
			// so it passes unchanged. With the Expires first, every engine
			// lets the last Max-Age win, and max caps it.
			name:  "example: max, last Max-Age wins and beats an earlier Expires",
			rules: []rule{capped(86400, "a")},
			in:    []string{"a=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT; Max-Age=100; max-age=90000"},
			want:  []string{"a=1; Expires=Wed, 25 Nov 2026 12:00:00 GMT; Max-Age=86400"},
		},
		{
			name:  "example: max, a past Expires after Max-Age is a deletion in libsoup",
			rules: []rule{capped(86400, "a")},
			in:    []string{"a=1; Max-Age=100; max-age=90000; Expires=Wed, 09 Jun 2021 10:18:14 GMT"},
			want:  []string{"a=1; Max-Age=100; max-age=90000; Expires=Wed, 09 Jun 2021 10:18:14 GMT"},
		},
		{
			name:  "example: quoted value with comma and space, unknown attribute",
			rules: []rule{fixed(3600, "a")},
			in:    []string{`a="x, y"; Path=/; Priority=High`},
			want:  []string{`a="x, y"; Path=/; Priority=High; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600`},
		},
		{
			name:  "example: invalid Max-Age ignored, a session cookie under max",
			rules: []rule{capped(3600, "a")},
			in:    []string{"a=1; Max-Age=abc"},
			want:  []string{"a=1; Max-Age=abc"},
		},
		{
			name:  "example: like copies the leader's expiry",
			rules: []rule{like("session_id", "user_id__insecure")},
			in:    []string{"session_id=abc; Max-Age=43200", "user_id__insecure=42; Path=/"},
			want:  []string{"session_id=abc; Max-Age=43200", "user_id__insecure=42; Path=/; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"},
		},

		// Attribute syntax.
		{
			name:  "case-insensitive attribute names",
			rules: []rule{session("a")},
			in:    []string{"a=1; MAX-AGE=100; Path=/; EXPIRES=Wed, 25 Nov 2026 12:00:00 GMT; mAx-AgE=5"},
			want:  []string{"a=1; Path=/"},
		},
		{
			name:  "no spaces after semicolons",
			rules: []rule{session("a")},
			in:    []string{"a=1;Path=/;Max-Age=100;HttpOnly"},
			want:  []string{"a=1;Path=/;HttpOnly"},
		},
		{
			name:  "odd whitespace kept where untouched",
			rules: []rule{session("a")},
			in:    []string{"a = 1 ;  max-age = 100 ;   Path=/ ; Secure"},
			want:  []string{"a = 1 ;   Path=/ ; Secure"},
		},
		{
			name:  "odd whitespace, appended lifetime",
			rules: []rule{fixed(60, "a")},
			in:    []string{" a=1 ;Path=/  "},
			want:  []string{" a=1 ;Path=/; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "trailing semicolon gets no second one",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=1; Path=/;"},
			want:  []string{"a=1; Path=/; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "whitespace before a trailing semicolon (fuzz regression)",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a= ;"},
			want:  []string{"a=; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "duplicate Max-Age: the last wins",
			rules: []rule{capped(3600, "a", "b")},
			in:    []string{"a=1; Max-Age=7200; Max-Age=60", "b=1; Max-Age=60; Max-Age=7200"},
			want:  []string{"a=1; Max-Age=7200; Max-Age=60", "b=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"},
		},
		{
			name:  "duplicate Expires: the last valid wins",
			rules: []rule{capped(86400, "a", "b")},
			in: []string{
				"a=1; Expires=Thu, 26 Nov 2026 12:00:00 GMT; Expires=Tue, 24 Nov 2026 18:00:00 GMT; Expires=bogus",
				"b=1; Expires=Tue, 24 Nov 2026 18:00:00 GMT; Expires=Thu, 26 Nov 2026 12:00:00 GMT",
			},
			want: []string{
				"a=1; Expires=Thu, 26 Nov 2026 12:00:00 GMT; Expires=Tue, 24 Nov 2026 18:00:00 GMT; Expires=bogus",
				"b=1; Expires=Wed, 25 Nov 2026 12:00:00 GMT; Max-Age=86400",
			},
		},
		{
			name:  "more Max-Age and Expires attributes than rebuild records",
			rules: []rule{session("a"), fixed(60, "b")},
			in: []string{
				"a=1; Max-Age=1; max-age=2; Expires=Wed, 25 Nov 2026 12:00:00 GMT; Path=/; MAX-AGE=3; expires=Wed, 25-Nov-2026 13:00:00 GMT; Secure",
				"b=1; Max-Age=1; max-age=2; Expires=Wed, 25 Nov 2026 12:00:00 GMT; Path=/; MAX-AGE=3; expires=Wed, 25-Nov-2026 13:00:00 GMT; Secure",
			},
			want: []string{"a=1; Path=/; Secure", "b=1; Path=/; Secure; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			// Firefox deletes a cookie whose last Max-Age starts with '-',
			// whatever follows; libsoup reads "Max-Age=" as 0, but the
			// Expires after it wins there.
			name:  "invalid Max-Age values are ignored, valid Expires counts; a '-' deletes in Firefox",
			rules: []rule{capped(3600, "b", "c", "e")},
			in: []string{
				"b=1; Max-Age=; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
				"c=1; Max-Age=-; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
				"e=1; Max-Age; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
			},
			want: []string{
				"b=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600",
				"c=1; Max-Age=-; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
				"e=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600",
			},
		},
		{
			// Chromium reads "+5" as 5 s, while Firefox ignores it and lets
			// the Expires (a day) count: capping to an hour would lengthen
			// the first reading. "1e3" is ignored by every engine.
			name:  "max: Max-Age values engines read differently, some shorter than the cap",
			rules: []rule{capped(3600, "a", "d")},
			in: []string{
				"a=1; Max-Age=+5; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
				"d=1; Max-Age=1e3; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
			},
			want: []string{
				"a=1; Max-Age=+5; Expires=Wed, 25 Nov 2026 12:00:00 GMT",
				"d=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600",
			},
		},
		{
			name:  "max: Max-Age=+5 alone is 5 s in Chromium, a session cookie elsewhere",
			rules: []rule{capped(86400, "a")},
			in:    []string{"a=1; Max-Age=+5"},
			want:  []string{"a=1; Max-Age=+5"},
		},
		{
			name:  "max: +90000 is a session cookie outside Chromium, so not capped",
			rules: []rule{capped(86400, "a")},
			in:    []string{"a=1; Max-Age=+90000"},
			want:  []string{"a=1; Max-Age=+90000"},
		},
		{
			name:  "max: every reading longer than the cap is capped",
			rules: []rule{capped(86400, "a")},
			in:    []string{"a=1; Max-Age=0090000"},
			want:  []string{"a=1; Expires=Wed, 25 Nov 2026 12:00:00 GMT; Max-Age=86400"},
		},
		{
			// Date + 90 min, but the proxy's clock is Date + 1 h: a browser
			// keeps it 30 min, so capping at an hour would lengthen it.
			name:  "max: an Expires counts from the later of the Date and the clock",
			rules: []rule{capped(3600, "a")},
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 13:30:00 GMT"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 13:30:00 GMT"},
		},
		{
			name:  "Chromium's Max-Age=+0 is a deletion, whatever the Expires",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=; Max-Age=+0; Expires=Fri, 01 Jan 2100 00:00:00 GMT"},
			want:  []string{"a=; Max-Age=+0; Expires=Fri, 01 Jan 2100 00:00:00 GMT"},
		},
		{
			name:  "Max-Age=-0 is a deletion",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=; Max-Age=-0"},
			want:  []string{"a=; Max-Age=-0"},
		},
		{
			// No engine reads trailing garbage: a session cookie everywhere.
			name:  "Max-Age=0abc is ignored, not a deletion",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=; Max-Age=0abc"},
			want:  []string{"a=; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"},
		},
		{
			name:  "leading zeros are read",
			rules: []rule{session("a")},
			in:    []string{"a=1; Max-Age=0003600; Path=/"},
			want:  []string{"a=1; Path=/"},
		},
		{
			// Browsers ignore the second Max-Age (over 1024 bytes), so the
			// field deletes c; a reader that counted it would see 3600.
			name:  "an attribute value over 1024 bytes does not undo a deletion",
			rules: []rule{fixed(43200, "c")},
			in:    []string{"c=; Max-Age=0; Max-Age=" + strings.Repeat("0", 1096) + "3600"},
			want:  []string{"c=; Max-Age=0; Max-Age=" + strings.Repeat("0", 1096) + "3600"},
		},
		{
			name:  "an attribute value of exactly 1024 bytes counts",
			rules: []rule{session("c")},
			in:    []string{"c=1; Max-Age=" + strings.Repeat("0", 1020) + "3600; Path=/"},
			want:  []string{"c=1; Path=/"},
		},
		{
			name:  "a 1025-byte Max-Age is ignored by browsers; session keeps it a session cookie",
			rules: []rule{capped(60, "c")},
			in:    []string{"c=1; Max-Age=" + strings.Repeat("0", 1021) + "3600"},
			want:  []string{"c=1; Max-Age=" + strings.Repeat("0", 1021) + "3600"},
		},
		{
			// Chromium and Firefox ignore the Expires (over 1024 bytes:
			// the date, then delimiters the date parser skips) and keep a
			// session cookie; WebKit reads it and deletes the cookie.
			name:  "a past Expires over 1024 bytes is a deletion in WebKit: left alone",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT" + strings.Repeat(",", 1000)},
			want:  []string{"a=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT" + strings.Repeat(",", 1000)},
		},
		{
			// A session cookie for Chromium and Firefox, two days for
			// WebKit: capping it would lengthen its life in the first two.
			name:  "a future Expires over 1024 bytes: max leaves it, since two engines keep a session cookie",
			rules: []rule{capped(86400, "a")},
			in:    []string{"a=1; Expires=Thu, 26 Nov 2026 12:00:00 GMT" + strings.Repeat(",", 1000)},
			want:  []string{"a=1; Expires=Thu, 26 Nov 2026 12:00:00 GMT" + strings.Repeat(",", 1000)},
		},
		{
			name:  "a like leader is named exactly: Session_id does not lead like session_id",
			rules: []rule{fixed(3600, "Session_id"), like("session_id", "b")},
			in:    []string{"Session_id=1; Max-Age=60", "b=2; Max-Age=5"},
			want:  []string{"Session_id=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600", "b=2; Max-Age=5"},
		},
		{
			// libsoup honours whichever comes last.
			name:  "a past Expires after a positive Max-Age is a deletion in libsoup",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:01 GMT"},
			want:  []string{"a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:01 GMT"},
		},
		{
			name:  "a future Expires after Max-Age=0 is still a deletion elsewhere",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT"},
			want:  []string{"a=; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT"},
		},
		{
			name:  "a future Expires before Max-Age=0 is a deletion",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=0"},
			want:  []string{"a=; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=0"},
		},
		{
			name:  "a two-digit year 70 is 1970: a deletion",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=x; expires=Thu, 01-Jan-70 00:00:01 GMT"},
			want:  []string{"a=x; expires=Thu, 01-Jan-70 00:00:01 GMT"},
		},
		{
			name:  "a two-digit year 50 is 2050",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=x; expires=Sat, 01-Jan-50 00:00:01 GMT"},
			want:  []string{"a=x; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "a name plus value over 4096 bytes is rejected by browsers: unchanged",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=" + strings.Repeat("v", 4096)},
			want:  []string{"a=" + strings.Repeat("v", 4096)},
		},
		{
			name:  "a name plus value of exactly 4096 bytes is rewritten",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=" + strings.Repeat("v", 4095)},
			want:  []string{"a=" + strings.Repeat("v", 4095) + "; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "Max-Age beats a past Expires: not a deletion",
			rules: []rule{session("a")},
			in:    []string{"a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60"},
			want:  []string{"a=1"},
		},
		{
			// A Max-Age of more than nine digits is read the slow way,
			// attribute by attribute; Max-Age still beats Expires there.
			name:  "Max-Age beats a past Expires: not a deletion, thirteen digits",
			rules: []rule{session("a")},
			in:    []string{"a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0000000003600"},
			want:  []string{"a=1"},
		},
		{
			// The Date 30 s behind the proxy's clock (13:00:00), an
			// Expires 20 s after the Date: Chromium and Firefox, counting
			// from the Date, keep the cookie 20 s; libsoup (WebKitGTK),
			// counting from its own clock, deletes it. Within the minute
			// a Date may be off, the proxy's clock still decides: a
			// deletion, left alone.
			name:  "Expires not after the proxy's clock, Date 30 s slow: a deletion",
			rules: []rule{fixed(43200, "a")},
			date:  "Tue, 24 Nov 2026 12:59:30 GMT",
			in:    []string{"a=; Expires=Tue, 24 Nov 2026 12:59:50 GMT; Path=/"},
			want:  []string{"a=; Expires=Tue, 24 Nov 2026 12:59:50 GMT; Path=/"},
		},
		{
			name:  "negative Max-Age is a deletion",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=1; Max-Age=-1"},
			want:  []string{"a=1; Max-Age=-1"},
		},
		{
			name:  "Expires equal to the Date header is a deletion",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=1; Expires=" + testDate},
			want:  []string{"a=1; Expires=" + testDate},
		},
		{
			// Past 18 digits the engines' integer overflows differ:
			// libsoup's strtol saturates and its cut to a C int reads -1,
			// a session cookie, which max must leave one.
			name:  "a Max-Age past 18 digits is left alone",
			rules: []rule{capped(60, "a")},
			in:    []string{"a=1; Max-Age=99999999999999999999999999"},
			want:  []string{"a=1; Max-Age=99999999999999999999999999"},
		},
		{
			// Chromium and Firefox overflow before the junk and read 400
			// days; libsoup reads a session cookie (docs/engines.md,
			// ma-overflow-junk): a leader the engines read apart leads
			// nothing.
			name:  "a Max-Age past 18 digits, then junk, leads nothing",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=99999999999999999999x", "u=1; Max-Age=60"},
			want:  []string{"s=1; Max-Age=99999999999999999999x", "u=1; Max-Age=60"},
		},
		{
			name:  "a Max-Age of 19 digits, then a '-', leads nothing",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=9999999999999999999-", "u=1; Max-Age=60"},
			want:  []string{"s=1; Max-Age=9999999999999999999-", "u=1; Max-Age=60"},
		},
		{
			name:  "unknown attributes and flags kept in order",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=1; Priority=High; Partitioned; Max-Age=5; SameParty; X=\"y; z\""},
			want:  []string{"a=1; Priority=High; Partitioned; SameParty; X=\"y; z\"; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "empty value is not a deletion",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=; Path=/"},
			want:  []string{"a=; Path=/; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "session cookie under session: nothing to remove",
			rules: []rule{session("a")},
			in:    []string{"a=1; Path=/"},
			want:  []string{"a=1; Path=/"},
		},

		// Values that are not cookies, or that we must not touch.
		{
			name:  "no = in the first part",
			rules: []rule{session("*")},
			in:    []string{"a; Max-Age=5", "; a=1; Max-Age=5"},
			want:  []string{"a; Max-Age=5", "; a=1; Max-Age=5"},
		},
		{
			name:  "empty name",
			rules: []rule{session("*")},
			in:    []string{"=1; Max-Age=5", " =1; Max-Age=5"},
			want:  []string{"=1; Max-Age=5", " =1; Max-Age=5"},
		},
		{
			// libsoup 3.2 stops reading a field at a byte below 0x20, HTAB
			// too (after an attribute's value, say), where the others read
			// on; but it skips a HTAB before a name or a value, as the
			// others do (docs/engines.md, the ma0-lead-tab rows): such a
			// field is rewritten.
			name:  "control bytes pass, HTAB too",
			rules: []rule{session("a")},
			in:    []string{"a=1\x01; Max-Age=5", "a=1; Max-Age=5\r\nX: y", "a=1; Max-Age=5\x7f", "a=1; Max-Age=0\t; Max-Age=5", "a=1;\tMax-Age=5", "a=1;\tPath=/; Max-Age=\t5"},
			want:  []string{"a=1\x01; Max-Age=5", "a=1; Max-Age=5\r\nX: y", "a=1; Max-Age=5\x7f", "a=1; Max-Age=0\t; Max-Age=5", "a=1", "a=1;\tPath=/"},
		},
		{
			// libsoup (WebKitGTK 2.50) ends a name or value at a byte over
			// 0x7f too, where Chromium and Firefox read on: WebKitGTK
			// deletes the first two (Max-Age=0, and an empty Max-Age),
			// which a rewrite after the byte would make live there.
			name:  "bytes over 0x7f pass",
			rules: []rule{fixed(43200, "a")},
			in:    []string{"a=new; Max-Age=0; X=\u00e9; Max-Age=3600", "a=new; Max-Age=\u00e9", "a=n\u00e9; Max-Age=3600", "a=1; Path=/caf\u00e9; Max-Age=0; Max-Age=5", "a=\x80"},
			want:  []string{"a=new; Max-Age=0; X=\u00e9; Max-Age=3600", "a=new; Max-Age=\u00e9", "a=n\u00e9; Max-Age=3600", "a=1; Path=/caf\u00e9; Max-Age=0; Max-Age=5", "a=\x80"},
		},
		{
			name:  "longer than 8 KiB passes",
			rules: []rule{session("big")},
			in:    []string{long},
			want:  []string{long},
		},
		{
			// The Expires "…GMT, c=2" is in no form the engines agree on.
			name:  "unmatched cookies untouched, order kept, never split on comma",
			rules: []rule{session("a")},
			in:    []string{"b=1; Max-Age=5", "a=1; Expires=Wed, 25 Nov 2026 12:00:00 GMT, c=2", "c=3; Max-Age=5", "a=2; Max-Age=5, c=2"},
			want:  []string{"b=1; Max-Age=5", "a=1; Expires=Wed, 25 Nov 2026 12:00:00 GMT, c=2", "c=3; Max-Age=5", "a=2"},
		},

		// Patterns and groups.
		{
			name:  "names are case-sensitive",
			rules: []rule{session("Session")},
			in:    []string{"session=1; Max-Age=5", "Session=1; Max-Age=5"},
			want:  []string{"session=1; Max-Age=5", "Session=1"},
		},
		{
			name:  "glob",
			rules: []rule{session("wh_*", "*_tmp", "a*b*c")},
			in:    []string{"wh_=1; Max-Age=5", "wh_x=1; Max-Age=5", "x_tmp=1; Max-Age=5", "abxbc=1; Max-Age=5", "awh_=1; Max-Age=5", "ab=1; Max-Age=5"},
			want:  []string{"wh_=1", "wh_x=1", "x_tmp=1", "abxbc=1", "awh_=1; Max-Age=5", "ab=1; Max-Age=5"},
		},
		{
			name:  "regexp",
			rules: []rule{session("~^(session_id|user_id__insecure)$")},
			in:    []string{"session_id=1; Max-Age=5", "user_id__insecure=1; Max-Age=5", "session_idx=1; Max-Age=5"},
			want:  []string{"session_id=1", "user_id__insecure=1", "session_idx=1; Max-Age=5"},
		},
		{
			name:  "first matching group wins: glob before exact",
			rules: []rule{session("wh_*"), fixed(60, "wh_x", "other")},
			in:    []string{"wh_x=1; Max-Age=5", "other=1"},
			want:  []string{"wh_x=1", "other=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "first matching group wins: exact before glob",
			rules: []rule{fixed(60, "a"), session("*")},
			in:    []string{"a=1", "b=1; Max-Age=5"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60", "b=1"},
		},
		{
			name:  "a name listed in two groups belongs to the first",
			rules: []rule{session("a"), fixed(60, "b", "a")},
			in:    []string{"a=1; Max-Age=5"},
			want:  []string{"a=1"},
		},

		// like.
		{
			name:  "like: the leader may come after the follower",
			rules: []rule{like("session_id", "user_id__insecure")},
			in:    []string{"user_id__insecure=42; Path=/", "session_id=abc; Max-Age=43200"},
			want:  []string{"user_id__insecure=42; Path=/; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200", "session_id=abc; Max-Age=43200"},
		},
		{
			// Chromium and Firefox refuse SameSite=None, Partitioned or a
			// __Secure- name without Secure: no leader in the browser.
			name:  "like: a leader browsers refuse for SameSite=None without Secure leads nothing",
			rules: []rule{like("session_id", "u")},
			in:    []string{"session_id=abc; Max-Age=600; SameSite=None", "u=1; Max-Age=60"},
			want:  []string{"session_id=abc; Max-Age=600; SameSite=None", "u=1; Max-Age=60"},
		},
		{
			name:  "like: nor does a Partitioned leader without Secure",
			rules: []rule{like("session_id", "u")},
			in:    []string{"session_id=abc; Max-Age=600; Partitioned", "u=1"},
			want:  []string{"session_id=abc; Max-Age=600; Partitioned", "u=1"},
		},
		{
			name:  "like: nor a __Secure- leader without Secure",
			rules: []rule{like("__Secure-sid", "u")},
			in:    []string{"__Secure-sid=abc; Max-Age=600", "u=1"},
			want:  []string{"__Secure-sid=abc; Max-Age=600", "u=1"},
		},
		{
			// A __Host- name also needs Path=/ and no Domain (RFC 6265bis
			// §4.1.3.2; Chromium checks the attributes as sent).
			name:  "like: nor a __Host- leader without Secure",
			rules: []rule{like("__Host-sid", "u")},
			in:    []string{"__Host-sid=abc; Max-Age=600; Path=/", "u=1"},
			want:  []string{"__Host-sid=abc; Max-Age=600; Path=/", "u=1"},
		},
		{
			name:  "like: nor a __Host- leader with another Path",
			rules: []rule{like("__Host-sid", "u")},
			in:    []string{"__Host-sid=abc; Max-Age=600; Secure; Path=/app", "u=1"},
			want:  []string{"__Host-sid=abc; Max-Age=600; Secure; Path=/app", "u=1"},
		},
		{
			name:  "like: nor a __Host- leader without a Path",
			rules: []rule{like("__host-sid", "u")},
			in:    []string{"__host-sid=abc; Max-Age=600; Secure", "u=1"},
			want:  []string{"__host-sid=abc; Max-Age=600; Secure", "u=1"},
		},
		{
			name:  "like: nor a __Host- leader with a Domain",
			rules: []rule{like("__Host-sid", "u")},
			in:    []string{"__Host-sid=abc; Max-Age=600; Secure; Path=/; Domain=example.com", "u=1"},
			want:  []string{"__Host-sid=abc; Max-Age=600; Secure; Path=/; Domain=example.com", "u=1"},
		},
		{
			name:  "like: a __Host- leader by the prefix's rules leads",
			rules: []rule{like("__Host-sid", "u")},
			in:    []string{"__Host-sid=abc; Max-Age=600; Path=/app; Secure; Path=/", "u=1"},
			want:  []string{"__Host-sid=abc; Max-Age=600; Path=/app; Secure; Path=/", "u=1; Expires=Tue, 24 Nov 2026 12:10:00 GMT; Max-Age=600"},
		},
		{
			name:  "like: with Secure, the same leader leads",
			rules: []rule{like("session_id", "u")},
			in:    []string{"session_id=abc; Max-Age=600; SameSite=None; Secure; Partitioned", "u=1"},
			want:  []string{"session_id=abc; Max-Age=600; SameSite=None; Secure; Partitioned", "u=1; Expires=Tue, 24 Nov 2026 12:10:00 GMT; Max-Age=600"},
		},
		{
			name:  "like: a session leader makes a session follower",
			rules: []rule{like("session_id", "user_id__insecure")},
			in:    []string{"session_id=abc; Path=/", "user_id__insecure=42; Max-Age=600; Path=/"},
			want:  []string{"session_id=abc; Path=/", "user_id__insecure=42; Path=/"},
		},
		{
			name:  "like: leader with Expires only gives the same instant",
			rules: []rule{like("session_id", "u")},
			date:  "Tue, 24 Nov 2026 13:00:00 GMT", // the proxy's clock
			in:    []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1"},
			want:  []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1; Expires=Wed, 25 Nov 2026 06:30:00 GMT; Max-Age=63000"},
		},
		{
			// libsoup counts an Expires from its own clock, Chromium and
			// Firefox from the response's Date; the follower's Max-Age,
			// counted from the Date, would outlive the leader in
			// WebKitGTK by the hour.
			name:  "like: an Expires leader under a Date an hour from the proxy's clock leads nothing",
			rules: []rule{like("session_id", "u")},
			in:    []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1"},
			want:  []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1"},
		},
		{
			name:  "like: an Expires leader under a Date a minute from the proxy's clock: counted from the Date",
			rules: []rule{like("session_id", "u")},
			date:  "Tue, 24 Nov 2026 12:59:00 GMT",
			in:    []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1"},
			want:  []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1; Expires=Wed, 25 Nov 2026 06:30:00 GMT; Max-Age=63060"},
		},
		{
			name:  "like: an Expires leader under a Date 61 s from the proxy's clock leads nothing",
			rules: []rule{like("session_id", "u")},
			date:  "Tue, 24 Nov 2026 13:01:01 GMT",
			in:    []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1"},
			want:  []string{"session_id=abc; expires=Wed, 25-Nov-2026 06:30:00 GMT", "u=1"},
		},
		{
			name:  "like: a Max-Age leader under a Date an hour from the proxy's clock: every engine counts it alike",
			rules: []rule{like("session_id", "u")},
			in:    []string{"session_id=abc; Max-Age=600", "u=1"},
			want:  []string{"session_id=abc; Max-Age=600", "u=1; Expires=Tue, 24 Nov 2026 12:10:00 GMT; Max-Age=600"},
		},
		{
			name:  "like: the last field of the leader counts",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=60", "s=2; Max-Age=120", "u=1"},
			want:  []string{"s=1; Max-Age=60", "s=2; Max-Age=120", "u=1; Expires=Tue, 24 Nov 2026 12:02:00 GMT; Max-Age=120"},
		},
		{
			// The browser ends without the leader: the follower is left as
			// the app sent it.
			name:  "like: a leader set then deleted leads nothing",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=60", "s=2; Max-Age=120", "s=; Max-Age=0", "u=1"},
			want:  []string{"s=1; Max-Age=60", "s=2; Max-Age=120", "s=; Max-Age=0", "u=1"},
		},
		{
			name:  "like: a leader over 4096 bytes leads nothing",
			rules: []rule{like("s", "u")},
			in:    []string{"s=" + strings.Repeat("v", 4096) + "; Max-Age=60", "u=1"},
			want:  []string{"s=" + strings.Repeat("v", 4096) + "; Max-Age=60", "u=1"},
		},
		{
			name:  "like: a leader engines read differently leads nothing",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=+60", "u=1"},
			want:  []string{"s=1; Max-Age=+60", "u=1"},
		},
		{
			name:  "like: no leader, follower unchanged",
			rules: []rule{like("s", "u")},
			in:    []string{"u=1; Max-Age=5"},
			want:  []string{"u=1; Max-Age=5"},
		},
		{
			name:  "like: only a deleted leader, follower unchanged",
			rules: []rule{like("s", "u")},
			in:    []string{"s=; Max-Age=0", "u=1; Max-Age=5"},
			want:  []string{"s=; Max-Age=0", "u=1; Max-Age=5"},
		},
		{
			name:  "like: a last leader with control bytes leads nothing",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=60", "s=2\x01; Max-Age=120", "u=1"},
			want:  []string{"s=1; Max-Age=60", "s=2\x01; Max-Age=120", "u=1"},
		},
		{
			name:  "like: follower deletion unchanged",
			rules: []rule{like("s", "u")},
			in:    []string{"s=1; Max-Age=60", "u=; Max-Age=0"},
			want:  []string{"s=1; Max-Age=60", "u=; Max-Age=0"},
		},
		{
			name:  "like: the leader's expiry as sent, after its own group",
			rules: []rule{fixed(3600, "s"), like("s", "u"), like("u", "t")},
			in:    []string{"t=1", "u=1; Max-Age=5", "s=1; Max-Age=43200"},
			want: []string{
				"t=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600",
				"u=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600",
				"s=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600",
			},
		},
		{
			name:  "like: a group may name its own leader, which keeps its expiry",
			rules: []rule{like("session_id", "session_id", "user_id__insecure")},
			in:    []string{"session_id=abc; Max-Age=43200", "user_id__insecure=42"},
			want:  []string{"session_id=abc; Max-Age=43200", "user_id__insecure=42; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"},
		},
		{
			// libsoup cuts a Max-Age to a C int: the engines read the first
			// leader differently, so it leads nothing.
			name:  "like: a leader past 32 bits leads nothing; 9 digits lead",
			rules: []rule{like("s", "u"), like("t", "v")},
			in:    []string{"s=1; Max-Age=99999999999999", "u=1", "t=1; Max-Age=999999999", "v=1"},
			want:  []string{"s=1; Max-Age=99999999999999", "u=1", "t=1; Max-Age=999999999", "v=1; Expires=Fri, 02 Aug 2058 13:46:39 GMT; Max-Age=999999999"},
		},

		// The engines' own parsers (Date 12:00, the proxy's clock 13:00).
		// Each field is one an engine deletes, or keeps shorter than max
		// would, where a reading of the RFC alone does not.
		{
			// Chromium and Firefox read the last Max-Age as sent, and when it
			// is not a number fall back on the Expires, here past.
			name:  "engines: a last Max-Age that is not a number lets a past Expires delete",
			rules: []rule{fixed(43200, "a"), session("b"), capped(86400, "c")},
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=3600; Max-Age=abc", "b=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=3600; Max-Age", "c=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=90000; Max-Age"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=3600; Max-Age=abc", "b=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=3600; Max-Age", "c=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=90000; Max-Age"},
		},
		{
			// Firefox deletes on a Max-Age starting with '-', and reads no
			// '+', falling back on the past Expires.
			name:  "engines: Firefox's '-' and '+'",
			rules: []rule{fixed(43200, "a", "b", "c")},
			in:    []string{"a=1; Max-Age=-abc", "b=1; Max-Age=-", "c=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=3600; Max-Age=+5"},
			want:  []string{"a=1; Max-Age=-abc", "b=1; Max-Age=-", "c=1; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Max-Age=3600; Max-Age=+5"},
		},
		{
			// Firefox and libsoup read the zone (this is 06:00 GMT, past);
			// libsoup and Chromium read years of one and three digits.
			name:  "engines: an Expires in a form the engines read differently is left alone",
			rules: []rule{fixed(43200, "a", "b", "c"), capped(86400, "d", "e")},
			in: []string{
				"a=1; Expires=Tue, 24 Nov 2026 18:00:00 +1200", "b=1; Expires=Tue, 24 Nov 5 12:00:00 GMT", "c=1; Expires=Tue, 24 Nov 126 12:00:00 GMT",
				"d=1; Expires=Wed, 25 Nov 2026 18:00:00 +1200", "e=1; Expires=Nov 05abc 2099 12:00:00 07",
			},
			want: []string{
				"a=1; Expires=Tue, 24 Nov 2026 18:00:00 +1200", "b=1; Expires=Tue, 24 Nov 5 12:00:00 GMT", "c=1; Expires=Tue, 24 Nov 126 12:00:00 GMT",
				"d=1; Expires=Wed, 25 Nov 2026 18:00:00 +1200", "e=1; Expires=Nov 05abc 2099 12:00:00 07",
			},
		},
		{
			// A zone of zero, written UTC, +0000 (PHP's date('r')) or
			// -0000 (Ruby's Time#rfc2822, Python's formatdate), is GMT in
			// every engine: a lifetime, or once past a deletion. Only in
			// the IMF-fixdate's layout: a dashed date or a zone name in
			// lower case is another parser's business, left alone.
			name:  "engines: an Expires with a zone of zero is read as GMT",
			rules: []rule{fixed(43200, "a", "b", "c", "f", "g"), capped(3600, "d", "e")},
			in: []string{
				"a=1; Expires=Tue, 24 Nov 2026 18:00:00 -0000; Path=/", "b=1; Expires=Tue, 24 Nov 2026 18:00:00 +0000", "c=1; Expires=Tue, 24 Nov 2026 18:00:00 UTC",
				"d=1; expires=Tue, 24 Nov 2026 18:00:00 -0000", "e=1; Expires=Tue, 24 Nov 2026 12:00:00 +0000",
				"f=1; Expires=Tue, 24-Nov-2026 18:00:00 -0000", "g=1; Expires=Tue, 24 Nov 2026 18:00:00 utc",
			},
			want: []string{
				"a=1; Path=/; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200", "b=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200", "c=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200",
				"d=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600", "e=1; Expires=Tue, 24 Nov 2026 12:00:00 +0000",
				"f=1; Expires=Tue, 24-Nov-2026 18:00:00 -0000", "g=1; Expires=Tue, 24 Nov 2026 18:00:00 utc",
			},
		},
		{
			// libsoup cuts a Max-Age to a C int: 2^32 is 0 (a deletion),
			// 2^32+60 is 60 s, which max 1d must not lengthen; 2^32-1 is -1,
			// a session cookie: a fixed lifetime may replace it, max may not.
			name: "engines: libsoup's 32-bit Max-Age",
			// 2^40+1 is 1 s there: no deletion, so a fixed lifetime applies.
			rules: []rule{fixed(43200, "a", "d", "e"), capped(86400, "b", "c")},
			in:    []string{"a=1; Max-Age=4294967296", "b=1; Max-Age=4294967356", "c=1; Max-Age=4294967295", "d=1; Max-Age=4294967295", "e=1; Max-Age=1099511627777"},
			want:  []string{"a=1; Max-Age=4294967296", "b=1; Max-Age=4294967356", "c=1; Max-Age=4294967295", "d=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200", "e=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"},
		},
		{
			// libsoup reads "Max-Age=" as 0, and lets an Expires it cannot
			// read make a session cookie, which max must leave one.
			name:  "engines: libsoup's empty Max-Age and unread Expires",
			rules: []rule{fixed(43200, "a"), capped(86400, "b")},
			in:    []string{"a=1; Max-Age=", "b=1; Max-Age=90000; Expires=garbage"},
			want:  []string{"a=1; Max-Age=", "b=1; Max-Age=90000; Expires=garbage"},
		},
		{
			// libsoup stops at a ',' in an attribute's name, as at the end
			// of a cookie: here it reads Max-Age=0 and deletes.
			name:  "engines: a ',' in a name passes unchanged",
			rules: []rule{fixed(43200, "a"), session("*")},
			in:    []string{"a=1; Max-Age=0; a,b; Max-Age=3600", "x,y=1; Max-Age=5"},
			want:  []string{"a=1; Max-Age=0; a,b; Max-Age=3600", "x,y=1; Max-Age=5"},
		},
		{
			// Chromium and Firefox count an Expires from the Date when they
			// can read it, and may read one the module cannot: an Expires
			// is then left alone; a Max-Age-only field is not.
			name:  "engines: a Date the module cannot read leaves an Expires alone",
			rules: []rule{fixed(60, "a", "b")},
			date:  "Tue, 24 Nov 2026 20:00:00 UTC",
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 14:00:00 GMT", "b=1; Max-Age=3600"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 14:00:00 GMT", "b=1; Expires=Tue, 24 Nov 2026 13:01:00 GMT; Max-Age=60"},
		},

		{
			// libsoup cuts a Max-Age to 32 bits: the longest one written;
			// the Expires is the leader's own instant.
			name:  "like: a leader in 9999 gives the longest Max-Age libsoup reads",
			rules: []rule{like("s", "u")},
			date:  "Tue, 24 Nov 2026 13:00:00 GMT", // the proxy's clock
			in:    []string{"s=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", "u=1"},
			want:  []string{"s=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", "u=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT; Max-Age=2147483647"},
		},
		{
			name:  "like: a leader in 2100, past the longest Max-Age",
			rules: []rule{like("l", "a")},
			date:  "Tue, 24 Nov 2026 13:00:00 GMT",
			in:    []string{"l=1; Expires=Mon, 01 Jan 2100 00:00:00 GMT", "a=1"},
			want:  []string{"l=1; Expires=Mon, 01 Jan 2100 00:00:00 GMT", "a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=2147483647"},
		},
		{
			// NSPR (Chromium's and Firefox's Date parser) reads a zone, a
			// month or a time in the weekday's place: a Date without a
			// weekday's name is one the module cannot read.
			name:  "a Date whose weekday is no weekday is not read",
			rules: []rule{fixed(60, "a", "b")},
			date:  "PST, 24 Nov 2026 12:00:00 GMT",
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 14:00:00 GMT", "b=1; Max-Age=3600"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 14:00:00 GMT", "b=1; Expires=Tue, 24 Nov 2026 13:01:00 GMT; Max-Age=60"},
		},
		{
			// NSPR reads the two-digit year 69 as 2069 (Go as 1969): an
			// Expires in 2026 is then past for Chromium and Firefox.
			name:  "an RFC 850 Date in 69 is 2069",
			rules: []rule{fixed(60, "a", "b")},
			date:  "Wednesday, 01-Jan-69 00:00:00 GMT",
			in:    []string{"a=1", "b=1; Expires=Tue, 24 Nov 2026 14:00:00 GMT"},
			want:  []string{"a=1; Expires=Tue, 01 Jan 2069 00:01:00 GMT; Max-Age=60", "b=1; Expires=Tue, 24 Nov 2026 14:00:00 GMT"},
		},

		// Base time.
		{
			name:  "no Date header: the proxy clock",
			rules: []rule{fixed(60, "a")},
			date:  "-",
			in:    []string{"a=1"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 13:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "unparsable Date header: the proxy clock",
			rules: []rule{fixed(60, "a")},
			date:  "yesterday",
			in:    []string{"a=1"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 13:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "RFC 850 Date header",
			rules: []rule{fixed(60, "a")},
			date:  "Tuesday, 24-Nov-26 12:00:00 GMT",
			in:    []string{"a=1"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			name:  "asctime Date header",
			rules: []rule{fixed(60, "a")},
			date:  "Tue Nov 24 12:00:00 2026",
			in:    []string{"a=1"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		},
		{
			// A browser with a correct clock deletes it, whatever the
			// upstream's Date says.
			name:  "an Expires after the Date but not after the proxy's clock is a deletion",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 12:30:00 GMT"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 12:30:00 GMT"},
		},
		{
			// A browser deletes a cookie whose expiry is not after its own
			// clock: at exactly the proxy's clock it is a deletion too.
			name:  "an Expires exactly at the proxy's clock is a deletion",
			rules: []rule{fixed(60, "a")},
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT"}, // testClock
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT"},
		},
		{
			name:  "max leaves a lifetime exactly the cap as it is, byte for byte",
			rules: []rule{capped(3600, "a")},
			// The Expires is an hour after the proxy's clock (two after
			// the Date): the shorter reading is the cap.
			in:   []string{"a=1; Max-Age=3600; Path=/", "a=2; Expires=Tue, 24 Nov 2026 14:00:00 GMT"},
			want: []string{"a=1; Max-Age=3600; Path=/", "a=2; Expires=Tue, 24 Nov 2026 14:00:00 GMT"},
		},
		{
			name:  "a Date in 1970 does not make a 1970 Expires a lifetime",
			rules: []rule{fixed(43200, "session_id")},
			date:  "Thu, 01 Jan 1970 00:00:00 GMT",
			in:    []string{"session_id=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/"},
			want:  []string{"session_id=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/"},
		},
		{
			// An upstream writing local time labelled GMT, 8 hours slow: the
			// Expires follows its Date, and the Max-Age after it is what
			// every engine, libsoup included, honours.
			name:  "an upstream Date 8 hours slow: Expires from it, Max-Age last",
			rules: []rule{fixed(43200, "a")},
			date:  "Tue, 24 Nov 2026 04:00:00 GMT",
			in:    []string{"a=1; Path=/"},
			want:  []string{"a=1; Path=/; Expires=Tue, 24 Nov 2026 16:00:00 GMT; Max-Age=43200"},
		},
		{
			name:  "an upstream Date 8 hours slow: its Date + 1 h Expires is a deletion",
			rules: []rule{fixed(43200, "a")},
			date:  "Tue, 24 Nov 2026 05:00:00 GMT",
			in:    []string{"a=1; Expires=Tue, 24 Nov 2026 06:00:00 GMT"},
			want:  []string{"a=1; Expires=Tue, 24 Nov 2026 06:00:00 GMT"},
		},
	} {
		date := tc.date
		switch date {
		case "":
			date = testDate
		case "-":
			date = ""
		}
		n := testNormalizer(t, tc.rules...)
		got := rewriteAll(n, tc.in, date)
		if !equalStrings(got, tc.want) {
			t.Errorf("%d %s:\n in:   %q\n want: %q\n got:  %q", i, tc.name, tc.in, tc.want, got)
			continue
		}
		// Idempotent: rewriting the output again changes nothing.
		if again := rewriteAll(n, got, date); !equalStrings(again, got) {
			t.Errorf("%d %s: not idempotent:\n once:  %q\n twice: %q", i, tc.name, got, again)
		}
		// The input again, now that the memo has seen its attributes,
		// with the fields the memo answers for recorded and built
		// afterwards, as through the response writer.
		var joins fieldJoins
		joined := append([]string(nil), tc.in...)
		joins.flush(n.rewriteJoins(joined, date, nil, nil, &joins, nil))
		if !equalStrings(joined, tc.want) {
			t.Errorf("%d %s: with the memo's fields joined afterwards:\n want: %q\n got:  %q", i, tc.name, tc.want, joined)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// agreedDateForm is the forms of an Expires date that Chromium, Firefox
// and libsoup read as the same instant: an IMF-fixdate, or the Netscape
// form with dashes and a two- or four-digit year. Written apart from the
// module's parser, to check it.
var agreedDateForm = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2}( (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} (GMT|UTC|[+-]0000)|-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-([0-9]{4}|[0-9]{2}) [0-9]{2}:[0-9]{2}:[0-9]{2} GMT)$`)

// TestRewriteExpiresFormats runs the rewrite on an Expires attribute in
// every format of the conformance file. A date in a form every engine
// reads alike is a lifetime (capped by max) or, once past, a deletion;
// any other value passes unchanged, a date or not: the engines' three
// date parsers disagree on such values (time zones, short years, junk),
// so one of them may read a deletion or a session cookie there.
func TestRewriteExpiresFormats(t *testing.T) {
	n := testNormalizer(t, capped(1800, "a"))
	agreed := 0
	for i, v := range loadDateVectors(t) {
		in := []string{"a=1; Expires=" + v.Test + "; Path=/"}
		if v.Expected == nil || !agreedDateForm.MatchString(v.Test) {
			for _, clock := range []string{"Mon, 10 Dec 2007 15:00:00 GMT", testDate} {
				at := mustTime(t, clock)
				n.now = func() time.Time { return at }
				if got := rewriteAll(n, in, at.Format(imfFixdate)); got[0] != in[0] {
					t.Errorf("%d: %q is in no agreed form: want it unchanged, got %q", i, v.Test, got[0])
				}
			}
			continue
		}
		agreed++
		expires, err := time.Parse(imfFixdate, *v.Expected)
		if err != nil {
			t.Fatal(err)
		}
		// The proxy's clock agrees with the Date here: an Expires not
		// after the clock is a deletion whatever the Date says.
		before := expires.Add(-time.Hour)
		n.now = func() time.Time { return before }
		want := "a=1; Path=/; Expires=" + expires.Add(-30*time.Minute).Format(imfFixdate) + "; Max-Age=1800"
		if got := rewriteAll(n, in, before.Format(imfFixdate)); got[0] != want {
			t.Errorf("%d: %q an hour before it:\n want %q\n got  %q", i, v.Test, want, got[0])
		}
		after := expires.Add(time.Second)
		n.now = func() time.Time { return after }
		if got := rewriteAll(n, in, after.Format(imfFixdate)); got[0] != in[0] {
			t.Errorf("%d: %q a second after it is a deletion, want it unchanged: got %q", i, v.Test, got[0])
		}
	}
	if agreed == 0 {
		t.Fatal("no vector is in an agreed form: the check above checked nothing")
	}
}

// TestRewriteKeepsUnchangedStrings checks that a value the rewrite leaves
// alone is the very same string, not an equal copy.
func TestRewriteKeepsUnchangedStrings(t *testing.T) {
	n := testNormalizer(t, fixed(60, "a"))
	in := []string{"a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"}
	out := rewriteAll(n, in, testDate)
	if unsafe.StringData(out[0]) != unsafe.StringData(in[0]) {
		t.Fatalf("got a new string %q for an unchanged value", out[0])
	}
	base := mustTime(t, testDate).Unix()
	var f setCookie
	f.scan(in[0], lifetimeKinds, 0)
	e := readExpiry(&f, base, &clock{now: func() time.Time { return testClock }})
	if got := f.rebuild(setLifetime(&f, &e, 60, base, nil), nil); got != in[0] {
		t.Errorf("a new lifetime for a complying value gives %q; want it unchanged", got)
	}
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	tm, err := time.Parse(imfFixdate, s)
	if err != nil {
		tb.Fatal(err)
	}
	return tm
}

// recordingObserver collects what the rewrite reports.
type recordingObserver []string

func (r *recordingObserver) observe(name string, group int, act action) {
	*r = append(*r, name+" "+groupName("", group)+" "+act.String())
}

func TestRewriteObserver(t *testing.T) {
	n := testNormalizer(t, fixed(60, "a", "b", "c"), session("d"))
	var obs recordingObserver
	n.rewrite([]string{
		"a=1", "b=; Max-Age=0", "c=\x01", "d=1", "z=1; Max-Age=5", "not a cookie",
	}, testDate, &obs, nil)
	want := []string{"a #1 rewritten", "b #1 deletion kept", "c #1 passed invalid", "d #2 unchanged"}
	if !equalStrings(obs, want) {
		t.Errorf("observed %q, want %q", obs, want)
	}
	for _, line := range obs {
		if strings.Contains(line, "=") {
			t.Errorf("observer saw a cookie value: %q", line)
		}
	}
}

func TestNewNormalizerErrors(t *testing.T) {
	for i, tc := range []struct {
		rules []rule
		want  string
	}{
		{[]rule{session("~(")}, "group #1: compiling pattern \"~(\": error parsing regexp: missing closing ): `(`"},
		{[]rule{session("a"), {label: "web", patterns: []string{""}, expiry: expireSession}}, `group "web": empty cookie pattern`},
		{[]rule{like("b", "a"), like("a", "b")}, `expire like "b": the chain of like leaders loops back to group #1`},
		{[]rule{like("b", "a"), like("c", "b"), {label: "last", patterns: []string{"c"}, expiry: expireLike, like: "a"}}, `expire like "b": the chain of like leaders loops back to group #1`},
		// #1 only leads into the loop of #2 and #3: the error names #2.
		{[]rule{like("b", "x"), like("c", "b"), like("b", "c")}, `expire like "c": the chain of like leaders loops back to group #2`},
	} {
		_, err := newNormalizer(tc.rules)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%d: got error %v, want %q", i, err, tc.want)
		}
	}
}

// TestResponseTimeCache checks that the cached Date never outlives its
// header: each response's own Date is its base time.
func TestResponseTimeCache(t *testing.T) {
	n := testNormalizer(t, fixed(60, "a"))
	for i, tc := range []struct{ date, want string }{
		{testDate, "a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		{testDate, "a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
		{"Tue, 24 Nov 2026 12:00:01 GMT", "a=1; Expires=Tue, 24 Nov 2026 12:01:01 GMT; Max-Age=60"},
		{"", "a=1; Expires=Tue, 24 Nov 2026 13:01:00 GMT; Max-Age=60"}, // the clock
		{"Tue, 24 Nov 2026 12:00:01 GMT", "a=1; Expires=Tue, 24 Nov 2026 12:01:01 GMT; Max-Age=60"},
		{"garbage", "a=1; Expires=Tue, 24 Nov 2026 13:01:00 GMT; Max-Age=60"},
		{testDate, "a=1; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60"},
	} {
		if got := rewriteAll(n, []string{"a=1"}, tc.date); got[0] != tc.want {
			t.Errorf("%d: Date %q: got %q, want %q", i, tc.date, got[0], tc.want)
		}
	}
}

// TestFieldSizeBound: a field of up to maxValueLen bytes is read and
// rewritten; a longer one passes unchanged (the module does not read it,
// though browsers store it), and for the consistency rules it counts as
// setting its cookie, so that nothing is appended on a guess.
func TestFieldSizeBound(t *testing.T) {
	// pad fills a field "name=1; Max-Age=60" with attributes of under
	// 1024 bytes each (which browsers read) up to exactly size bytes.
	pad := func(name string, size int) string {
		v := name + "=1; Max-Age=60"
		for len(v) < size {
			n := min(size-len(v)-4, 1000)
			if n < 1 {
				n = 1
			}
			v += "; X=" + strings.Repeat("a", n)
		}
		if len(v) != size {
			t.Fatalf("pad made %d bytes, want %d", len(v), size)
		}
		return v
	}
	session := Group{Cookies: []string{"session_id"}, Expire: &ExpiryPolicy{Mode: modeSession}}
	n := testNormalizer(t, session.rule())
	for _, size := range []int{maxValueLen, maxValueLen + 1} {
		in := pad("session_id", size)
		got := n.rewriteResponse([]string{in}, testDate, nil, nil)
		want := in
		if size <= maxValueLen {
			want = strings.Replace(in, "; Max-Age=60", "", 1)
		}
		if !equalStrings(got, []string{want}) {
			t.Errorf("%d bytes: got %d bytes, want %d (rewritten: %t)", size, len(got[0]), len(want), size <= maxValueLen)
		}
	}
	cascade := Group{Cookies: []string{"session_id", "user_id__insecure"}, OnDelete: "cascade"}
	n = testNormalizer(t, cascade.rule())
	in := []string{"session_id=; Max-Age=0", pad("user_id__insecure", maxValueLen+1)}
	if got := n.rewriteResponse(append([]string(nil), in...), testDate, nil, nil); !equalStrings(got, in) {
		t.Errorf("a member's field over the bound beside a log-out: %d fields out, want the %d in (counted as set, no cascade)", len(got), len(in))
	}
}

// TestDashedDateWithUTCLeftAlone: a dashed date is read only with the
// zone GMT. The engines were measured on the zone UTC in the IMF-fixdate
// layout only, and parseDashedDate rewrites a dashed date into that
// layout: it must not then take the zero-zone case. Unmeasured, such a
// field passes unchanged (the rule of safety), as a dashed date with
// -0000 does.
func TestDashedDateWithUTCLeftAlone(t *testing.T) {
	n := testNormalizer(t, fixed(43200, "f", "h"), capped(3600, "m"))
	in := []string{
		"f=1; Expires=Tue, 24-Nov-2026 18:00:00 UTC",
		"h=1; Expires=Tue, 24-Nov-26 18:00:00 UTC",
		"m=1; Expires=Tue, 24-Nov-2026 18:00:00 UTC",
	}
	got := rewriteAll(n, in, testDate)
	if !equalStrings(got, in) {
		t.Errorf("dashed dates with a UTC zone:\n want (unchanged) %q\n got              %q", in, got)
	}
	for _, s := range []string{"Tue, 24-Nov-2026 18:00:00 UTC", "Tue, 24-Nov-26 18:00:00 UTC"} {
		if agreedDateForm.MatchString(s) {
			t.Fatalf("agreedDateForm now matches %q; this test assumes it does not", s)
		}
		if v, ok := parseAgreedDate(s); ok {
			t.Errorf("parseAgreedDate(%q) = %d, true; the documented forms exclude it (agreedDateForm does not match)", s, v)
		}
	}
}

// TestLikeLeaderOwnPolicies: a `like` leader in its own group, whose field
// as the app wrote it browsers would refuse, is judged as the group's
// policies send it: secure on adds the Secure that SameSite=None needs;
// path / and domain remove give a __Host- leader the Path=/ and no
// Domain its prefix needs (RFC 6265bis §4.1.3.2). Browsers store it as
// sent, so it leads, also where its field comes after a follower's.
// Judged as written, lk1 kept its hour while the leader got 77 seconds,
// and a second rewrite of the output changed it; with another group's
// cascade appending a field, the rewrite's second look at the leaders
// led lk1 after all, so that the applied run counted lk1 twice and
// report_only once.
func TestLikeLeaderOwnPolicies(t *testing.T) {
	on := true
	hostLike := &ExpiryPolicy{Mode: modeLike, Like: "__Host-ldr"}
	const lk1 = "lk1=v; Path=/; Secure; Expires=Tue, 24 Nov 2026 12:01:17 GMT; Max-Age=77"
	for _, tc := range []struct {
		name     string
		g        Group
		in, want []string
	}{
		{
			name: "secure on adds the Secure SameSite=None needs",
			g:    Group{Cookies: []string{"lk1", "ldr"}, Expire: &ExpiryPolicy{Mode: modeLike, Like: "ldr"}, Secure: &on},
			in:   []string{"lk1=v; Max-Age=3600; Path=/", "ldr=w; Max-Age=77; Path=/; SameSite=None"},
			want: []string{lk1, "ldr=w; Max-Age=77; Path=/; SameSite=None; Secure"},
		},
		{
			name: "path / adds the Path=/ a __Host- leader needs",
			g:    Group{Cookies: []string{"lk1", "__Host-ldr"}, Expire: hostLike, Secure: &on, Path: "/"},
			in:   []string{"lk1=v; Max-Age=3600", "__Host-ldr=w; Max-Age=77; Secure"},
			want: []string{lk1, "__Host-ldr=w; Max-Age=77; Secure; Path=/"},
		},
		{
			name: "path / replaces a __Host- leader's Path=/app, leader first",
			g:    Group{Cookies: []string{"lk1", "__Host-ldr"}, Expire: hostLike, Secure: &on, Path: "/"},
			in:   []string{"__Host-ldr=w; Max-Age=77; Path=/app; Secure", "lk1=v; Max-Age=3600"},
			want: []string{"__Host-ldr=w; Max-Age=77; Path=/; Secure", lk1},
		},
		{
			name: "domain remove drops a __Host- leader's Domain",
			g:    Group{Cookies: []string{"lk1", "__Host-ldr"}, Expire: hostLike, Domain: "remove"},
			in:   []string{"lk1=v; Max-Age=3600; Path=/", "__Host-ldr=w; Max-Age=77; Path=/; Domain=example.com; Secure"},
			want: []string{"lk1=v; Path=/; Expires=Tue, 24 Nov 2026 12:01:17 GMT; Max-Age=77", "__Host-ldr=w; Max-Age=77; Path=/; Secure"},
		},
		{
			// A __Host- leader whose place no policy fixes leads nothing.
			name: "a __Host- leader at /app without a path policy",
			g:    Group{Cookies: []string{"lk1", "__Host-ldr"}, Expire: hostLike, Secure: &on},
			in:   []string{"lk1=v; Max-Age=3600; Path=/", "__Host-ldr=w; Max-Age=77; Path=/app; Secure"},
			want: []string{"lk1=v; Max-Age=3600; Path=/; Secure", "__Host-ldr=w; Max-Age=77; Path=/app; Secure"},
		},
		{
			// A field the engines read apart (a byte over 0x7f) is passed
			// unchanged, so sent at /café: it leads nothing.
			name: "a __Host- leader passed unchanged",
			g:    Group{Cookies: []string{"lk1", "__Host-ldr"}, Expire: hostLike, Secure: &on, Path: "/"},
			in:   []string{"lk1=v; Max-Age=3600", "__Host-ldr=w; Max-Age=77; Path=/caf\u00e9; Secure"},
			want: []string{"lk1=v; Max-Age=3600; Path=/; Secure", "__Host-ldr=w; Max-Age=77; Path=/caf\u00e9; Secure"},
		},
		{
			// The follower's group's path policy does not apply to a
			// leader outside it.
			name: "a __Host- leader at /app outside the follower's group",
			g:    Group{Cookies: []string{"lk1"}, Expire: hostLike, Path: "/"},
			in:   []string{"lk1=v; Max-Age=3600", "__Host-ldr=w; Max-Age=77; Path=/app; Secure"},
			want: []string{"lk1=v; Max-Age=3600; Path=/", "__Host-ldr=w; Max-Age=77; Path=/app; Secure"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.g.validate(); err != nil {
				t.Fatalf("config refused: %v", err)
			}
			req := func() *request { return &request{https: true, from: requestFor("/x")} }
			n := testNormalizer(t, tc.g.rule())
			got := n.rewriteResponse(slices.Clone(tc.in), testDate, req(), nil)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if again := n.rewriteResponse(slices.Clone(got), testDate, req(), nil); !slices.Equal(again, tc.want) {
				t.Errorf("rewritten once more: %q", again)
			}
			// Beside another group's cascade, which appends a field: the
			// same bytes, and report_only observes what the applied run
			// does.
			rules := func() []rule {
				return []rule{tc.g.rule(), Group{Cookies: []string{"x", "y"}, OnDelete: "cascade"}.rule()}
			}
			in := append(slices.Clone(tc.in), "x=; Max-Age=0")
			want := append(slices.Clone(tc.want), "x=; Max-Age=0", "y=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0")
			applied, reported := testNormalizer(t, rules()...), testNormalizer(t, rules()...)
			reported.reportOnly = true
			var oa, or recordingObserver
			if got := applied.rewriteResponse(slices.Clone(in), testDate, req(), &oa); !slices.Equal(got, want) {
				t.Errorf("beside a cascade: got  %q\nwant %q", got, want)
			}
			if got := reported.rewriteResponse(slices.Clone(in), testDate, req(), &or); !slices.Equal(got, in) {
				t.Errorf("report_only changed %q into %q", in, got)
			}
			if !slices.Equal(oa, or) {
				t.Errorf("applied observed %q, report_only %q", oa, or)
			}
		})
	}
}

// TestReadsAcrossPlacedOnly: a field the module passes unchanged
// reads across the response only under a path or domain policy (which
// may place a deletion after it); under a group without one, a late
// field like it is rewritten alone, as the writer above left the rest.
func TestReadsAcrossPlacedOnly(t *testing.T) {
	plain := testNormalizer(t, fixed(60, "a"))
	placedN := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Path: "/rd"}))
	v := []string{"a=v\tw; Max-Age=0; Path=/x"}
	if plain.readsAcross(v) {
		t.Errorf("no path or domain policy: readsAcross(%q) = true", v)
	}
	if !placedN.readsAcross(v) {
		t.Errorf("path policy: readsAcross(%q) = false", v)
	}
}
