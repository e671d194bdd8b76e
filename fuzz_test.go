package cookienormalizer

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds are Set-Cookie values from the README examples and the edge cases
// of the table tests.
var fuzzSeeds = []string{
	"session_id=abc; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax",
	"user_id__insecure=42; Path=/; Secure",
	"session_id=; Max-Age=0; Path=/",
	"session_id=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/",
	"a=1; Max-Age=100; max-age=90000; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
	`a="x, y"; Path=/; Priority=High`,
	"a=1; Max-Age=abc",
	"a = 1 ;  max-age = 100 ;\tPath=/ ; Secure",
	"a=1; Path=/;",
	"a=1; Max-Age=99999999999999999999999999",
	"a; Max-Age=5",
	"=1; Max-Age=5",
	"a=1\x01; Max-Age=5",
	"a=1; Max-Age=-1",
	"b=1; Expires=Tue, 24 Nov 2026 18:00:00 GMT; Expires=Thu, 26 Nov 2026 12:00:00 GMT",
	"a=; Max-Age=+0; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
	"a=1; Max-Age=+5",
	"a=1; Max-Age=0abc",
	"c=; Max-Age=0; Max-Age=" + strings.Repeat("0", 1096) + "3600",
	"a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:01 GMT",
	"a=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=3600",
	"a=x; expires=Thu, 01-Jan-70 00:00:01 GMT",
	// Index 22: mode 22 (max, with the attribute policies): flags whose
	// values only WebKitGTK reads.
	"a=1; Secure=" + strings.Repeat("x", 1100) + "; HttpOnly=" + strings.Repeat("y", 1100) + "; Max-Age=60",
	// A Max-Age over 1024 bytes after a past Expires: libsoup 3.6.5 and
	// later skip it and delete, the earlier releases read 5 s.
	"a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=" + strings.Repeat("0", 1100) + "5",
	"a=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=" + strings.Repeat("0", 1100) + "5",
}

// attributesOnly is the mode bit of a group with the attribute policies
// and no expiry policy.
const attributesOnly = 0x80

// attributeOnlySeeds are fields with several lifetime attributes, for the
// group with the attribute policies alone: those whose last ones every
// engine reads lose the others, the rest keep them all.
var attributeOnlySeeds = []string{
	"a=1; Max-Age=100; Path=/; max-age=200",
	"a=2; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=5; expires=Thu, 02 Jan 2031 00:00:00 GMT",
	"a=3; Max-Age=100; Max-Age=+200",
	"a=4; Max-Age=100; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=" + strings.Repeat("0", 1030) + "200",
	"a=5; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Expires=Thu, 02-Jan-2031 00:00:00 GMT",
	"a=; Max-Age=100; Max-Age=0",
	"a=6; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=200; Expires=Wed, 01 Jan 2031 00:00:00 GMT",
}

// maxGrowth bounds what a rewrite adds to a value:
// "; Max-Age=1099511627776; Expires=Fri, 31 Dec 9999 23:59:59 GMT" is 62
// bytes.
const maxGrowth = 64

func FuzzRewrite(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, "l=1; Max-Age=600", uint8(i), uint32(43200), testDate)
	}
	for i, v := range loadDateVectors(f) {
		f.Add("a=1; Expires="+v.Test, "l=1; Expires="+v.Test, uint8(i), uint32(3600), testDate)
	}
	for _, s := range attributeOnlySeeds {
		f.Add(s, "l=1", uint8(attributesOnly), uint32(3600), testDate)
	}
	f.Fuzz(func(t *testing.T, value, leader string, mode uint8, secs uint32, date string) {
		r := fuzzRule(mode, secs)
		n := testNormalizer(t, r)
		in := []string{leader, value}
		once := rewriteAll(n, in, date)
		twice := rewriteAll(n, once, date)
		if !equalStrings(once, twice) {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", in, once, twice)
		}
		clk := n.clock()
		base := time.Unix(n.responseTime(date, &clk), 0).UTC()
		for i := range in {
			checkRewriteInvariants(t, n, r, in[i], once[i], base)
		}
	})
}

