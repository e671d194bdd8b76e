package cookienormalizer

import (
	"strconv"
	"time"
)

// This file reads a scanned field's lifetime the way each major browser
// engine reads it. They disagree on odd fields, and the module must never
// turn a field that any engine deletes into a live cookie, nor let `max`
// lengthen a lifetime any engine would store. So a field is read the way
// each engine reads it, and a policy acts only on what all readings allow;
// where an engine's reading is not known (a parser not modelled here),
// the field's lifetime is left alone. The readings, from the engines'
// source and the browser suite (docs/engines.md):
//
//   - RFC 6265bis §5.6: the last valid Max-Age (an optional '-' and
//     digits) wins over any Expires, else the last valid Expires (the
//     cookie-date algorithm of §5.1.1); attribute values over 1024 bytes
//     are ignored. No engine reads quite this way; it stands for engines
//     not measured here.
//   - Chromium: the last Max-Age as sent (values over 1024 bytes ignored)
//     decides when it is a number, a '+' or '-' allowed; when it is not,
//     the last Expires as sent decides, and a date it cannot read makes a
//     session cookie. An Expires counts from the response's Date.
//   - Firefox: as Chromium, but a Max-Age starting with '-' deletes the
//     cookie whatever follows, and a '+' is not a number.
//   - libsoup (WebKitGTK): every attribute, whatever its length, in order:
//     a Max-Age that strtol reads whole (a '+' or '-' allowed, and the empty
//     value, which is 0) sets the lifetime, truncated to a C int (-1 is a
//     session cookie, other values ≤ 0 delete); an Expires sets it too, a
//     date it cannot read making a session cookie. So whichever of the two
//     comes last wins. An Expires counts from the clock.
//   - libsoup 3.6.5 and later (read from its source; not the release
//     the browser suite measures in docs/engines.md, but measured by hand
//     in docs/engines-libsoup-3.6.md): as libsoup, but a Max-Age over
//     1024 bytes is skipped.
//
// From 3.6.0, libsoup caps a Max-Age at a year before it cuts it to an
// int. Below the cut that only shortens a lifetime, as Chromium's and
// Firefox's 400 days do: no policy lengthens one through it. Past it, the
// cap keeps a cookie for a year that the earlier releases delete
// (Max-Age=4294967296) or keep for the session: 3.6.5 and later read the
// year, and libsoup's reading stays the cut's, 3.2's and 3.4's. So such a
// field is one some reading deletes and another keeps: the policies leave
// its lifetime alone, and a cascade deletes the member where the keepers
// store it (3.6.0 to 3.6.4 where 3.6.5 does, unless a Path or Domain over
// 1024 bytes, which only 3.6.5 skips, puts it elsewhere).
//
// The engines parse dates with three different parsers; only the forms of
// parseAgreedDate are read alike, and any other Expires that could decide
// an engine's reading makes the field's lifetime unknown. So does a
// Max-Age over 18 digits, and an Expires that Chromium or Firefox would
// count from a Date header the module cannot read.

// maxLifetime saturates parsed lifetimes (about 34,000 years) so that
// arithmetic on them cannot overflow; Chromium and Firefox cap at 400 days anyway.
const maxLifetime = 1 << 40

// maxWrittenLifetime is the longest Max-Age the module writes (2^31-1 s,
// about 68 years): libsoup cuts a Max-Age to a C int, so a longer one
// would read as a deletion or a session cookie there. Config durations
// are checked against it; a `like` leader's longer lifetime is written
// as this.
const maxWrittenLifetime = 1<<31 - 1

// soupMaxAgeCap is the longest Max-Age libsoup 3.6.0 and later read: a
// year, in seconds.
const soupMaxAgeCap = 31536000

// maxAgeDigits is the most digits of a Max-Age read as a number here: past
// it, the engines' integer overflows differ.
const maxAgeDigits = 18

// plainMaxAgeDigits is the most digits of the Max-Age every engine reads
// alike: within a C int, which libsoup truncates to.
const plainMaxAgeDigits = 9

