package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// update makes TestEngineDisagreement write docs/engines.md from what the
// engines did instead of comparing with it.
var update = flag.Bool("update", false, "write docs/engines.md from what TestEngineDisagreement measured")

// enginesDoc is the matrix TestEngineDisagreement writes and compares
// with; ENGINES_DOC names another one (relative to the repository), for a
// run with other engine builds (see docs/verification.md).
var enginesDoc = func() string {
	if doc := os.Getenv("ENGINES_DOC"); doc != "" {
		return filepath.Join("..", doc)
	}
	return filepath.Join("..", "docs", "engines.md")
}()

// regenerate is the one command that writes enginesDoc.
const regenerate = "go test ./e2e/ -run TestEngineDisagreement -update"

// dateMode says what Date header the upstream sends with a case.
type dateMode int

const (
	dateRight       dateMode = iota // the upstream's correct clock (net/http adds it)
	dateSlow                        // 8 hours slow: local time in UTC-8 labelled GMT
	date1970                        // Thu, 01 Jan 1970 00:00:00 GMT
	dateNone                        // no Date; Caddy adds its own, after the module
	dateFastUTC                     // 8 hours fast, its zone written UTC (not GMT)
	dateZoneWeekday                 // the right clock, "PST" where the weekday goes
	date69                          // Wednesday, 01-Jan-69 00:00:00 GMT (RFC 850)
)

// upstreamSkew is how slow the upstream's clock is in dateSlow cases, and
// how fast in dateFastUTC ones.
const upstreamSkew = 8 * time.Hour

// disagreeCase is one odd but real Set-Cookie field for the cookie d.
type disagreeCase struct {
	// label names the row of docs/engines.md and the upstream's route;
	// renaming one makes the comparison report a missing row.
	label string
	// show is the field as the matrix prints it: times relative to the
	// upstream's clock as <now±…>, long runs of one byte by their length,
	// so that the row reads the same in every run and every year.
	show string
	date dateMode
	// field returns the field; now is the upstream's clock (8 hours slow
	// under dateSlow, fast under dateFastUTC), so Expires values move with
	// the day of the run.
	field func(now time.Time) string
	// unknown: an engine's reading of the field depends on a date parser
	// the module does not model, so it must pass the field unchanged under
	// every expiry policy, even where no engine measured here deletes it.
	unknown bool
	// attrRefused: Chromium and Firefox refuse the field for its
	// attributes (SameSite=None or Partitioned without Secure), not for
	// bytes or a length the module cannot read: the module reads it as
	// the engines that store it do, and its policies apply (secure on
	// would make it storable everywhere). The engines that refuse it
	// raw must refuse it through the module too; the others get the
	// fixed policy's lifetime.
	attrRefused bool
}

// imfDate formats t as an IMF-fixdate, the form RFC 6265bis §4.1.1
// asks servers to send.
func imfDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// twoDigitYear formats t in the RFC 850 form with a two-digit year, which
// RFC 6265bis §5.1.1 still parses (70–99 as 19xx, 0–69 as 20xx).
func twoDigitYear(t time.Time) string { return t.UTC().Format("Mon, 02-Jan-06 15:04:05 GMT") }

// fixedField returns a field function for a field that does not depend on the
// clock.
func fixedField(field string) func(time.Time) string {
	return func(time.Time) string { return field }
}

// relativeField returns a field function for prefix + Expires=<now+d> + suffix.
func relativeField(prefix string, d time.Duration, suffix string) func(time.Time) string {
	return func(now time.Time) string { return prefix + imfDate(now.Add(d)) + suffix }
}

// zonedField returns a field function for prefix + an Expires at now+d,
// its digits in UTC but its zone written as zone: engines that read the
// zone (Firefox, libsoup) move the instant, Chromium does not.
func zonedField(prefix string, d time.Duration, zone string) func(time.Time) string {
	return func(now time.Time) string {
		return prefix + now.Add(d).UTC().Format("Mon, 02 Jan 2006 15:04:05") + " " + zone
	}
}

// Long attribute values and cookie sizes. RFC 6265bis §5.6 ignores a
// cookie-av whose value is over 1024 octets (so 1024 counts and 1025 does
// not), and §5.7 step 3 drops a cookie whose name plus value is over 4096
// octets.
var (
	zeros1024     = strings.Repeat("0", 1024)
	zeros1025     = strings.Repeat("0", 1025)
	zeros1100x    = strings.Repeat("0", 1096) + "3600"
	domain1100    = strings.Repeat("a", 1092) + ".example"
	flag1100      = strings.Repeat("x", 1100)
	value4095     = strings.Repeat("x", 4095)
	value4096     = strings.Repeat("x", 4096)
	yy70Date      = twoDigitYear(time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC))
	yy38Date      = twoDigitYear(time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC)) // 2^31 s after the epoch
	yy50Date      = twoDigitYear(time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC))
	date1970Value = "Thu, 01 Jan 1970 00:00:00 GMT"
	date69Value   = "Wednesday, 01-Jan-69 00:00:00 GMT"
)

