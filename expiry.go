package cookienormalizer

import (
	"strconv"
	"time"
)

// This file reads a scanned field's lifetime the way each major browser
// engine reads it. They disagree on odd fields, and the module must never
// turn a field that any engine deletes into a live cookie, nor let `max`
// lengthen a lifetime any engine would store. So a field is read under
// every combination of the disagreements below, and a policy acts only on
// what all readings allow.
//
//   - Max-Age syntax. RFC 6265bis §5.6.2 allows an optional '-' and digits
//     (Firefox). Chromium and WebKitGTK also accept a '+' (so "+0" deletes
//     and "+5" lives 5 s). None of the three reads trailing garbage
//     ("0abc" is ignored everywhere), which the engine suite checks.
//   - Attribute values over 1024 bytes. RFC 6265bis, Chromium and Firefox
//     ignore them; WebKitGTK reads them.
//   - Precedence. RFC 6265bis §5.6.2 lets the last valid Max-Age win over
//     any Expires. libsoup (WebKitGTK) honours whichever of Max-Age and
//     Expires comes last.
//
// Expires is read with the RFC 6265 §5.1.1 cookie-date algorithm, which the
// engines implement.

// maxAgeSyntax is one engine's reading of a Max-Age value.
type maxAgeSyntax uint8

const (
	maxAgeRFC    maxAgeSyntax = iota // -?DIGIT+ (RFC 6265bis §5.6.2, Firefox)
	maxAgeSigned                     // [+-]?DIGIT+ (Chromium, WebKitGTK)
	numMaxAgeSyntaxes
)

// maxLifetime saturates parsed lifetimes (about 34,000 years) so that
// arithmetic on them cannot overflow; browsers cap at 400 days anyway.
const maxLifetime = 1 << 40

// parseMaxAge reads s, a trimmed Max-Age value, under syntax.
func parseMaxAge(s string, syntax maxAgeSyntax) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+' && syntax != maxAgeRFC) {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	digits := 0
	for ; digits < len(s); digits++ {
		c := s[digits]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxLifetime {
			n = n*10 + int64(c-'0')
		}
	}
	if digits == 0 {
		return 0, false
	}
	n = min(n, maxLifetime)
	if neg {
		n = -n
	}
	return n, true
}

// lifetimeAttr is the last valid Max-Age or Expires under one reading.
type lifetimeAttr struct {
	ok  bool
	at  int   // index in setCookie.attrs(), for "the last one wins"
	val int64 // Max-Age seconds, or Expires as Unix seconds
}

// expiry is what all readings of a field say about its lifetime.
type expiry struct {
	// deletion: some reading gives a lifetime ≤ 0 from the base time, or
	// lets an Expires not after the proxy's clock decide (a browser with a
	// correct clock deletes that cookie whatever the upstream's Date says).
	deletion bool
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
}