// fuzzRule is the group a fuzz input picks: names from a to m match (the
// rest must pass byte for byte), under the expiry policy mode%4 selects,
// with the attribute policies when mode&4 is set; with mode&0x80 set, the
// attribute policies alone (no seed's index has that bit).
func fuzzRule(mode uint8, secs uint32) rule {
	const pattern = "~^[a-m]"
	seconds := 1 + int64(secs)%(800*86400)
	var r rule
	switch mode % 4 {
	case 0:
		r = session(pattern)
	case 1:
		r = fixed(seconds, pattern)
	case 2:
		r = capped(seconds, pattern)
	case 3:
		r = like("l", pattern)
	}
	if mode&attributesOnly != 0 {
		r = rule{patterns: []string{pattern}}
	}
	if mode&4 != 0 || mode&attributesOnly != 0 {
		// Attribute policies too; they apply to deletions as well.
		r.attrs = Group{Secure: on(), HTTPOnly: off(), SameSite: "lax", Path: "/", Domain: "remove"}.attrPolicy()
	}
	return r
}

func checkRewriteInvariants(t *testing.T, n *normalizer, r rule, in, out string, base time.Time) {
	t.Helper()
	name, isCookie := cookieName(in)
	if !isCookie || n.matcher.match(name) < 0 {
		if out != in {
			t.Fatalf("unmatched value changed:\n in  %q\n out %q", in, out)
		}
		return
	}
	// With attribute policies a deletion changes, but not its lifetime:
	// compare what is left of both once the policies' attributes are gone.
	kept := func(v string) string { return v }
	if r.attrs.any() {
		kept = withoutPolicyAttributes
	}
	var f setCookie
	if f.scan(in, lifetimeKinds, 0) && !f.rejected && readExpiry(&f, base.Unix(), &clock{now: func() time.Time { return testClock }}).deletion && kept(out) != kept(in) {
		t.Fatalf("deletion changed:\n in  %q\n out %q", in, out)
	}
	// Checked with a reader written apart from the module's: a field that
	// the RFC's reading of Max-Age or Chromium's (which accepts '+') makes
	// a deletion must keep its lifetime attributes.
	for _, plus := range []bool{false, true} {
		if referenceMaxAge(in, plus) <= 0 && kept(out) != kept(in) {
			t.Fatalf("deletion under the %s reading of Max-Age changed:\n in  %q\n out %q", readingName(plus), in, out)
		}
	}
	checkEngineReadings(t, r, in, out)
	if r.attrs.any() {
		checkAttributeReadings(t, in, out)
	}
	if out == in {
		return
	}
	if r.expiry == expireMax && !equalStrings(lifetimeAttributes(out), lifetimeAttributes(in)) {
		// max never lengthens: the output's lifetime is at most the input's
		// under every reading of Max-Age, and a session cookie stays one.
		for _, plus := range []bool{false, true} {
			before, after := referenceMaxAge(in, plus), referenceMaxAge(out, plus)
			if before == noMaxAge && !hasExpires(in) {
				t.Fatalf("max gave a session cookie (%s reading) a lifetime:\n in  %q\n out %q", readingName(plus), in, out)
			}
			if before != noMaxAge && after > before {
				t.Fatalf("max lengthened %d to %d (%s reading):\n in  %q\n out %q", before, after, readingName(plus), in, out)
			}
		}
	}
	nv := strings.TrimRight(in[:strings.IndexByte(in+";", ';')], " \t")
	if !strings.HasPrefix(out, nv) {
		t.Fatalf("name=value bytes changed:\n in  %q\n out %q", in, out)
	}
	// A field whose lifetime was rewritten has at most one of each.
	if outLife := lifetimeAttributes(out); !equalStrings(outLife, lifetimeAttributes(in)) {
		var maxAges, expires int
		for _, a := range outLife {
			if strings.HasPrefix(a, "max-age") {
				maxAges++
			} else {
				expires++
			}
		}
		if maxAges > 1 || expires > 1 {
			t.Fatalf("%d Max-Age and %d Expires in %q", maxAges, expires, out)
		}
	}
	for _, c := range "\r\n\x00" {
		if strings.ContainsRune(out, c) && !strings.ContainsRune(in, c) {
			t.Fatalf("%q appeared in %q", c, out)
		}
	}
	growth := maxGrowth
	if r.attrs.any() {
		growth += len("; Path=/; Secure; SameSite=Lax")
	}
	if len(out) > len(in)+growth {
		t.Fatalf("grew by %d bytes: %q", len(out)-len(in), out)
	}
}