// disagreeCases are the fields measured, each sent after d=old has been
// stored for an hour, so that a deletion (d gone) can be told from a
// rejection (d=old untouched).
var disagreeCases = []disagreeCase{
	// Controls: what every engine agrees on.
	{label: "maxage", show: "d=new; Max-Age=3600", field: fixedField("d=new; Max-Age=3600")},
	{label: "session", show: "d=new", field: fixedField("d=new")},
	{label: "delete", show: "d=; Max-Age=0", field: fixedField("d=; Max-Age=0")},

	// Max-Age syntax. RFC 6265bis §5.6.2: a first character other than a
	// DIGIT or '-', or any later non-DIGIT, makes the attribute ignored;
	// a value ≤ 0 deletes. Chromium accepts a leading '+'; Firefox's
	// older parser read the value with sscanf("%lld"), which skips
	// leading spaces and stops at the first non-digit.
	{label: "ma-plus5", show: "d=new; Max-Age=+5", field: fixedField("d=new; Max-Age=+5")},
	{label: "ma-plus0", show: "d=new; Max-Age=+0", field: fixedField("d=new; Max-Age=+0")},
	{label: "ma-minus0", show: "d=new; Max-Age=-0", field: fixedField("d=new; Max-Age=-0")},
	{label: "ma-minus1", show: "d=new; Max-Age=-1", field: fixedField("d=new; Max-Age=-1")},
	{label: "ma-leading-zeros", show: "d=new; Max-Age=0003600", field: fixedField("d=new; Max-Age=0003600")},
	{label: "ma-inner-space", show: "d=new; Max-Age=36 00", field: fixedField("d=new; Max-Age=36 00")},
	{label: "ma-leading-space", show: "d=new; Max-Age= 3600", field: fixedField("d=new; Max-Age= 3600")},
	{label: "ma-0abc", show: "d=new; Max-Age=0abc", field: fixedField("d=new; Max-Age=0abc")},
	{label: "ma-3600abc", show: "d=new; Max-Age=3600abc", field: fixedField("d=new; Max-Age=3600abc")},

	// Attribute values at the 1024-octet limit of RFC 6265bis §5.6.
	{label: "ma-1024-zeros", show: "d=; Max-Age=0…0 (1024 zeros)", field: fixedField("d=; Max-Age=" + zeros1024)},
	{label: "ma-1025-zeros", show: "d=; Max-Age=0…0 (1025 zeros)", field: fixedField("d=; Max-Age=" + zeros1025)},
	{label: "ma-0-then-1100", show: "d=; Max-Age=0; Max-Age=0…03600 (1100 bytes)", field: fixedField("d=; Max-Age=0; Max-Age=" + zeros1100x)},
	{label: "ma-3600-then-1025-zeros", show: "d=new; Max-Age=3600; Max-Age=0…0 (1025 zeros)", field: fixedField("d=new; Max-Age=3600; Max-Age=" + zeros1025)},
	// A Domain over 1024 octets: Chromium and Firefox ignore it (a
	// host-only cookie), WebKitGTK reads it and refuses the field, whose
	// Domain matches no host.
	{label: "dom-1100-del", show: "d=; Max-Age=0; Domain=a…a.example (1100 bytes)", field: fixedField("d=; Max-Age=0; Domain=" + domain1100)},
	{label: "dom-1100-set", show: "d=new; Max-Age=3600; Domain=a…a.example (1100 bytes)", field: fixedField("d=new; Max-Age=3600; Domain=" + domain1100)},

	// Name plus value at the 4096-octet limit of RFC 6265bis §5.7.
	{label: "size-4096", show: "d=x…x (4095 x); Max-Age=3600", field: fixedField("d=" + value4095 + "; Max-Age=3600")},
	{label: "size-4097", show: "d=x…x (4096 x); Max-Age=3600", field: fixedField("d=" + value4096 + "; Max-Age=3600")},

	// Max-Age against Expires. RFC 6265bis §5.7 step 3: Max-Age wins
	// wherever it stands; libsoup keeps whichever comes last.
	{label: "ma-then-past", show: "d=new; Max-Age=3600; Expires=<now-1h>", field: relativeField("d=new; Max-Age=3600; Expires=", -time.Hour, "")},
	{label: "past-then-ma", show: "d=new; Expires=<now-1h>; Max-Age=3600", field: func(now time.Time) string {
		return "d=new; Expires=" + imfDate(now.Add(-time.Hour)) + "; Max-Age=3600"
	}},
	{label: "ma0-then-future", show: "d=new; Max-Age=0; Expires=<now+1h>", field: relativeField("d=new; Max-Age=0; Expires=", time.Hour, "")},
	{label: "future-then-ma0", show: "d=new; Expires=<now+1h>; Max-Age=0", field: func(now time.Time) string {
		return "d=new; Expires=" + imfDate(now.Add(time.Hour)) + "; Max-Age=0"
	}},

	// Two-digit years (RFC 6265bis §5.1.1 step 3 and 4) and lifetimes past
	// the 400-day cap of RFC 6265bis §5.5.
	{label: "yy70", show: "d=new; Expires=" + yy70Date, field: fixedField("d=new; Expires=" + yy70Date)},
	{label: "yy38", show: "d=new; Expires=" + yy38Date, field: fixedField("d=new; Expires=" + yy38Date)},
	{label: "yy50", show: "d=new; Expires=" + yy50Date, field: fixedField("d=new; Expires=" + yy50Date)},
	{label: "exp-500d", show: "d=new; Expires=<now+500d>", field: relativeField("d=new; Expires=", 500*24*time.Hour, "")},

	// The upstream's Date header. Chromium and Firefox measure Expires
	// from the response's Date when they can, to absorb a server's wrong
	// clock; the module measures from Date too, and from its own clock
	// when there is none.
	{label: "date-slow-exp", show: "Date: <now> (8 h slow); d=new; Expires=<now+1h>", date: dateSlow, field: relativeField("d=new; Expires=", time.Hour, "")},
	{label: "date-slow-ma", show: "Date: <now> (8 h slow); d=new; Max-Age=3600", date: dateSlow, field: fixedField("d=new; Max-Age=3600")},
	{label: "date-1970", show: "Date: " + date1970Value + "; d=new; expires=Thu, 01-Jan-1970 00:00:01 GMT", date: date1970, field: fixedField("d=new; expires=Thu, 01-Jan-1970 00:00:01 GMT")},
	{label: "date-none", show: "no Date from the upstream; d=new; Expires=<now+1h>", date: dateNone, field: relativeField("d=new; Expires=", time.Hour, "")},

	// The engines' own parsers. Chromium and Firefox read the last Max-Age
	// as sent, and when it is not a number fall back on the last Expires,
	// not on an earlier Max-Age; Firefox deletes on a Max-Age starting
	// with '-'. libsoup reads every Max-Age with strtol ("" is 0) and cuts
	// it to a C int, lets an Expires it cannot read make a session cookie,
	// and stops reading a field at a control byte (HTAB too) or at a ','
	// in a name. Firefox and libsoup read an Expires' zone; the three date
	// parsers disagree on years of one or three digits and on junk.
	{label: "ma-invalid-last", show: "d=new; Expires=<now-1h>; Max-Age=3600; Max-Age=abc", field: relativeField("d=new; Expires=", -time.Hour, "; Max-Age=3600; Max-Age=abc")},
	{label: "ma-bare-last", show: "d=new; Expires=<now-1h>; Max-Age=3600; Max-Age", field: relativeField("d=new; Expires=", -time.Hour, "; Max-Age=3600; Max-Age")},
	{label: "ma-plus-last", show: "d=new; Expires=<now-1h>; Max-Age=3600; Max-Age=+5", field: relativeField("d=new; Expires=", -time.Hour, "; Max-Age=3600; Max-Age=+5")},
	{label: "ma-minus-abc", show: "d=new; Max-Age=-abc", field: fixedField("d=new; Max-Age=-abc")},
	{label: "ma-empty", show: "d=new; Max-Age=", field: fixedField("d=new; Max-Age=")},
	{label: "ma-2pow32", show: "d=new; Max-Age=4294967296", field: fixedField("d=new; Max-Age=4294967296")},
	{label: "ma-2pow32-plus60", show: "d=new; Max-Age=4294967356", field: fixedField("d=new; Max-Age=4294967356")},
	{label: "ma-2pow32-minus1", show: "d=new; Max-Age=4294967295", field: fixedField("d=new; Max-Age=4294967295")},
	{label: "ma-19-digits-padded", show: "d=new; Max-Age=0…03600 (19 digits)", field: fixedField("d=new; Max-Age=000000000000000" + "3600")},
	{label: "ma0-tab", show: "d=new; Max-Age=0<HTAB>; Max-Age=3600", field: fixedField("d=new; Max-Age=0\t; Max-Age=3600")},
	// libsoup 3.2 skips a HTAB in the white space before a name or a
	// value (its skip_lws), where one after a name or a value stops it.
	{label: "ma0-lead-tab-name", show: "d=new; Max-Age=0;<HTAB>Max-Age=3600", field: fixedField("d=new; Max-Age=0;\tMax-Age=3600")},
	{label: "ma0-lead-tab-value", show: "d=new; Max-Age=0; Max-Age=<HTAB>3600", field: fixedField("d=new; Max-Age=0; Max-Age=\t3600")},
	{label: "tab-in-attr-value", show: "d=new; Max-Age=3600; X=p<HTAB>q", field: fixedField("d=new; Max-Age=3600; X=p\tq")},
	{label: "delete-tab-in-attr-value", show: "d=; Max-Age=0; X=p<HTAB>q", field: fixedField("d=; Max-Age=0; X=p\tq")},
	{label: "tab-in-value", show: "d=n<HTAB>w; Max-Age=3600", field: fixedField("d=n\tw; Max-Age=3600")},
	{label: "tab-in-attr-name", show: "d=new; Max-Age=3600; F<HTAB>o=1", field: fixedField("d=new; Max-Age=3600; F\to=1")},
	// A byte over 0x7f (UTF-8 é): Chromium and Firefox read on; an
	// engine that compares a signed char with ' ' stops there as at a
	// tab.
	{label: "ma0-nonascii-attr", show: "d=new; Max-Age=0; X=é; Max-Age=3600", field: fixedField("d=new; Max-Age=0; X=\u00e9; Max-Age=3600")},
	{label: "ma3600-nonascii-attr", show: "d=new; Max-Age=3600; X=é; Max-Age=0", field: fixedField("d=new; Max-Age=3600; X=\u00e9; Max-Age=0")},
	{label: "nonascii-value", show: "d=né; Max-Age=3600", field: fixedField("d=n\u00e9; Max-Age=3600")},
	{label: "ma-nonascii", show: "d=new; Max-Age=é", field: fixedField("d=new; Max-Age=\u00e9")},
	// Past 18 digits the engines' integer overflows differ, which the
	// module does not model: Chromium and Firefox stop at the overflow,
	// before the junk.
	{label: "ma-overflow-junk", show: "d=new; Max-Age=99999999999999999999x", field: fixedField("d=new; Max-Age=99999999999999999999x"), unknown: true},
	// Attributes browsers need Secure beside (RFC 6265bis §5.6 step
	// 10, CHIPS): a field without it is refused where they check.
	{label: "samesite-none-insecure", show: "d=new; Max-Age=3600; SameSite=None", field: fixedField("d=new; Max-Age=3600; SameSite=None"), attrRefused: true},
	{label: "partitioned-insecure", show: "d=new; Max-Age=3600; Partitioned", field: fixedField("d=new; Max-Age=3600; Partitioned"), attrRefused: true},
	// The same flags with a value over 1024 bytes (RFC 6265bis §5.6
	// ignores such an attribute): Chromium ignores them, Firefox reads
	// the flag anyway, so it refuses the first field and stores the
	// second, which Chromium refuses.
	{label: "partitioned-1100-insecure", show: "d=new; Max-Age=3600; Partitioned=x…x (1100 bytes)", field: fixedField("d=new; Max-Age=3600; Partitioned=" + flag1100), attrRefused: true},
	{label: "none-secure-1100", show: "d=new; Max-Age=3600; SameSite=None; Secure=x…x (1100 bytes)", field: fixedField("d=new; Max-Age=3600; SameSite=None; Secure=" + flag1100), attrRefused: true},
	{label: "ma0-comma-name", show: "d=new; Max-Age=0; a,b; Max-Age=3600", field: fixedField("d=new; Max-Age=0; a,b; Max-Age=3600")},
	{label: "exp-zone-plus1200", show: "d=new; Expires=<now+6h, as UTC> +1200", field: zonedField("d=new; Expires=", 6*time.Hour, "+1200")},
	// A numeric zone of zero, as Ruby's Time#rfc2822 (Rack before 2.1),
	// Python's email.utils.formatdate and PHP's date('r') write UTC
	// dates, and the zone name UTC.
	{label: "exp-zone-minus0000", show: "d=new; Expires=<now+1h, as UTC> -0000", field: zonedField("d=new; Expires=", time.Hour, "-0000")},
	{label: "exp-zone-plus0000", show: "d=new; Expires=<now+1h, as UTC> +0000", field: zonedField("d=new; Expires=", time.Hour, "+0000")},
	{label: "exp-zone-utc", show: "d=new; Expires=<now+1h, as UTC> UTC", field: zonedField("d=new; Expires=", time.Hour, "UTC")},
	{label: "exp-year-5", show: "d=new; Expires=Tue, 24 Nov 5 12:00:00 GMT", field: fixedField("d=new; Expires=Tue, 24 Nov 5 12:00:00 GMT")},
	{label: "exp-year-126", show: "d=new; Expires=Tue, 24 Nov 126 12:00:00 GMT", field: fixedField("d=new; Expires=Tue, 24 Nov 126 12:00:00 GMT")},
	{label: "ma-then-exp-garbage", show: "d=new; Max-Age=90000; Expires=garbage", field: fixedField("d=new; Max-Age=90000; Expires=garbage"), unknown: true},
	{label: "exp-junk", show: "d=new; Expires=Nov 05abc 2099 12:00:00 07", field: fixedField("d=new; Expires=Nov 05abc 2099 12:00:00 07"), unknown: true},
	{label: "date-fast-utc", show: "Date: <now> (8 h fast, zone UTC); d=new; Expires=<now-7h>", date: dateFastUTC, field: relativeField("d=new; Expires=", -7*time.Hour, "")},
	// NSPR, which Chromium and Firefox read the Date with, takes a zone
	// in the weekday's place (PST: 8 h later), and an RFC 850 year 69 as
	// 2069 (Go reads 1969).
	{label: "date-zone-weekday", show: "Date: PST, <now> GMT; d=new; Expires=<now+1h>", date: dateZoneWeekday, field: relativeField("d=new; Expires=", time.Hour, "")},
	{label: "date-rfc850-69", show: "Date: " + date69Value + "; d=new; Expires=<now+1h>", date: date69, field: relativeField("d=new; Expires=", time.Hour, "")},
}