// clock is the proxy's clock for one response, read once and only when an
// Expires needs it (reading it is a tenth of a cheap rewrite).
type clock struct {
	now  func() time.Time // nil: wall
	wall *wallClock
	t    int64
	read bool
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
	// with at most a '-', within 1024 bytes) is read alike by every
	// reading: that Max-Age is the last valid one, and it comes after any
	// Expires. Such is every field the module writes, so a second look at
	// it (a consistency check, a later pass) parses no date. A field with
	// no lifetime attribute is a session cookie under every reading.
	for i := len(attrs) - 1; i >= 0; i-- {
		a := &attrs[i]
		if a.kind != attrMaxAge && a.kind != attrExpires {
			continue
		}
		if a.kind == attrMaxAge && !a.oversized() {
			if n, ok := parseMaxAge(f.value(a), maxAgeRFC); ok {
				e := expiry{agreed: true, lifetime: n, shortest: n, deletion: n <= 0}
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
	return expiry{session: true, anySession: true, agreed: true}
}

// readEveryWay is readExpiry for a field the shortcuts do not settle: it
// reads the field under every reading. (Apart, so that the shortcuts do
// not pay for its tables.)
func readEveryWay(f *setCookie, base int64, now *clock) expiry {
	var (
		// [syntax][oversized counted?]
		maxAge [numMaxAgeSyntaxes][2]lifetimeAttr
		// [oversized counted?]
		expires [2]lifetimeAttr
		e       expiry
		// simple: the field has one valid lifetime attribute, not
		// oversized, without a '+': every reading agrees.
		simple bool
	)
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch a.kind {
		case attrMaxAge:
			e.lifetimeAttrs++
			// The signed syntax accepts all the RFC's does, and reads them
			// the same: parse once.
			value := f.value(a)
			n, ok := parseMaxAge(value, maxAgeSigned)
			if !ok {
				continue
			}
			la := lifetimeAttr{ok: true, at: i, val: n}
			plus := value[0] == '+'
			maxAge[maxAgeSigned][1] = la
			if !plus {
				maxAge[maxAgeRFC][1] = la
			}
			if !a.oversized() {
				maxAge[maxAgeSigned][0] = la
				if !plus {
					maxAge[maxAgeRFC][0] = la
				}
			}
			// One plain Max-Age is read the same way by every engine.
			simple = e.lifetimeAttrs == 1 && !plus && !a.oversized()
		case attrExpires:
			e.lifetimeAttrs++
			if t, ok := parseCookieDate(f.value(a)); ok {
				la := lifetimeAttr{ok: true, at: i, val: t.Unix()}
				expires[1] = la
				if !a.oversized() {
					expires[0] = la
				}
				simple = e.lifetimeAttrs == 1 && !a.oversized()
			}
		}
	}
	switch {
	case e.lifetimeAttrs == 0:
		e.session, e.anySession, e.agreed = true, true, true
		return e
	case e.lifetimeAttrs > 1:
		simple = false
	}
	if simple {
		// A single attribute every engine reads alike: one reading.
		e.agreed = true
		if m := maxAge[maxAgeRFC][0]; m.ok {
			e.lifetime, e.shortest = m.val, m.val
		} else {
			x := expires[0]
			e.lifetime, e.shortest = x.val-base, x.val-max(base, now.unix())
		}
		e.deletion = e.lifetime <= 0 || e.shortest <= 0
		return e
	}

	type outcome struct {
		session  bool
		lifetime int64 // from base
		shortest int64 // from the later of base and now
	}
	first, all, anyLive := outcome{}, true, false
	e.session = true
	for s := range numMaxAgeSyntaxes {
		for counted := range 2 {
			m, x := maxAge[s][counted], expires[counted]
			for _, lastWins := range [2]bool{false, true} {
				var o outcome
				switch {
				case m.ok && (!x.ok || !lastWins || m.at > x.at):
					o.lifetime, o.shortest = m.val, m.val
				case x.ok:
					o.lifetime, o.shortest = x.val-base, x.val-max(base, now.unix())
				default:
					o.session = true
				}
				if s == maxAgeRFC && counted == 0 && !lastWins {
					first = o
				} else if o != first {
					all = false
				}
				if o.session {
					e.anySession = true
					continue
				}
				e.session = false
				if o.lifetime <= 0 || o.shortest <= 0 {
					e.deletion = true
				}
				if !anyLive || o.shortest < e.shortest {
					e.shortest, anyLive = o.shortest, true
				}
			}
		}
	}
	e.agreed = all
	e.lifetime = first.lifetime
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
	if maxAges < 2 && expires < 2 || readExpiry(f, base, now).deletion {
		return false
	}
	if maxAges > 1 {
		a := &attrs[lastMaxAge]
		if _, ok := parseMaxAge(f.value(a), maxAgeRFC); !ok || a.oversized() {
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
func appendLifetime(b []byte, base, seconds int64) []byte {
	b = append(b, "; Expires="...)
	// Unix seconds cannot overflow here (seconds ≤ maxLifetime), while a
	// time.Duration would beyond 292 years.
	b = appendIMFFixdate(b, min(base+seconds, latestExpires))
	b = append(b, "; Max-Age="...)
	return strconv.AppendInt(b, seconds, 10)
}