// parseMaxAge reads s, a trimmed Max-Age value: an optional sign ('+' only
// with plus), then digits, at most maxAgeDigits of them after any leading
// zeros, and nothing else. long reports a value of digits only, but too
// many of them, or one whose digits are too many before anything else.
// n is not saturated (see saturate): libsoup's reading needs its low
// bits.
func parseMaxAge(s string, plus bool) (n int64, ok, long bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+' && plus) {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false, false
	}
	significant := 0 // digits from the first that is not 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			// Past maxAgeDigits, Chromium and Firefox have overflowed
			// and stop with the largest number, never reaching the
			// junk (docs/engines.md, ma-overflow-junk): still long.
			return 0, false, long
		}
		if significant > 0 || c != '0' {
			significant++
		}
		if significant > maxAgeDigits {
			long = true // no longer read: n would overflow
			continue
		}
		n = n*10 + int64(c-'0')
	}
	if long {
		return 0, false, true
	}
	if neg {
		n = -n
	}
	return n, true, false
}

// saturate bounds a lifetime to ±maxLifetime.
func saturate(n int64) int64 { return max(min(n, maxLifetime), -maxLifetime) }

// plainMaxAge reads a Max-Age that every engine reads as the same number:
// an optional '-' and 1 to plainMaxAgeDigits digits.
func plainMaxAge(s string) (int64, bool) {
	digits := len(s)
	if digits > 0 && s[0] == '-' {
		digits--
	}
	if digits > plainMaxAgeDigits {
		return 0, false
	}
	n, ok, _ := parseMaxAge(s, false)
	return n, ok
}

// reading is one engine's reading of a field's lifetime.
type reading struct {
	kind readingKind
	val  int64 // Max-Age seconds, or Expires as Unix seconds
}

type readingKind uint8

const (
	readSession readingKind = iota // no lifetime: a session cookie
	readMaxAge                     // val seconds from now
	readExpires                    // at val
	readDeleted                    // deleted, whatever the clocks say
	readUnknown                    // a parser not modelled here decides
)

// expiry is what all readings of a field say about its lifetime.
type expiry struct {
	// deletion: some reading gives a lifetime ≤ 0 from the base time, or
	// lets an Expires not after the proxy's clock decide (WebKitGTK, which
	// reads an Expires on its own clock, deletes that cookie whatever the
	// upstream's Date says).
	deletion bool
	// split: a deletion that some other reading keeps, as a session cookie
	// or with a lifetime counted from the base time (Chromium and Firefox
	// count an Expires from the Date; libsoup lets the last of Max-Age and
	// Expires decide).
	split bool
	// session: every reading finds neither Max-Age nor Expires.
	session bool
	// anySession: some reading does.
	anySession bool
	// agreed: every reading gives the same outcome, so the field has one
	// expiry a `like` follower can copy.
	agreed bool
	// lifetime is the RFC 6265bis reading's, in seconds from the base time,
	// when it is not a session cookie.
	lifetime int64
	// shortest is the shortest lifetime any reading gives, an Expires
	// counted from the later of the base time and the proxy's clock.
	shortest int64

	// lifetimeAttrs counts the Max-Age and Expires attributes, valid or
	// not: a rewrite that sets the lifetime removes them all.
	lifetimeAttrs int

	// unsure: some engine's reading is not known (see the top of this
	// file). Then the policies leave the field's lifetime alone, and it
	// leads no `like` group (agreed is false).
	unsure bool
	// kept marks the readings (1<<byRFC, …) that keep the cookie: a
	// session cookie or a lifetime past the reading's own start (the
	// base time; libsoup's clock). A field Chromium and Firefox keep
	// under a slow upstream Date is kept by them though it is a
	// deletion on the proxy's clock.
	kept uint8
	// unknown marks the readings not known, those that make unsure: a
	// caller that discards a reading (see unreadReadings) is
	// not unsure for its sake.
	unknown uint8
}

// clock is the proxy's clock for one response, read once and only when an
// Expires needs it (reading it is a tenth of a cheap rewrite).
type clock struct {
	now  func() time.Time // nil: wall
	wall *wallClock
	t    int64
	read bool
	// dateUnread: the response has a Date header the module cannot read,
	// so its base time is the clock; Chromium and Firefox, which count an
	// Expires from the Date, may read it.
	dateUnread bool
	// used is set by every reading, so that a caller can tell whether a
	// computation depended on the clock (see tailMemo).
	used bool
}