// newValue is the value d holds if the field of dc is stored.
func (dc disagreeCase) newValue() string {
	nv, _, _ := strings.Cut(dc.field(time.Now()), ";")
	_, v, _ := strings.Cut(nv, "=")
	return strings.TrimSpace(v)
}

// disagreePolicy is one column group of the matrix: Caddy's reverse_proxy alone, or
// with cookie_normalizer for d under one expire setting. All of them are
// served by one Caddy, told apart by a query matcher, so that the suite
// starts Caddy once.
type disagreePolicy struct {
	key    string // column heading, e.g. "12h"
	query  string // value of the policy query parameter; "" for raw
	expire string // the policy line; "" for raw
	// attributes: an attribute policy alone, which must change no
	// engine's reading of the lifetime.
	attributes bool
}

var disagreePolicies = []disagreePolicy{
	{key: "raw"},
	{key: "12h", query: "fixed12h", expire: "expire 12h"},
	{key: "session", query: "session", expire: "expire session"},
	{key: "max 1d", query: "max1d", expire: "expire max 1d"},
	{key: "like", query: "like", expire: "expire like lead"},
	{key: "httponly", query: "httponly", expire: "httponly on", attributes: true},
}

// leaderField is the leader of the like policy, sent in every case
// response next to d.
const leaderField = "lead=1; Max-Age=43200"

