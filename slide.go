package cookienormalizer

import (
	"net/http"
	"strconv"
	"strings"
)

// This file is sliding expiry: a group with `slide <interval>` has its
// cookies re-issued with a fresh lifetime at most once per interval while
// requests keep arriving, so that they track the user's activity as an
// idle timeout on the server does. The module keeps one cookie of its own
// per group, the stamp, whose value is the Unix time of the last issue; it
// is what makes the re-issue happen at most once per interval without any
// state in the proxy.

// slideRule is the compiled `slide` of a group.
type slideRule struct {
	interval int64  // seconds between re-issues
	lifetime int64  // the group's `expire <duration>`, in seconds
	stamp    string // the stamp cookie's name
	// attrs are the stamp's attributes before Secure (see stampAttrs),
	// and partitioned whether Partitioned follows Secure.
	attrs       string
	partitioned bool
}

// stampAttrs are the attributes of a group's stamp before Secure: Path=/,
// HttpOnly and SameSite=Lax, but SameSite=None where the group's cookies
// are None. The stamp must reach every request the members reach: a
// cross-site request carries the members of a SameSite=None group but
// not a Lax stamp, and browsers refuse a Lax cookie set in a cross-site
// response, so every such request would re-issue. For the same reason a
// stamp is Partitioned where the group's cookies are (partitioned on
// needs secure on, so such a stamp always carries Secure).
func stampAttrs(r *rule) (attrs string, partitioned bool) {
	attrs = "; Path=/; HttpOnly; SameSite=Lax"
	if r.attrs.sameSite.set && r.attrs.sameSite.value == "None" {
		attrs = "; Path=/; HttpOnly; SameSite=None"
	}
	return attrs, r.attrs.partitioned == flagOn
}

// stampFuture is how far in the future a stamp may be (clock skew between
// proxies) before it counts as unreadable.
const stampFuture = 60

// due reports whether the group's cookies are to be re-issued on this
// response: the request carries every member exactly once (a name twice,
// as cookie tossing from a sibling domain produces, means no re-issue),
// each value is one a browser would have stored, the status is below 400,
// no shared cache may store the response, it is not an error route's
// (request.errorRoute), and, unless the response renews some members
// itself (renewing), the stamp is absent,
// unreadable, more than a minute in the future or older than the
// interval. The caller has checked that the response deletes no member
// and does not set them all (a log-in); the members it sets are not
// re-issued.
func (s *slideRule) due(cg *consistencyGroup, jar *cookieJar, req *request, now int64, renewing bool) bool {
	if req.status == 0 || req.status >= 400 {
		return false
	}
	for k, name := range cg.members {
		m := cg.first + k
		if jar.count[m] != 1 || !storableValue(name, jar.slide.value[m]) {
			return false
		}
	}
	if req.sharedCacheable() {
		return false
	}
	if !renewing {
		g := cg.stampAt
		if jar.slide.stampCount[g] == 1 {
			// at >= now-interval, not now-at <= interval: a stamp near
			// the smallest int64 would overflow the subtraction and
			// count as fresh (now and the interval are small).
			if at, ok := parseInt64(jar.slide.stamp[g]); ok && at <= now+stampFuture && at >= now-s.interval {
				return false // not older than the interval: nothing to do
			}
		}
	}
	// Last, as they are asked only before a re-issue: an error route
	// reads the Cookie header as the failed route's handlers left it
	// (Caddy does not restore it), and a value edited for the upstream
	// must not be written back into the browser; and a response that
	// clears the site's cookies is a log-out.
	return !req.errorRoute && !req.clearsSiteCookies()
}

// clearsSiteCookies reports whether the response has a Clear-Site-Data
// field that clears cookies ("cookies" or "*", W3C Clear Site Data): a
// log-out that names no cookie. Fields set beside it may be stored before
// the browser clears the site's cookies or after, so a re-issue there
// could undo the log-out. Read leniently (any case, quoted or not):
// taking a field for a log-out only skips a re-issue. Out of line: it is
// asked only before a re-issue.
//
//go:noinline
func (r *request) clearsSiteCookies() bool {
	return anyDirective(r.header["Clear-Site-Data"], func(item, _ string, hasEquals bool) bool {
		item = strings.Trim(item, `"`)
		return !hasEquals && (item == "*" || strings.EqualFold(item, "cookies"))
	})
}