// withoutPolicyAttributes drops the attributes the fuzzed attribute
// policies touch (and empty ones), so that what is left can be compared.
func withoutPolicyAttributes(v string) string {
	parts := strings.Split(v, ";")
	out := parts[:1]
	for _, a := range parts[1:] {
		name, _, _ := strings.Cut(a, "=")
		switch strings.ToLower(strings.Trim(name, " \t")) {
		case "secure", "httponly", "samesite", "path", "domain", "":
			continue
		}
		out = append(out, strings.Trim(a, " \t"))
	}
	return strings.Join(out, ";")
}

// lifetimeAttributes returns the Max-Age and Expires attributes of v,
// trimmed, names in lower case.
func lifetimeAttributes(v string) []string {
	var out []string
	for _, a := range refAttrs(v) {
		if a.name == "max-age" || a.name == "expires" {
			out = append(out, a.name+"="+a.value)
		}
	}
	return out
}

// refAttr is an attribute of a Set-Cookie field as browsers split one: at
// each ';', the name trimmed and in lower case, the value trimmed.
type refAttr struct{ name, value string }

// refAttrs returns the attributes of v in order, the name=value pair left
// out.
func refAttrs(v string) []refAttr {
	var out []refAttr
	for _, a := range strings.Split(v, ";")[1:] {
		name, val, _ := strings.Cut(a, "=")
		out = append(out, refAttr{strings.ToLower(strings.Trim(name, " \t")), strings.Trim(val, " \t")})
	}
	return out
}

// refMaxAge reads a trimmed Max-Age value: digits after an optional '-',
// or '+' too with plus. A value past 2^50 seconds reads as 2^50, a very
// long life, so that adding it to a time cannot overflow.
func refMaxAge(val string, plus bool) (int64, bool) {
	digits, neg := val, false
	if digits != "" && (digits[0] == '-' || digits[0] == '+' && plus) {
		digits, neg = digits[1:], digits[0] == '-'
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > 1<<50 {
		n = 1 << 50
	}
	if neg {
		n = -n
	}
	return n, true
}

// noMaxAge is what referenceMaxAge returns for a field without a valid
// Max-Age.
const noMaxAge = math.MaxInt64

// referenceMaxAge is the last valid Max-Age of a Set-Cookie value, read as
// RFC 6265bis §5.6.2 says (an optional '-' and digits) or, with plus, as
// Chromium also reads a '+'; values over 1024 bytes are ignored. It is
// written plainly, apart from the module's scanner, to check it.
func referenceMaxAge(v string, plus bool) int64 {
	got := int64(noMaxAge)
	for _, a := range refAttrs(v) {
		if a.name != "max-age" || len(a.value) > 1024 {
			continue
		}
		if n, ok := refMaxAge(a.value, plus); ok {
			got = n
		}
	}
	return got
}

// refEngine is how one browser engine reads the lifetime of a Set-Cookie
// field, from its source and as the browser suite measured it
// (docs/engines.md), written apart from the module's reader to check it.
type refEngine struct {
	name string
	// plus: a Max-Age may start with '+' (Chromium, libsoup).
	plus bool
	// minusDeletes: a Max-Age starting with '-' deletes, whatever follows
	// (Firefox).
	minusDeletes bool
	// libsoup: every attribute counts, in order, whatever its length; a
	// Max-Age is read by strtol ("" is 0) and cut to a C int; an Expires
	// it cannot read makes a session cookie; whichever comes last wins.
	// Otherwise (Chromium, Firefox) the last Max-Age as sent decides when
	// it is a number, else the last Expires as sent, among the attributes
	// within 1024 bytes.
	libsoup bool
	// skipsLong: libsoup 3.6.5 and later skip a Max-Age, Path or Domain
	// whose value is over 1024 bytes (from its source).
	skipsLong bool
	// flagsAnyLength: a Secure, HttpOnly or Partitioned counts whatever
	// its value's length (Firefox, measured: docs/engines.md).
	flagsAnyLength bool
}

var refEngines = []refEngine{
	{name: "Chromium", plus: true},
	{name: "Firefox", minusDeletes: true, flagsAnyLength: true},
	{name: "WebKit", plus: true, libsoup: true},
	{name: "WebKit (libsoup 3.6.5)", plus: true, libsoup: true, skipsLong: true},
}

// refReading is an engine's reading of a field received at the proxy's
// clock: a session cookie, one that expires at an instant (Unix seconds;
// not after the clock: a deletion), or unknown: a value whose reading the
// engine's own parser decides, which this reference does not model (a
// date in a form the engines read differently, a number past 18 digits).
type refReading struct {
	session bool
	expires int64
	unknown bool
}

func (r refReading) deletion(now int64) bool { return !r.session && !r.unknown && r.expires <= now }

func (r refReading) String() string {
	switch {
	case r.unknown:
		return "unknown"
	case r.session:
		return "session"
	}
	return strconv.FormatInt(r.expires, 10)
}

// refDate reads an Expires value in a form every engine reads alike (see
// agreedDateForm), else reports false.
func refDate(v string) (int64, bool) {
	if !agreedDateForm.MatchString(v) {
		return 0, false
	}
	for _, layout := range []string{
		"Mon, 02 Jan 2006 15:04:05 GMT", "Mon, 02 Jan 2006 15:04:05 UTC", "Mon, 02 Jan 2006 15:04:05 -0000", "Mon, 02 Jan 2006 15:04:05 +0000",
		"Mon, 02-Jan-2006 15:04:05 GMT", "Mon, 02-Jan-06 15:04:05 GMT",
	} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Year() < 1601 {
				return 0, false
			}
			return t.Unix(), true
		}
	}
	return 0, false
}