// primeField is stored before each measurement.
const primeField = "d=old; Max-Age=3600; Path=/"

// disagreeDirectives configures one cookie_normalizer per policy, each
// behind a query matcher.
func disagreeDirectives() string {
	var b strings.Builder
	for _, p := range disagreePolicies {
		if p.query == "" {
			continue
		}
		fmt.Fprintf(&b, "\t@%s query policy=%s\n\tcookie_normalizer @%s d {\n\t\t%s\n\t}\n", p.query, p.query, p.query, p.expire)
	}
	return b.String()
}

// disagreeApp is the upstream of the suite. It records each field it sends
// for a request carrying a probe parameter, for the byte-for-byte check.
type disagreeApp struct {
	sent sync.Map // probe → field
}

// start serves /prime and one route per case, at the top level so that the
// default path of a field without Path is "/" (RFC 6265bis §5.1.4), the path
// of the primed cookie.
func (a *disagreeApp) start(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /prime", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Set-Cookie", primeField)
		fmt.Fprintln(w, "primed")
	})
	for _, dc := range disagreeCases {
		mux.HandleFunc("GET /"+dc.label, func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			h := w.Header()
			switch dc.date {
			case dateSlow:
				now = now.Add(-upstreamSkew)
				h.Set("Date", imfDate(now))
			case date1970:
				h.Set("Date", date1970Value)
			case dateNone:
				h["Date"] = nil // net/http sends no Date then
			case dateFastUTC:
				now = now.Add(upstreamSkew)
				h.Set("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05")+" UTC")
			case dateZoneWeekday:
				h.Set("Date", "PST"+imfDate(now)[3:])
			case date69:
				h.Set("Date", date69Value)
			}
			field := dc.field(now)
			if probe := r.URL.Query().Get("probe"); probe != "" {
				a.sent.Store(probe, field)
			}
			h.Set("Cache-Control", "no-store")
			h.Add("Set-Cookie", leaderField)
			h.Add("Set-Cookie", field)
			fmt.Fprintln(w, dc.label)
		})
	}
	// httptest.NewServer listens on 127.0.0.1 only.
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// disOutcomeKind is what an engine did with a field.
type disOutcomeKind int

const (
	outFailed     disOutcomeKind = iota // the measurement itself failed
	outDeleted                          // d is gone
	outRejected                         // d=old is still there, unchanged
	outSession                          // d holds the new value until the session ends
	outPersistent                       // d holds the new value until expires
	outOther                            // d holds a value that is neither old nor new
)