// parseInt64 is strconv.ParseInt(s, 10, 64), telling only whether it
// succeeds: an optional sign, then one or more decimal digits, within
// int64. It builds no error, and costs a third of strconv's on a stamp.
func parseInt64(s string) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 || n > (1<<63)/10 {
			return 0, false
		}
		if n = n*10 + uint64(d); n > 1<<63 {
			return 0, false
		}
	}
	switch {
	case neg:
		return -int64(n), true // n = 1<<63 gives math.MinInt64, as it should
	case n > 1<<63-1:
		return 0, false
	}
	return int64(n), true
}

// storableValue reports whether every browser would store name=value as
// a cookie: no control byte (RFC 6265bis §5.6 step 1; a tab too, which
// that step allows but libsoup, WebKitGTK's cookie store, cuts a field
// at, see isControl) and name plus value within maxNameValueLen. A value
// that fails is never re-issued.
func storableValue(name, value string) bool {
	return len(name)+len(value) <= maxNameValueLen && !hasOddByte(value)
}

// sharedCacheable reports whether the response's Cache-Control, or a
// cache-control field aimed at shared caches alone, lets a shared cache
// store it (see sharedCacheable and targetedCacheable); false for a nil
// request.
func (r *request) sharedCacheable() bool {
	return r != nil && (sharedCacheable(r.header["Cache-Control"]) || targetedCacheable(r.header))
}

// targetedCacheable reports whether the response carries a cache-control
// field aimed at shared caches that does not forbid storing it: a
// targeted field (RFC 9213: CDN-Cache-Control, and the <target>-Cache-
// Control fields CDNs name after themselves, such as Cloudflare-CDN-
// Cache-Control) or Surrogate-Control (the Edge Architecture field that
// Fastly, Akamai and Varnish read). A cache that obeys such a field
// ignores Cache-Control, and with it the private directive this module
// adds; so unless the field itself says private or no-store (or, for
// Surrogate-Control, no-store-remote), such a cache may store the
// response and hand its cookies to other users. It walks the header map,
// but only when a re-issue or a partial expiry is about to be appended;
// out of line, so that its iterator's frame stays off the common path.
//
//go:noinline
func targetedCacheable(h http.Header) bool {
	const suffix = "-cache-control"
	for k, v := range h {
		surrogate := strings.EqualFold(k, "Surrogate-Control")
		if !surrogate && (len(k) <= len(suffix) || !strings.EqualFold(k[len(k)-len(suffix):], suffix)) {
			continue
		}
		if !forbidsStore(v, surrogate) {
			return true
		}
	}
	return false
}

// forbidsStore reports whether the directives of fields forbid a cache to
// store the response: private or no-store, bare or a structured field's
// true ("?1", RFC 8941 §3.3.6; targeted fields are dictionaries, RFC 9213
// §2.1), and for Surrogate-Control no-store-remote. A directive with any
// other value (false, or a list of fields, as a qualified private names
// the fields it keeps from shared caches) forbids nothing here.
func forbidsStore(fields []string, surrogate bool) bool {
	return anyDirective(fields, func(d, value string, hasEquals bool) bool {
		return (!hasEquals || value == "?1") && (isAttr(d, "private") || isAttr(d, "no-store") || surrogate && isAttr(d, "no-store-remote"))
	})
}

// crossSite reports whether the request is a cross-site one, by its
// Sec-Fetch-Site header (which Chromium, Firefox and Safari send to
// secure origins: over HTTPS, or to localhost). Such a
// request may carry only part of a group for a reason other than a jar
// restored in half: a top-level link from another site carries SameSite=
// Lax cookies and not Strict ones, a frame neither, so members with
// different SameSite values arrive apart. A partial expiry there would
// log out a complete log-in.
func (r *request) crossSite() bool {
	return r != nil && r.crossSiteFetch
}

// sharedCacheable reports whether Cache-Control lets a shared cache store
// the response (the public or s-maxage directive, RFC 9111 §5.2.2): a
// re-issued field carries a user's session, and a partial expiry's
// deletions one user's state, which such a cache would hand to others.
func sharedCacheable(cacheControl []string) bool {
	return hasDirective(cacheControl, "public") || hasDirective(cacheControl, "s-maxage")
}