// refNumber reads a Max-Age as an engine's integer parser does: an
// optional sign ('+' only with plus), then digits; long for more than 18
// digits after leading zeros, where the engines' overflows differ.
func refNumber(v string, plus bool) (n int64, ok, long bool) {
	digits := v
	if digits != "" && (digits[0] == '-' || digits[0] == '+' && plus) {
		digits = digits[1:]
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false, false
	}
	if len(strings.TrimLeft(digits, "0")) > 18 {
		return 0, false, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil, false
}

// reads reports whether e reads attribute a: one whose value is over
// 1024 bytes only libsoup before 3.6.5 does, and the later releases but
// for a Max-Age, Path or Domain; Firefox reads a flag that long.
func (e refEngine) reads(a refAttr) bool {
	switch {
	case len(a.value) <= 1024:
		return true
	case e.libsoup:
		return !e.skipsLong || a.name != "max-age" && a.name != "path" && a.name != "domain"
	}
	return e.flagsAnyLength && (a.name == "secure" || a.name == "httponly" || a.name == "partitioned")
}

// refStopsEarly reports whether libsoup stops reading v before its end,
// where the other engines read on: at a byte below 0x20 (HTAB too, but
// for one in the white space before a name or a value, which libsoup
// skips) or over 0x7f (a signed char there), or at a ',' in the cookie's or an
// attribute's name (and 0x7f, which Chromium and Firefox refuse). Such a field's
// reading is not modelled here; the module passes it unchanged.
func refStopsEarly(v string) bool {
	for _, part := range strings.Split(v, ";") {
		name, value, _ := strings.Cut(part, "=")
		if strings.Contains(name, ",") {
			return true
		}
		// libsoup 3.2 skips the spaces and HTABs before a name or a
		// value, and stops at the first odd byte after them.
		for _, s := range [...]string{name, value} {
			if strings.ContainsFunc(strings.TrimLeft(s, " \t"), func(c rune) bool { return c < 0x20 || c >= 0x7f }) {
				return true
			}
		}
	}
	return false
}

// read returns e's reading of v received at now.
func (e refEngine) read(v string, now int64) refReading {
	if refStopsEarly(v) {
		return refReading{unknown: true}
	}
	if e.libsoup {
		r := refReading{session: true}
		for _, part := range strings.Split(v, ";")[1:] {
			name, val, hasEq := strings.Cut(part, "=")
			name, val = strings.ToLower(strings.Trim(name, " \t")), strings.Trim(val, " \t")
			if !hasEq {
				continue
			}
			switch name {
			case "max-age":
				if e.skipsLong && len(val) > 1024 {
					continue
				}
				n, ok, long := int64(0), val == "", false
				if !ok {
					n, ok, long = refNumber(val, true)
				}
				switch {
				case long:
					r = refReading{unknown: true}
				case ok:
					n32 := int32(max(n, 0))
					if n32 == -1 {
						r = refReading{session: true}
					} else {
						r = refReading{expires: now + int64(n32)}
					}
				}
			case "expires":
				switch t, ok := refDate(val); {
				case val == "":
					r = refReading{session: true}
				case ok:
					r = refReading{expires: t}
				default:
					r = refReading{unknown: true}
				}
			}
		}
		return r
	}
	var maxAge, expires *refAttr
	attrs := refAttrs(v)
	for i := range attrs {
		a := &attrs[i]
		if len(a.value) > 1024 {
			continue
		}
		switch a.name {
		case "max-age":
			maxAge = a
		case "expires":
			expires = a
		}
	}
	if maxAge != nil {
		if e.minusDeletes && strings.HasPrefix(maxAge.value, "-") {
			return refReading{expires: now}
		}
		n, ok, long := refNumber(maxAge.value, e.plus)
		switch {
		case long:
			return refReading{unknown: true}
		case ok:
			return refReading{expires: now + min(n, 1<<40)}
		}
	}
	if expires != nil {
		switch t, ok := refDate(expires.value); {
		case expires.value == "":
		case ok:
			return refReading{expires: t}
		default:
			return refReading{unknown: true}
		}
	}
	return refReading{session: true}
}

// checkEngineReadings checks a rewrite of in into out under rule r
// against each engine's reading of both, received at the test clock:
// a field an engine deletes stays a deletion there (the rule of safety);
// max gives no engine a longer life, nor a session cookie a lifetime;
// a field whose lifetime session or a fixed duration rewrote is read
// alike by every engine, as that policy says; and without an expiry
// policy every engine reads the lifetime it read before.
func checkEngineReadings(t *testing.T, r rule, in, out string) {
	t.Helper()
	now := testClock.Unix()
	rewrote := !equalStrings(lifetimeAttributes(out), lifetimeAttributes(in))
	for _, e := range refEngines {
		before, after := e.read(in, now), e.read(out, now)
		switch {
		case before.unknown && rewrote:
			t.Fatalf("%s's reading is not known, and the lifetime was rewritten:\n in  %q\n out %q", e.name, in, out)
		case before.unknown:
			continue
		case before.deletion(now) && !after.deletion(now):
			t.Fatalf("%s deleted the cookie, and reads the rewrite as %s:\n in  %q\n out %q", e.name, after, in, out)
		case r.expiry == expireMax && before.session && !after.session:
			t.Fatalf("max gave %s's session cookie an expiry (%s):\n in  %q\n out %q", e.name, after, in, out)
		case r.expiry == expireMax && !before.session && (after.session || after.expires > before.expires):
			t.Fatalf("max lengthened %s's expiry %s to %s:\n in  %q\n out %q", e.name, before, after, in, out)
		case rewrote && r.expiry == expireSession && !after.session:
			t.Fatalf("session: %s reads the rewrite as %s:\n in  %q\n out %q", e.name, after, in, out)
		case r.expiry == expireNone && after != before:
			t.Fatalf("the attribute policies alone changed %s's reading %s to %s:\n in  %q\n out %q", e.name, before, after, in, out)
		case rewrote && r.expiry == expireFixed && (after.session || after.expires != now+r.seconds):
			t.Fatalf("fixed %d s: %s reads the rewrite as %s, want %d:\n in  %q\n out %q", r.seconds, e.name, after, now+r.seconds, in, out)
		}
	}
}

// checkAttributeReadings checks what each engine reads of the fuzzed
// attribute policies (secure on, httponly off, samesite lax, path /,
// domain remove) in a rewritten field: Secure present, HttpOnly absent,
// the SameSite and Path that count Lax and /, no Domain. An attribute
// whose value is over 1024 bytes counts only for WebKitGTK. A field no
// browser stores, which the module passes unchanged, is left out.
func checkAttributeReadings(t *testing.T, in, out string) {
	t.Helper()
	pair, _, _ := strings.Cut(in, ";")
	name, value, isPair := strings.Cut(pair, "=")
	name, value = strings.Trim(name, " \t"), strings.Trim(value, " \t")
	if !isPair || name == "" || len(in) > 8192 || len(name)+len(value) > 4096 || refStopsEarly(in) {
		return // a field no browser stores, or one libsoup stops reading early: passed unchanged
	}
	for _, e := range refEngines {
		var secure, httpOnly, domain bool
		sameSite, path := "", ""
		for _, a := range refAttrs(out) {
			if !e.reads(a) {
				continue
			}
			switch a.name {
			case "secure":
				secure = true
			case "httponly":
				httpOnly = true
			case "domain":
				domain = true
			case "samesite":
				sameSite = strings.ToLower(a.value)
			case "path":
				path = a.value
			}
		}
		if !secure || httpOnly || domain || sameSite != "lax" || path != "/" {
			t.Fatalf("%s reads Secure %t, HttpOnly %t, a Domain %t, SameSite %q, Path %q; the policies say Secure, no HttpOnly, no Domain, Lax, /:\n in  %q\n out %q",
				e.name, secure, httpOnly, domain, sameSite, path, in, out)
		}
	}
}

// hasExpires reports whether v has an Expires attribute.
func hasExpires(v string) bool {
	for _, a := range refAttrs(v) {
		if a.name == "expires" {
			return true
		}
	}
	return false
}

func readingName(plus bool) string {
	if plus {
		return "Chromium"
	}
	return "RFC"
}

func FuzzParseCookieDate(f *testing.F) {
	for _, v := range loadDateVectors(f) {
		f.Add(v.Test)
	}
	f.Add("Wed, 09-Jun-2021 10:18:14 GMT")
	f.Add("1:2:3 1 jan 70")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseCookieDate(s)
		if !ok {
			return
		}
		if y := got.Year(); y < 1601 || y > 9999 {
			t.Fatalf("parseCookieDate(%q) = year %d", s, y)
		}
		if got.Location() != time.UTC || got.Nanosecond() != 0 {
			t.Fatalf("parseCookieDate(%q) = %v, want whole seconds in UTC", s, got)
		}
		// What we write as Expires parses back to the same instant.
		again, ok := parseCookieDate(got.Format(imfFixdate))
		if !ok || !again.Equal(got) {
			t.Fatalf("parseCookieDate(%q) = %v, which does not round-trip: %v %v", s, got, again, ok)
		}
	})
}