// disOutcome is one engine's handling of one field under one policy.
type disOutcome struct {
	kind       disOutcomeKind
	value      string    // d's value, for otherValue
	expires    time.Time // for persistent
	start, end time.Time // when the field's request was sent and answered
}

// live reports whether d holds the field's new value.
func (o disOutcome) live() bool { return o.kind == outSession || o.kind == outPersistent }

// lifetime is the time from the field's arrival to the expiry, measured
// from the middle of the request. Chromium reports expiries with
// fractions of a second; Firefox (BiDi) and WebKit (WebDriver) in whole
// seconds, WebKit truncated and Firefox apparently rounded, so a 5 s
// Max-Age reads anywhere from 4 s to 5.5 s.
func (o disOutcome) lifetime() time.Duration {
	return o.expires.Sub(o.start.Add(o.end.Sub(o.start) / 2))
}

// lifetimeRange is the shortest and the longest the lifetime can be: from
// the answer to the expiry, and from the request to it. A slow request
// widens it rather than moving a comparison's result.
func (o disOutcome) lifetimeRange() (shortest, longest time.Duration) {
	return o.expires.Sub(o.end), o.expires.Sub(o.start)
}

// longerBy reports whether o's lifetime is surely longer than raw's by
// more than expiryTolerance (which covers the whole seconds Firefox and
// WebKit report), whatever the time each request took.
func (o disOutcome) longerBy(raw disOutcome) bool {
	shortest, _ := o.lifetimeRange()
	_, rawLongest := raw.lifetimeRange()
	return shortest > rawLongest+expiryTolerance
}

// cell is the outcome as the matrix prints it; lifetimes are rounded so
// that runs agree.
func (o disOutcome) cell() string {
	switch o.kind {
	case outDeleted:
		return "deleted"
	case outRejected:
		return "rejected"
	case outSession:
		return "session"
	case outPersistent:
		return roundLifetime(o.lifetime())
	case outOther:
		return fmt.Sprintf("stored %.12q", o.value)
	}
	return "error"
}

// roundLifetime prints d in the coarsest unit that keeps it readable, so
// that runs agree. Under 90 s it picks the nearest of 1, 5, 10, 30 and
// 60 s on a logarithmic scale: whole-second expiries blur a lifetime by up
// to a second (see lifetime), which would make a plain rounding flip
// between 4s and 5s from run to run. Above that: minutes under 59.5 min,
// hours under 48 h, days up to 401 days. Anything longer is ">400d": the
// engine did not apply the 400-day cap of RFC 6265bis §5.5, and the exact
// figure would change with the day of the run for the fixed
// two-digit-year dates.
func roundLifetime(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		steps := []float64{1, 5, 10, 30, 60}
		best := steps[0]
		for _, s := range steps[1:] {
			// Past the geometric mean of two steps, the larger is nearer
			// on a logarithmic scale.
			if d.Seconds() > math.Sqrt(best*s) {
				best = s
			}
		}
		return strconv.Itoa(int(best)) + "s"
	case d < 59*time.Minute+30*time.Second:
		return strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Round(time.Hour)/time.Hour)) + "h"
	case d <= 401*24*time.Hour:
		return strconv.Itoa(int(d.Round(24*time.Hour)/(24*time.Hour))) + "d"
	}
	return ">400d"
}

// engineOutcomes is what one engine did with every case under every policy.
type engineOutcomes struct {
	name, version string
	ran           bool
	got           map[string]map[string]disOutcome // case label → policy key → outcome
}