// hasBareDirective reports whether the Cache-Control fields hold the
// directive name without a value: a qualified private="Set-Cookie, …"
// (RFC 9111 §5.2.2.7) keeps only the fields it names from shared caches,
// which may store the rest of the response.
func hasBareDirective(cacheControl []string, name string) bool {
	return anyDirective(cacheControl, func(d, _ string, hasEquals bool) bool { return !hasEquals && isAttr(d, name) })
}

// hasDirective reports whether the Cache-Control fields hold the directive
// name (lower case; directives compare without regard to case, RFC 9111
// §5.2). It allocates nothing.
func hasDirective(cacheControl []string, name string) bool {
	return anyDirective(cacheControl, func(d, _ string, _ bool) bool { return isAttr(d, name) })
}

// anyDirective reports whether match holds for one of the directives of
// the cache-control fields: its name and value, trimmed, and whether it
// has an '='. The fields are read on the rare paths before a partial
// expiry or a re-issue; match does not escape, and nothing is allocated.
func anyDirective(fields []string, match func(name, value string, hasEquals bool) bool) bool {
	for _, line := range fields {
		for len(line) > 0 {
			var d, value string
			var hasEquals bool
			d, value, line, hasEquals = splitItem(line, ',')
			if match(d, value, hasEquals) {
				return true
			}
		}
	}
	return false
}

// reissue writes a member's field: the value exactly as the request
// carried it, the group's attribute policies (present when on or set,
// absent otherwise), then the lifetime, Expires before Max-Age. A
// __Host-, __Secure- or __Http- name gets Secure without a secure policy
// too, and an __Http- or __Host-Http- name HttpOnly without an httponly
// policy: browsers refuse such a cookie without them (RFC 6265bis
// §4.1.3, see securePrefixed), and the browser holds it, so it was set
// with them. (A secure off policy beside
// such an exact name is a config error; a __Host- name's Path=/ and no
// Domain are what its group's path and domain policies must say.)
func (s *slideRule) reissue(r *rule, name, value string, base int64) string {
	var stack [256]byte
	b := append(stack[:0], name...)
	b = append(b, '=')
	b = append(b, value...)
	b = appendSet(b, r.attrs.every(), &r.attrs)
	if r.attrs.secure != flagOn && securePrefixed(name) {
		b = append(b, "; Secure"...)
	}
	if r.attrs.httpOnly != flagOn && httpPrefixed(name) {
		b = append(b, "; HttpOnly"...)
	}
	return string(appendLifetime(b, base, s.lifetime))
}

// stampSecure reports whether the stamp carries Secure: on HTTPS requests,
// or when the group has secure on.
func stampSecure(r *rule, req *request) bool {
	return r.attrs.secure == flagOn || req != nil && req.https
}

// stampField writes the stamp as issued now, with the group's lifetime.
func (s *slideRule) stampField(r *rule, req *request, base, now int64) string {
	var b strings.Builder
	b.Grow(len(s.stamp) + 140)
	b.WriteString(s.stamp)
	b.WriteByte('=')
	var digits [20]byte
	b.Write(strconv.AppendInt(digits[:0], now, 10)) // no string of its own
	b.WriteString(s.attrs)
	if stampSecure(r, req) {
		b.WriteString("; Secure")
	}
	if s.partitioned {
		b.WriteString("; Partitioned")
	}
	var lifetime [72]byte // "; Expires=" + 29 bytes + "; Max-Age=" + 13 digits fit
	b.Write(appendLifetime(lifetime[:0], base, s.lifetime))
	return b.String()
}

// stampDeletion writes the deletion of the stamp.
func (s *slideRule) stampDeletion(r *rule, req *request) string {
	field := s.stamp + deletionSuffix + s.attrs
	if stampSecure(r, req) {
		field += "; Secure"
	}
	if s.partitioned {
		field += "; Partitioned"
	}
	return field
}

// addPrivate returns the Cache-Control fields with the private directive
// added: a response that re-issued a user's cookies must not be stored by
// a shared cache.
func addPrivate(cacheControl []string) []string {
	if len(cacheControl) == 0 {
		return []string{"private"}
	}
	if hasBareDirective(cacheControl, "private") {
		return cacheControl
	}
	out := append([]string(nil), cacheControl...)
	out[len(out)-1] += ", private"
	return out
}

// isToken reports whether name is an RFC 6265 cookie name: an RFC 9110
// token.
func isToken(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