// unix returns the clock's Unix seconds.
func (c *clock) unix() int64 {
	c.used = true
	return c.seconds()
}

// seconds is unix without marking the clock used: for the base time of a
// response without a usable Date, which the memo's entries are keyed by
// anyway.
func (c *clock) seconds() int64 {
	if !c.read {
		if c.now != nil {
			c.t = c.now().Unix()
		} else {
			c.t = c.wall.unix()
		}
		c.read = true
	}
	return c.t
}

// readExpiry reads f's lifetime under every reading. base is the response's
// base time in Unix seconds, now the proxy's clock.
func readExpiry(f *setCookie, base int64, now *clock) expiry {
	attrs := f.attrs()
	// A field whose last lifetime attribute is a plain Max-Age (digits
	// with at most a '-', within a C int) is read alike by every engine:
	// it is the last Max-Age as sent and the last valid one, and it comes
	// after any Expires. Such is every field the module writes, so a second
	// look at it (a consistency check, a later pass) parses no date. A
	// field with no lifetime attribute is a session cookie everywhere.
	for i := len(attrs) - 1; i >= 0; i-- {
		a := &attrs[i]
		if a.kind != attrMaxAge && a.kind != attrExpires {
			continue
		}
		if a.kind == attrMaxAge {
			if n, ok := plainMaxAge(f.value(a)); ok {
				e := expiry{agreed: true, lifetime: n, shortest: n, deletion: n <= 0}
				if n > 0 {
					e.kept = everyReading
				}
				for j := range attrs {
					if k := attrs[j].kind; k == attrMaxAge || k == attrExpires {
						e.lifetimeAttrs++
					}
				}
				return e
			}
		}
		return readEveryWay(f, base, now)
	}
	return expiry{session: true, anySession: true, agreed: true, kept: everyReading}
}

// The readings readEveryWay combines.
const (
	byRFC = iota
	byChromium
	byFirefox
	byLibsoup
	// byLibsoupSkips: libsoup 3.6.5 and later, which skip a Max-Age
	// over 1024 bytes (see the top of this file).
	byLibsoupSkips
	numReadings

	// everyReading marks them all (see expiry.kept).
	everyReading = 1<<numReadings - 1
)