// TestEngineDisagreement sends odd Set-Cookie fields to every engine, once
// through Caddy's reverse_proxy alone and once through cookie_normalizer
// under each policy, and asserts the rule of safety: the module never turns
// a field some engine reads as a deletion into a live cookie, never
// lengthens a lifetime under max, and gives every field no engine deletes
// the fixed lifetime under expire 12h. It writes what it saw to
// docs/engines.md with -update and otherwise logs each difference from it.
func TestEngineDisagreement(t *testing.T) {
	began := time.Now()
	app := &disagreeApp{}
	upstream := app.start(t)
	base := startTLSProxy(t, upstream, disagreeDirectives())

	runs := make([]engineOutcomes, len(engines))
	t.Run("engines", func(t *testing.T) {
		for i, e := range engines {
			runs[i] = engineOutcomes{name: e.name, got: map[string]map[string]disOutcome{}}
			for _, dc := range disagreeCases {
				runs[i].got[dc.label] = map[string]disOutcome{}
			}
			// Each engine is its own browser, so the engines run at the
			// same time; cases within one engine run one after another.
			t.Run(e.name, func(t *testing.T) {
				t.Parallel()
				run := &runs[i]
				run.version = e.open(t)
				run.ran = true
				for _, dc := range disagreeCases {
					t.Run(dc.label, func(t *testing.T) {
						c := e.newClient(t)
						for _, p := range disagreePolicies {
							run.got[dc.label][p.key] = measureCase(t, c, base, dc, p)
						}
					})
				}
			})
		}
	})
	runs = slices.DeleteFunc(runs, func(r engineOutcomes) bool { return !r.ran })
	if len(runs) == 0 {
		t.Fatal("no engine ran")
	}

	kept := checkBytes(t, app, base)
	checkSafety(t, runs, kept)

	doc := renderMatrix(runs, kept)
	if *update {
		if err := os.WriteFile(enginesDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", enginesDoc)
	} else {
		compareMatrix(t, doc)
	}
	t.Logf("suite took %s", time.Since(began).Round(time.Millisecond))
}

// measureCase measures what an engine makes of the case's field under
// policy p (see measureOnce). Firefox and WebKit report expiries in whole
// seconds, so a field they store expiring at its arrival (a Max-Age=0
// that Firefox, now and then, keeps until the second ends) and one that
// lives a second read alike, "1s", or "deleted" when the reading comes
// after the expiry. A reading that short is measured twice more, and the
// outcome two of the three agree on (deleted or live) is kept: one
// engine's timing within a second does not decide a cell.
func measureCase(t *testing.T, c cookieClient, base string, dc disagreeCase, p disagreePolicy) disOutcome {
	t.Helper()
	o := measureOnce(t, c, base, dc, p)
	if o.kind != outPersistent || o.lifetime() >= 1500*time.Millisecond {
		return o
	}
	settled := settleShort([]disOutcome{o, measureOnce(t, c, base, dc, p), measureOnce(t, c, base, dc, p)})
	if settled.kind == outDeleted {
		t.Logf("%s under %s: a cookie expiring within %v, then deleted twice: deleted", dc.label, p.key, o.lifetime().Round(time.Millisecond))
	}
	return settled
}

// settleShort returns the outcome that at least two of three readings
// of one cell agree on, the first of which was a short-lived cookie:
// deleted if two were, else the first live reading.
func settleShort(readings []disOutcome) disOutcome {
	var deleted []disOutcome
	for _, a := range readings {
		if a.kind == outDeleted {
			deleted = append(deleted, a)
		}
	}
	if len(deleted) >= 2 {
		return deleted[0]
	}
	return readings[0]
}

// measureOnce primes the jar with d=old, sends the case's field under
// policy p and reads what became of d.
func measureOnce(t *testing.T, c cookieClient, base string, dc disagreeCase, p disagreePolicy) disOutcome {
	t.Helper()
	fail := func(format string, args ...any) disOutcome {
		t.Errorf("%s under %s: "+format, append([]any{dc.label, p.key}, args...)...)
		return disOutcome{kind: outFailed}
	}
	// Four browser steps, each with the time one step gets elsewhere.
	ctx, cancel := context.WithTimeout(context.Background(), 4*stepTimeout)
	defer cancel()
	if err := c.get(ctx, base+"/prime"); err != nil {
		return fail("priming: %v", err)
	}
	jar, err := c.cookies(ctx)
	if err != nil {
		return fail("reading the primed jar: %v", err)
	}
	old := findCookie(jar, "d")
	if old == nil || old.value != "old" || old.expires.IsZero() {
		return fail("priming left %s, want d=old for 1h", describe(jar))
	}
	primed := *old

	url := base + "/" + dc.label
	if p.query != "" {
		url += "?policy=" + p.query
	}
	o := disOutcome{start: time.Now()}
	err = c.get(ctx, url)
	o.end = time.Now()
	if err != nil {
		return fail("GET %s: %v", url, err)
	}
	if jar, err = c.cookies(ctx); err != nil {
		return fail("reading the jar: %v", err)
	}
	d := findCookie(jar, "d")
	switch {
	case d == nil:
		o.kind = outDeleted
	case d.value == primed.value && d.expires.Sub(primed.expires).Abs() < time.Second:
		o.kind = outRejected
	case d.value != dc.newValue():
		o.kind, o.value = outOther, d.value
	case d.expires.IsZero():
		o.kind = outSession
	case !d.expires.After(time.Now()):
		o.kind = outDeleted // stored already expired: never sent again
	default:
		o.kind, o.expires = outPersistent, d.expires
	}
	return o
}

// checkBytes fetches every case under every policy through Caddy with a
// plain Go client, without a jar, and reports for each whether the d field
// reached the client byte for byte as the upstream sent it.
func checkBytes(t *testing.T, app *disagreeApp, base string) map[string]map[string]bool {
	t.Helper()
	client := jarlessClient(t)
	var probes atomic.Int64
	kept := map[string]map[string]bool{}
	for _, dc := range disagreeCases {
		kept[dc.label] = map[string]bool{}
		for _, p := range disagreePolicies {
			probe := strconv.FormatInt(probes.Add(1), 10)
			url := base + "/" + dc.label + "?probe=" + probe
			if p.query != "" {
				url += "&policy=" + p.query
			}
			got, err := fetchField(client, url)
			if err != nil {
				t.Errorf("%s under %s: %v", dc.label, p.key, err)
				continue
			}
			sent, ok := app.sent.Load(probe)
			if !ok {
				t.Errorf("%s under %s: the upstream recorded no field for probe %s", dc.label, p.key, probe)
				continue
			}
			kept[dc.label][p.key] = got == sent.(string)
			if p.query == "" && got != sent.(string) {
				t.Logf("%s: Caddy alone changed %.80q to %.80q", dc.label, sent, got)
			}
		}
	}
	return kept
}

// fetchField returns the Set-Cookie field for d in the response to url.
func fetchField(client *http.Client, url string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var fields []string
	for _, f := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(f, "d=") {
			fields = append(fields, f)
		}
	}
	if len(fields) != 1 {
		return "", fmt.Errorf("GET %s: %d Set-Cookie fields for d, want 1", url, len(fields))
	}
	return fields[0], nil
}