// TestFuzzReferenceReadsZeroZones: FuzzRewrite's reference engines
// (refDate, written apart from the module's reader to check it) read an
// IMF-fixdate with the zone UTC, +0000 or -0000 as the module does, and
// FuzzRewrite's invariants hold on such a field under expire 12h (mode 1).
func TestFuzzReferenceReadsZeroZones(t *testing.T) {
	for _, tc := range []struct{ name, date, field string }{
		{"minus0000", "Tue, 24 Nov 2026 18:00:00 -0000", "a=1; Expires=Tue, 24 Nov 2026 18:00:00 -0000; Path=/"},
		{"plus0000", "Tue, 24 Nov 2026 18:00:00 +0000", "b=1; Expires=Tue, 24 Nov 2026 18:00:00 +0000"},
		{"utc", "Tue, 24 Nov 2026 18:00:00 UTC", "c=1; Expires=Tue, 24 Nov 2026 18:00:00 UTC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, ok := parseAgreedDate(tc.date)
			if !ok || !agreedDateForm.MatchString(tc.date) {
				t.Fatalf("%q: the module and agreedDateForm no longer read it; this test assumes they do", tc.date)
			}
			if got, ok := refDate(tc.date); !ok || got != want {
				t.Errorf("refDate(%q) = %d, %t; parseAgreedDate and agreedDateForm read it (%d)", tc.date, got, ok, want)
			}
			// FuzzRewrite's body, for mode 1 (expire 12h).
			r := fuzzRule(1, 43200-1)
			n := testNormalizer(t, r)
			in := []string{"l=1; Max-Age=600", tc.field}
			once := rewriteAll(n, in, testDate)
			clk := n.clock()
			base := time.Unix(n.responseTime(testDate, &clk), 0).UTC()
			for i := range in {
				checkRewriteInvariants(t, n, r, in[i], once[i], base)
			}
		})
	}
}