// readEveryWay is readExpiry for a field the shortcut does not settle: it
// reads the field the way each engine does (see the top of this file).
func readEveryWay(f *setCookie, base int64, now *clock) expiry {
	var (
		e expiry
		// RFC 6265bis: the last valid Max-Age and Expires.
		rfcMaxAge, rfcExpires reading
		rfcHasMaxAge          bool
		rfcHasExpires         bool
		// Chromium and Firefox: the last Max-Age and Expires as sent,
		// within 1024 bytes; maxAgeSet and expiresSet say there is one.
		lastMaxAge            [2]reading // by Chromium, Firefox
		maxAgeValid           [2]bool
		maxAgeSet, expiresSet bool
		lastExpires           reading
		soup                  reading // libsoup's state, attribute by attribute
		// libsoup 3.6.5 and later skip a Max-Age over 1024 bytes,
		// which the earlier releases read (see the top of this file).
		soupSkips reading
	)
	// Chromium and Firefox count an Expires from the response's Date; one
	// the module cannot read makes their reading of any Expires unknown.
	unreadDate := now.dateUnread
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch a.kind {
		case attrMaxAge:
			e.lifetimeAttrs++
			v := f.value(a)
			// Each value read once with a sign allowed (Chromium, libsoup)
			// and once without a '+' (RFC 6265bis, Firefox).
			signed, signedOK, signedLong := parseMaxAge(v, true)
			plain, plainOK, plainLong := parseMaxAge(v, false)
			if !a.oversized() {
				if plainOK {
					rfcMaxAge, rfcHasMaxAge = reading{readMaxAge, saturate(plain)}, true
				}
				maxAgeSet = true
				// Chromium: a sign, then digits.
				switch {
				case signedLong:
					lastMaxAge[0], maxAgeValid[0] = reading{kind: readUnknown}, true
				default:
					lastMaxAge[0], maxAgeValid[0] = reading{readMaxAge, saturate(signed)}, signedOK
				}
				// Firefox: a '-' deletes; else digits only.
				switch {
				case len(v) > 0 && v[0] == '-':
					lastMaxAge[1], maxAgeValid[1] = reading{kind: readDeleted}, true
				case plainLong:
					lastMaxAge[1], maxAgeValid[1] = reading{kind: readUnknown}, true
				default:
					lastMaxAge[1], maxAgeValid[1] = reading{readMaxAge, saturate(plain)}, plainOK
				}
			}
			// libsoup: strtol over the whole value; "" is 0, a lone sign
			// is not a number. Negative values are 0; the rest is cut to
			// 32 bits.
			if !a.eq {
				continue
			}
			var r reading
			switch {
			case v == "":
				r = reading{readMaxAge, 0}
			case signedLong:
				r = reading{kind: readUnknown}
			case signedOK && signed > soupMaxAgeCap:
				// Past the cap, the releases disagree (see the top of
				// this file): the earlier ones read the cut.
				if n32 := int32(signed); n32 == -1 {
					r = reading{kind: readSession}
				} else {
					r = reading{readMaxAge, int64(max(n32, 0))}
				}
				soup = r
				if !a.oversized() {
					soupSkips = reading{readMaxAge, soupMaxAgeCap}
				}
				continue
			case signedOK:
				r = reading{readMaxAge, max(signed, 0)}
			default:
				continue // not a number: neither release reads it
			}
			soup = r
			if !a.oversized() {
				soupSkips = r
			}
		case attrExpires:
			e.lifetimeAttrs++
			v := f.value(a)
			t, agreed := parseAgreedDate(v)
			if !a.oversized() {
				if rt, ok := parseCookieDate(v); ok {
					rfcExpires, rfcHasExpires = reading{readExpires, rt.Unix()}, true
				}
				expiresSet = true
				switch {
				case v == "":
					lastExpires = reading{kind: readSession} // no date: no Expires
				case agreed && !unreadDate:
					lastExpires = reading{readExpires, t}
				default:
					lastExpires = reading{kind: readUnknown}
				}
			}
			if !a.eq {
				continue
			}
			switch {
			case v == "":
				soup = reading{kind: readSession}
			case agreed:
				soup = reading{readExpires, t}
			default:
				soup = reading{kind: readUnknown}
			}
			soupSkips = soup
		}
	}
	if e.lifetimeAttrs == 0 {
		e.session, e.anySession, e.agreed, e.kept = true, true, true, everyReading
		return e
	}

	var readings [numReadings]reading
	switch {
	case rfcHasMaxAge:
		readings[byRFC] = rfcMaxAge
	case rfcHasExpires:
		readings[byRFC] = rfcExpires
	}
	for k := range 2 {
		switch {
		case maxAgeSet && maxAgeValid[k]:
			readings[byChromium+k] = lastMaxAge[k]
		case expiresSet:
			readings[byChromium+k] = lastExpires
		}
	}
	readings[byLibsoup], readings[byLibsoupSkips] = soup, soupSkips

	type outcome struct {
		session  bool
		lifetime int64 // from base
		shortest int64 // from the later of base and now
	}
	var first outcome
	all, anyLive, anyKept := true, false, false
	e.session = true
	for i, r := range readings {
		var o outcome
		switch r.kind {
		case readUnknown:
			e.unsure = true
			e.unknown |= 1 << i
			e.session = false
			all = false
			continue
		case readSession:
			o.session = true
		case readDeleted:
			o.lifetime, o.shortest = 0, 0
		case readMaxAge:
			o.lifetime, o.shortest = r.val, r.val
		case readExpires:
			o.lifetime, o.shortest = r.val-base, r.val-max(base, now.unix())
			if i == byLibsoup || i == byLibsoupSkips {
				o.lifetime = r.val - soupBase(base, now.unix())
			}
		}
		if i == byRFC {
			first = o
		} else if o != first {
			all = false
		}
		if o.session {
			e.anySession, anyKept = true, true
			e.kept |= 1 << i
			continue
		}
		anyKept = anyKept || o.lifetime > 0
		e.session = false
		if o.lifetime <= 0 || o.shortest <= 0 {
			e.deletion = true
		}
		if o.lifetime > 0 {
			e.kept |= 1 << i
		}
		if !anyLive || o.shortest < e.shortest {
			e.shortest, anyLive = o.shortest, true
		}
	}
	e.agreed = all
	e.lifetime = first.lifetime
	e.split = e.deletion && anyKept
	return e
}