// checkSafety asserts the rule of safety over every case, engine and
// policy. These are the suite's only failures besides broken measurements.
func checkSafety(t *testing.T, runs []engineOutcomes, kept map[string]map[string]bool) {
	t.Helper()
	for _, dc := range disagreeCases {
		var rawDeleters, rawRejecters, rawCutters []string
		for _, r := range runs {
			switch r.got[dc.label]["raw"].kind {
			case outDeleted:
				rawDeleters = append(rawDeleters, r.name)
			case outRejected:
				rawRejecters = append(rawRejecters, r.name)
			case outOther:
				rawCutters = append(rawCutters, r.name)
			}
		}
		for _, p := range disagreePolicies[1:] {
			if p.attributes {
				checkLifetimeKept(t, runs, dc, p)
				continue
			}
			// A field whose reading in some engine depends on a parser
			// the module does not model passes unchanged.
			if dc.unknown && !kept[dc.label][p.key] {
				t.Errorf("%s under %s: the module changed %q, whose reading it cannot know in every engine", dc.label, p.key, dc.show)
			}
			// A field one engine reads as a deletion is a deletion: the
			// module must pass it untouched, or a log-out would leave a
			// live cookie in that engine.
			if len(rawDeleters) > 0 {
				if !kept[dc.label][p.key] {
					t.Errorf("%s under %s: %s delete(s) %q, but the module changed the field", dc.label, p.key, strings.Join(rawDeleters, ", "), dc.show)
				}
				for _, r := range runs {
					if o := r.got[dc.label][p.key]; r.got[dc.label]["raw"].kind == outDeleted && o.live() {
						t.Errorf("%s under %s: %s deletes d raw but holds d=%.20q (%s) through the module", dc.label, p.key, r.name, dc.newValue(), o.cell())
					}
				}
			}
			// A cookie a major engine refuses (name plus value over 4096
			// octets) passes unchanged, in every engine: a rewrite could not
			// make it storable there, and the module does not guess.
			if len(rawRejecters) > 0 && !dc.attrRefused && !kept[dc.label][p.key] {
				t.Errorf("%s under %s: %s reject(s) %q, but the module changed the field", dc.label, p.key, strings.Join(rawRejecters, ", "), dc.show)
			}
			for _, r := range runs {
				raw, o := r.got[dc.label]["raw"], r.got[dc.label][p.key]
				if raw.kind == outFailed || o.kind == outFailed {
					continue // reported by measure
				}
				switch p.key {
				case "max 1d":
					if outlives(o, raw) {
						t.Errorf("%s under max 1d: %s keeps d %s through the module, %s raw", dc.label, r.name, o.cell(), raw.cell())
					}
				case "12h":
					// The module may read a field more cautiously than
					// any engine measured here does (an old parser's
					// reading, a size limit one engine lacks) and leave it
					// alone; then this fails, on purpose: a fixed policy
					// that leaves a cookie no engine deletes with its old
					// lifetime is what the module exists to prevent.
					//
					// A field some engine refuses raw passes unchanged (see
					// above), so every engine keeps its own raw outcome; so
					// does one an engine stores cut short (libsoup at a
					// byte over 0x7f, outside RFC 6265's cookie-octet),
					// whose attributes after the cut no rewrite reaches
					// there.
					if len(rawDeleters) > 0 || len(rawRejecters) > 0 && !dc.attrRefused || len(rawCutters) > 0 || dc.unknown {
						continue
					}
					if dc.attrRefused && raw.kind == outRejected {
						if o.kind != outRejected {
							t.Errorf("%s under 12h: %s refuses d raw but holds %s through the module", dc.label, r.name, o.cell())
						}
						continue
					}
					lo, hi := o.start.Add(12*time.Hour-expiryTolerance), o.end.Add(12*time.Hour+expiryTolerance)
					if o.kind != outPersistent || o.expires.Before(lo) || o.expires.After(hi) {
						t.Errorf("%s under 12h: %s holds d %s, want persistent for 12h", dc.label, r.name, o.cell())
					}
				}
			}
		}
	}
}

// checkLifetimeKept asserts that an attribute policy alone leaves every
// engine's reading of the lifetime as it was: the same outcome as raw,
// and for a persistent cookie the same lifetime or the same expiry.
func checkLifetimeKept(t *testing.T, runs []engineOutcomes, dc disagreeCase, p disagreePolicy) {
	t.Helper()
	for _, r := range runs {
		raw, o := r.got[dc.label]["raw"], r.got[dc.label][p.key]
		if raw.kind == outFailed || o.kind == outFailed {
			continue // reported by measure
		}
		// A lifetime read from a Max-Age keeps its length, one read from
		// an Expires its instant: the raw and the module's fields are
		// measured seconds or, on a slow machine, minutes apart.
		if o.kind != raw.kind || o.kind == outPersistent && (o.longerBy(raw) || raw.longerBy(o)) && o.expires.Sub(raw.expires).Abs() > expiryTolerance {
			t.Errorf("%s under %s: %s holds d %s through the module, %s raw: the attribute policy changed its lifetime", dc.label, p.key, r.name, o.cell(), raw.cell())
		}
	}
}

// outlives reports whether the module's outcome o keeps d longer than the
// raw outcome raw: a new value where raw stored none, a session cookie where
// raw was persistent, persistent where raw was a session cookie (a session
// cookie must stay one under max), or a later expiry.
func outlives(o, raw disOutcome) bool {
	if !o.live() {
		return false
	}
	if !raw.live() || o.kind != raw.kind {
		return true
	}
	if o.kind == outPersistent {
		return o.longerBy(raw)
	}
	return false
}

// Matrix columns besides the engine × policy cells.
const (
	colCase     = "case"
	colField    = "field"
	colDisagree = "raw engines disagree"
	colKept     = "module left it unchanged under"
)

// renderMatrix prints the runs as docs/engines.md.
func renderMatrix(runs []engineOutcomes, kept map[string]map[string]bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# How browser engines read odd Set-Cookie fields\n\n")
	fmt.Fprintf(&b, "Written by `%s` (e2e/disagree_test.go);\ndo not edit by hand. A normal run of the test compares the table below\nwith what the engines do and logs every difference (and fails on one in\nthe last column, which depends on the module alone).\n\n", regenerate)
	fmt.Fprintf(&b, "Engines measured:\n\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "- %s: %s\n", r.name, r.version)
	}
	b.WriteString(`
Each row is one Set-Cookie field for the cookie d, sent by an upstream on
127.0.0.1 behind Caddy's reverse_proxy, after ` + "`" + primeField + "`" + ` was stored
by a separate response; the same response also sets ` + "`" + leaderField + "`" + `.
` + "`<now±…>`" + ` is an IMF-fixdate relative to the upstream's clock when it
sends the field. When the upstream sends no Date, Caddy adds its own after
the module, so the module sees none and the engines see Caddy's. Columns:

- raw: Caddy's reverse_proxy alone.
- 12h, session, max 1d, like: through ` + "`cookie_normalizer d`" + ` with
  ` + "`expire 12h`, `expire session`, `expire max 1d`, `expire like lead`" + `.
- httponly: through ` + "`cookie_normalizer d`" + ` with ` + "`httponly on`" + ` alone,
  which must leave every engine's reading of the lifetime as it was.

Cells: deleted (d gone), rejected (d=old still there, unchanged),
session (the new value as a session cookie), or the new value's lifetime,
rounded: 1, 5, 10, 30 or 60 s under 90 s (the nearest on a log scale:
Firefox and WebKit report whole seconds), minutes under 59.5 min, hours
under 48 h, days up to 401 days, >400d beyond (no 400-day cap). "stored …" is a value that is
neither old nor new; "error" a failed measurement.

`)
	head := []string{colCase, colField}
	for _, p := range disagreePolicies {
		for _, r := range runs {
			head = append(head, p.key+" "+r.name)
		}
	}
	head = append(head, colDisagree, colKept)
	writeMatrixRow(&b, head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	writeMatrixRow(&b, sep)
	for _, dc := range disagreeCases {
		row := []string{dc.label, "`" + dc.show + "`"}
		var rawCells []string
		for _, p := range disagreePolicies {
			for _, r := range runs {
				c := r.got[dc.label][p.key].cell()
				row = append(row, c)
				if p.key == "raw" {
					rawCells = append(rawCells, c)
				}
			}
		}
		disagree := "no"
		if slices.ContainsFunc(rawCells, func(c string) bool { return c != rawCells[0] }) {
			disagree = "yes"
		}
		var keptUnder []string
		for _, p := range disagreePolicies[1:] {
			if kept[dc.label][p.key] {
				keptUnder = append(keptUnder, p.key)
			}
		}
		k := strings.Join(keptUnder, ", ")
		if k == "" {
			k = "none"
		}
		row = append(row, disagree, k)
		writeMatrixRow(&b, row)
	}
	return b.String()
}

func writeMatrixRow(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// parseMatrix reads the table of a docs/engines.md into case label →
// column heading → cell. Everything outside the table (the header naming
// engine versions, which differ from machine to machine) is ignored.
func parseMatrix(doc string) map[string]map[string]string {
	rows := map[string]map[string]string{}
	var head []string
	sc := bufio.NewScanner(strings.NewReader(doc))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case head == nil:
			head = cells
		case strings.Trim(cells[0], "-: ") == "":
			// the separator row
		default:
			row := map[string]string{}
			for i, c := range cells {
				if i < len(head) {
					row[head[i]] = c
				}
			}
			rows[cells[0]] = row
		}
	}
	return rows
}

// compareMatrix logs every cell of the committed matrix that this run saw
// differently. Differences in the engines' cells are not failures: engines
// change, and the rule of safety is what the suite asserts. A difference
// in which fields the module leaves unchanged is one: the record no longer
// describes the module.
func compareMatrix(t *testing.T, doc string) {
	t.Helper()
	committed, err := os.ReadFile(enginesDoc)
	if err != nil {
		t.Logf("no committed matrix to compare with (%v); write it with: %s", err, regenerate)
		return
	}
	want, got := parseMatrix(string(committed)), parseMatrix(doc)
	diffs := 0
	for _, dc := range disagreeCases {
		w, ok := want[dc.label]
		if !ok {
			t.Logf("matrix: case %s is not in %s", dc.label, enginesDoc)
			diffs++
			continue
		}
		g := got[dc.label]
		cols := make([]string, 0, len(g))
		for col := range g {
			cols = append(cols, col)
		}
		slices.Sort(cols)
		for _, col := range cols {
			wc, ok := w[col]
			switch {
			case !ok:
				t.Logf("matrix: %s: column %q is not in %s", dc.label, col, enginesDoc)
				diffs++
			case wc != g[col] && col == colKept:
				// Which fields the module passes byte for byte
				// depends on the module alone, not on the engines:
				// a difference is a stale record.
				t.Errorf("matrix: %s: %s says the module left it unchanged under %q, this run %q; regenerate it with: %s", dc.label, enginesDoc, wc, g[col], regenerate)
				diffs++
			case wc != g[col]:
				t.Logf("matrix: %s, %s: %s says %q, this run saw %q", dc.label, col, enginesDoc, wc, g[col])
				diffs++
			}
		}
	}
	for label := range want {
		if !slices.ContainsFunc(disagreeCases, func(dc disagreeCase) bool { return dc.label == label }) {
			t.Logf("matrix: %s has case %s, which the suite no longer sends", enginesDoc, label)
			diffs++
		}
	}
	if diffs == 0 {
		t.Logf("matrix: every cell agrees with %s", enginesDoc)
	} else {
		t.Logf("matrix: %d difference(s) from %s; if the engines changed, regenerate it with: %s", diffs, enginesDoc, regenerate)
	}
}

// jarlessClient is an HTTP client without a jar, for reading the fields
// Caddy sends. It skips certificate verification: startTLSProxy's CA is
// made afresh for the test and trusted by nobody.
func jarlessClient(t *testing.T) *http.Client {
	tr := &http.Transport{
		Proxy:           nil, // 127.0.0.1 only, whatever the environment says
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: stepTimeout}
}

// TestSettleShort: of three readings of a cell whose first was a
// short-lived cookie, the outcome two agree on wins.
func TestSettleShort(t *testing.T) {
	short := disOutcome{kind: outPersistent, expires: time.Unix(100, 0)}
	gone := disOutcome{kind: outDeleted}
	for _, tc := range []struct {
		readings []disOutcome
		want     disOutcomeKind
	}{
		{[]disOutcome{short, gone, gone}, outDeleted},
		{[]disOutcome{short, short, gone}, outPersistent},
		{[]disOutcome{short, gone, short}, outPersistent},
		{[]disOutcome{short, short, short}, outPersistent},
	} {
		if got := settleShort(tc.readings).kind; got != tc.want {
			t.Errorf("settleShort(%v) = %v, want %v", tc.readings, got, tc.want)
		}
	}
}