// dropLifetimeDuplicates marks for removal every Max-Age attribute of f
// but the last when it has several, and every Expires but the last, for a
// field a policy rewrites without setting its lifetime: a rewritten field
// has at most one of each. It does so only when the last of each kind it
// thins out is one every engine reads (a plain Max-Age, or an Expires in
// the IMF-fixdate form that the cookie-date algorithm of RFC 6265 §5.1.1
// accepts, within 1024 bytes). Every engine then reads the same lifetime
// from what is left: the engines that let the last valid Max-Age win,
// those that let Expires decide without one, and libsoup, which honours
// whichever of the two comes last, all find the same last attribute of
// each kind, in the same order. Otherwise (an engine might skip the last
// one and fall back on an earlier one) the field keeps them all, and so
// does a field some reading deletes (base and now as for readExpiry):
// a deletion's lifetime attributes stay as sent. It reports whether it
// marked any.
func dropLifetimeDuplicates(f *setCookie, base int64, now *clock) bool {
	attrs := f.attrs()
	lastMaxAge, lastExpires, maxAges, expires := -1, -1, 0, 0
	for i := range attrs {
		switch attrs[i].kind {
		case attrMaxAge:
			lastMaxAge, maxAges = i, maxAges+1
		case attrExpires:
			lastExpires, expires = i, expires+1
		}
	}
	if maxAges < 2 && expires < 2 {
		return false
	}
	if e := readExpiry(f, base, now); e.deletion || e.unsure {
		return false
	}
	if maxAges > 1 {
		a := &attrs[lastMaxAge]
		if _, ok := plainMaxAge(f.value(a)); !ok || a.oversized() {
			return false
		}
	}
	if expires > 1 {
		a := &attrs[lastExpires]
		_, imf := parseIMFFixdate(f.value(a))
		if _, ok := parseCookieDate(f.value(a)); !ok || !imf || a.oversized() {
			return false
		}
	}
	for i := range attrs {
		switch a := &attrs[i]; {
		case a.kind == attrMaxAge && maxAges > 1 && i != lastMaxAge,
			a.kind == attrExpires && expires > 1 && i != lastExpires:
			a.drop = true
		}
	}
	return true
}

// latestExpires is the last instant a four-digit year can write.
var latestExpires = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()

// appendLifetime appends "; Expires=<date>; Max-Age=<seconds>" to b: the
// lifetime seconds from base (Unix seconds), as every rewrite writes it.
// Expires comes first: libsoup (WebKitGTK) honours whichever of the two
// comes last, and Max-Age is the one that does not depend on the
// upstream's clock. Both are written because old clients ignore Max-Age.
//
// Only the Max-Age is capped at maxWrittenLifetime (an `expire like`
// leader may live longer): the Expires is the instant itself, so that a
// client reading only Expires sees a follower end with its leader.
func appendLifetime(b []byte, base, seconds int64) []byte {
	b = append(b, "; Expires="...)
	// Unix seconds, compared before they are added: a time.Duration
	// would overflow beyond 292 years.
	at := latestExpires
	if seconds < latestExpires-base {
		at = base + seconds
	}
	b = appendIMFFixdate(b, at)
	b = append(b, "; Max-Age="...)
	return strconv.AppendInt(b, min(seconds, maxWrittenLifetime), 10)
}

// soupBase is the instant libsoup counts an Expires from: its own clock,
// where Chromium and Firefox count from the response's Date. The proxy's
// clock stands in for the browser's; within dateSkewTolerance of the
// Date the two count alike (a Date is written to the second, the
// response takes time to arrive, and a clock that close is not worth an
// `expire like` leader leading nothing).
func soupBase(base, now int64) int64 {
	if d := now - base; d > dateSkewTolerance || d < -dateSkewTolerance {
		return now
	}
	return base
}

// dateSkewTolerance is how far, in seconds, the response's Date may be
// from the proxy's clock for libsoup's reading of an Expires to count as
// Chromium's and Firefox's: a minute, as a slide stamp may be ahead.
const dateSkewTolerance = 60
