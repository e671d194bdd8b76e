package cookienormalizer

import "strings"

// A member moved, not logged out: under on_delete cascade, a response
// whose last field for a member deletes it, but which sets that member
// at another place (another Path, or host-only beside a Domain), leaves
// the browser with the member live, since browsers keep one cookie per
// name, domain and path (RFC 6265bis §5.7). Such a response is a
// migration, and nothing cascades. The check runs only when a cascade
// would otherwise happen, and counts a member as moved only when every
// major engine would store the moved field at a place certainly apart
// from every later deletion: when unsure, the member is deleted and the
// cascade goes on, as before this rule.

// fieldScope is where a Set-Cookie field stores its cookie, as far as the
// field says: browsers keep one cookie per name, domain (host-only or
// not) and path (RFC 6265bis §5.7; Chromium, Firefox and libsoup alike),
// so a field for a name at Path=/ and one at Path=/app, or a host-only
// one and one with a Domain, are two cookies.
type fieldScope struct {
	// path is the Path browsers read (the last one within 1024 bytes
	// whose value starts with '/'); "" when there is none and the
	// cookie's path is the default-path of the request's URL.
	path string
	// domain is the last Domain, without a leading '.'; "" for a
	// host-only cookie.
	domain string
	// sure is false when a Domain attribute is empty, which RFC 6265bis
	// leaves undefined.
	sure bool
}

// scopeOf reads the scope of f, scanned with attributeKinds, as the
// group's path and domain policies send it: values may still hold the
// app's fields (see storedWithPolicies), and under report_only the
// decision is the one the applied module would take.
func scopeOf(f *setCookie, p *attrPolicy) fieldScope {
	s := fieldScope{sure: true}
	// WebKitGTK reads a Path or Domain over 1024 bytes that Chromium and
	// Firefox ignore: after the last one they read, it makes the path not
	// known, the domain not certain. So does a Domain with a byte that is
	// not ASCII, which Chromium refuses (and strings.EqualFold may take
	// for an ASCII letter).
	oddPath, oddDomain := false, false
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		if a.oversized() {
			oddPath = oddPath || a.kind == attrPath
			oddDomain = oddDomain || a.kind == attrDomain
			continue
		}
		switch v := f.value(a); a.kind {
		case attrPath:
			s.path, oddPath = "", false
			if v != "" && v[0] == '/' {
				s.path = v
			}
		case attrDomain:
			s.domain, oddDomain = strings.TrimPrefix(v, "."), false
			s.sure = s.domain != "" && isASCII(v)
		}
	}
	switch {
	case p.path.set:
		s.path = p.path.value
	case oddPath:
		s.path = ""
	}
	switch {
	case p.domain.set:
		s.domain, s.sure = strings.TrimPrefix(p.domain.value, "."), true
	case p.domain.remove:
		s.domain, s.sure = "", true
	case oddDomain:
		s.sure = false
	}
	return s
}

// isASCII reports whether v holds only ASCII bytes.
func isASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return false
		}
	}
	return true
}

// apart reports whether a cookie stored with scope s is for certain
// another cookie than one stored with scope d, on a request to host (its
// name, see hostName): one host-only and the other not, or the same
// domain and two different paths. (A Domain that differs from another
// Domain may be one the browser refuses for the request's host: not
// counted.) On a host that is an IP address or a single label
// (localhost, an intranet name), Chromium and Firefox store a cookie
// whose Domain is the host itself as a host-only one (libsoup too, for
// an IP address): not apart from a host-only cookie at the same path;
// nor is any Domain when the host is not known. A host-only cookie and
// one at another path are apart whatever the other's Domain: the other
// is stored at that path, or not at all.
func (s fieldScope) apart(d fieldScope, host string) bool {
	paths := s.path != "" && d.path != "" && s.path != d.path
	switch {
	case !s.sure || !d.sure:
		return false
	case s.domain == "" && d.domain != "":
		return paths || host != "" && !hostOnlyDomain(d.domain, host)
	case s.domain == "" && d.domain == "", s.domain != "" && strings.EqualFold(s.domain, d.domain):
		return paths
	}
	return false
}

// hostOnlyDomain reports whether an engine stores a cookie with Domain
// domain, set by a response to host, as a host-only cookie: domain is
// host itself, and host an IP address or a name without a dot. (So is a
// host that is itself a public suffix, in Chromium and Firefox: not a
// site behind this module.)
func hostOnlyDomain(domain, host string) bool {
	if !strings.EqualFold(domain, host) {
		return false
	}
	return ipAddress(host) || !strings.Contains(host, ".")
}

// ipAddress reports whether host reads as an IP address: an IPv6 address
// has a ':', an IPv4 one only digits and dots. (No net or netip parser
// here: their errors keep the host, which would make the request escape
// to the heap.)
func ipAddress(host string) bool {
	return strings.IndexByte(host, ':') >= 0 || strings.Trim(host, "0123456789.") == ""
}

// hostName is the name in the request's Host (see hostName), "" without
// a request.
func (r *request) hostName() string {
	if r == nil {
		return ""
	}
	return hostName(r.host)
}

// hostName is the name in a request's Host, without a port or the
// brackets of an IPv6 address.
func hostName(hostport string) string {
	if strings.HasPrefix(hostport, "[") {
		if i := strings.IndexByte(hostport, ']'); i > 0 {
			return hostport[1:i]
		}
		return hostport
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && strings.IndexByte(hostport, ':') == i {
		return hostport[:i] // a name or IPv4 address and a port
	}
	return hostport
}

// movedMember reports whether the response, which deletes members of cg
// and sets none by their last fields, sets one of those members at
// another path or domain than where it deletes it (see setElsewhere): a
// migration, not a log-out, so nothing cascades. (Only the cascade asks:
// for on_partial and slide a member deleted and one set alike mean the
// response spoke for the group, and slide's path and domain policies
// leave every field of a member at one place.) Out of line: only a
// response that would cascade asks.
//
//go:noinline
func movedMember(cg *consistencyGroup, r *rule, values []string, state *memberStates, req *request, base int64, now *clock) bool {
	for k, name := range cg.members {
		if state[cg.first+k].deletes() && setElsewhere(values, name, r, req, base, now) {
			return true
		}
	}
	return false
}

// setElsewhere reports whether values, whose last field for member name
// deletes it (at one path and domain), also hold a field that sets name,
// live in every engine, at another path or domain that no later field
// for name deletes: a path or domain migration (delete Path=/app, set
// Path=/, in either order). The browser then ends with that cookie, so
// the response sets the member, as it would had the fields come the
// other way round. Anything uncertain (a field the engines read
// differently, an empty Domain, a name prefix or a SameSite=None or
// Partitioned without Secure that a browser may refuse, Secure over plain
// http, no SameSite=None on a cross-site request, more deletions than it
// keeps track of) counts as no such field,
// and a later field that some engine may read as a deletion (one whose
// lifetime an engine reads in a way not known here, or one Chromium and
// Firefox refuse and WebKitGTK stores) as a deletion: the member stays
// deleted. Out of line, so that its scan stays out of applyWith's frame
// (see applySliding).
//
//go:noinline
func setElsewhere(values []string, name string, r *rule, req *request, base int64, now *clock) bool {
	var (
		f       setCookie
		deleted [4]fieldScope
		nd      int
	)
	host := req.hostName()
	for i := len(values) - 1; i >= 0; i-- {
		if got, ok := cookieName(values[i]); !ok || got != name {
			continue
		}
		if !f.scan(values[i], attributeKinds|lifetimeKinds, 0) {
			continue
		}
		e := readExpiry(&f, base, now)
		if f.rejected {
			// Chromium and Firefox refuse it, but WebKitGTK stores it
			// (see apply): one that may delete there is a deletion that
			// may be at the place of a field set before it.
			if f.refusedForBytes() && !e.deletion && !e.unsure {
				continue // sets nothing for certain
			}
			return false
		}
		s := scopeOf(&f, &r.attrs)
		if e.deletion || e.unsure {
			// A field some engine may read as a deletion is one.
			if !s.sure || nd == len(deleted) {
				return false
			}
			deleted[nd] = s
			nd++
			continue
		}
		if !storedEverywhere(&f, name, r, req) {
			continue
		}
		live := nd > 0
		for _, d := range deleted[:nd] {
			live = live && s.apart(d, host)
		}
		if live {
			return true
		}
	}
	return false
}

// storedEverywhere reports whether every engine stores f, a field for
// name, on req as the group's policies send it: not a __Host- name
// (whose rules the module does not check), stored by storedWithPolicies,
// and not Secure over plain http.
func storedEverywhere(f *setCookie, name string, r *rule, req *request) bool {
	https := req != nil && req.https
	return !hasPrefixFold(name, prefixHost) &&
		storedWithPolicies(f, &r.attrs, securePrefixed(name), req.crossSite()) &&
		(https || !hasSecure(f, &r.attrs))
}

// storedField reports whether every engine stores v, a field for name,
// on req (see storedEverywhere); a field the module cannot scan counts as
// stored.
func storedField(v, name string, r *rule, req *request) bool {
	var f setCookie
	return !f.scan(v, attributeKinds, 0) || storedEverywhere(&f, name, r, req)
}

// storedWithPolicies reports whether every engine stores f as the
// group's policies send it, as far as Secure goes: browsers refuse a
// __Secure- cookie (secureOnly), a Partitioned one and a SameSite=None
// one without Secure, read as Chromium and Firefox read it (within 1024
// bytes). On a cross-site request (crossSite), every engine refuses one
// without SameSite=None, unless the request is a top-level navigation,
// which the module does not tell apart: only SameSite=None counts. The
// policies count, not the field as the app wrote it: values may still
// hold the app's fields, which the memo's are built from after the
// consistency rules (see scopeOf).
func storedWithPolicies(f *setCookie, p *attrPolicy, secureOnly, crossSite bool) bool {
	secure, partitioned, none := p.keepsSecure(f, f.has&(1<<attrSecure) != 0), p.partitionedAfter(f), p.sameSiteNoneAfter(f)
	if crossSite && !none || httpPrefixed(f.name) && !p.keepsHTTPOnly(f, f.has&(1<<attrHTTPOnly) != 0) {
		return false
	}
	return secure || !secureOnly && !partitioned && !none
}

// hasSecure reports whether f has a Secure attribute as any engine reads
// it (WebKitGTK also one with a value over 1024 bytes), as the group's
// secure policy leaves it (values may hold the app's fields: see
// scopeOf): over plain http, WebKitGTK drops such a cookie on every
// host, Chromium and Firefox on any but a loopback one.
func hasSecure(f *setCookie, p *attrPolicy) bool {
	has := false
	attrs := f.attrs()
	for i := range attrs {
		if attrs[i].kind == attrSecure {
			has = true
		}
	}
	return p.keepsSecure(f, has)
}

// sameSiteNone reports whether the last SameSite of f says None.
func sameSiteNone(f *setCookie) bool {
	none := false
	attrs := f.attrs()
	for i := range attrs {
		if a := &attrs[i]; a.kind == attrSameSite && !a.oversized() {
			none = strings.EqualFold(f.value(a), "none")
		}
	}
	return none
}

// certainDeletionElsewhere returns the index of the last field of values
// for name before last that every engine reads as a deletion, at a place
// certainly apart from last's, or -1.
func certainDeletionElsewhere(values []string, name string, last int, r *rule, req *request, base int64, now *clock) int {
	return fieldApart(values, name, last, r, req, base, now, func(_ *setCookie, e expiry) bool { return e.deletion && !e.split && !e.unsure })
}

// storedDeletionElsewhere is certainDeletionElsewhere for a deletion
// every engine also stores on req (see storedEverywhere): one that some
// engine refuses (Secure over plain http, no SameSite=None on a
// cross-site request) deletes nothing there, and an earlier one may be
// where the member was deleted.
func storedDeletionElsewhere(values []string, name string, last int, r *rule, req *request, base int64, now *clock) int {
	return fieldApart(values, name, last, r, req, base, now, func(f *setCookie, e expiry) bool {
		return e.deletion && !e.split && !e.unsure && storedEverywhere(f, name, r, req)
	})
}

// keptElsewhere returns the index of the last field of values for name
// before last that some engine may keep, at a place certainly apart from
// last's, or -1: one some engines delete and others keep (a slow app
// clock's Expires), or one whose lifetime the module cannot read every
// engine's way (an Expires in no form the engines agree on), which
// counts as a deletion for the migration check and may be a live cookie.
func keptElsewhere(values []string, name string, last int, r *rule, req *request, base int64, now *clock) int {
	return fieldApart(values, name, last, r, req, base, now, func(_ *setCookie, e expiry) bool { return e.split || e.unsure })
}

// fieldApart returns the index of the last field of values for name
// before last that want accepts (the field, scanned with attributeKinds
// and lifetimeKinds, and its expiry), stored by Chromium and Firefox (not
// refused), at a place certainly apart from last's, or -1.
func fieldApart(values []string, name string, last int, r *rule, req *request, base int64, now *clock, want func(*setCookie, expiry) bool) int {
	var f setCookie
	if last < 0 || !f.scan(values[last], attributeKinds, 0) {
		return -1
	}
	at := scopeOf(&f, &r.attrs)
	host := req.hostName()
	for i := last - 1; i >= 0; i-- {
		if got, ok := cookieName(values[i]); !ok || got != name {
			continue
		}
		if !f.scan(values[i], attributeKinds|lifetimeKinds, 0) || f.rejected {
			continue
		}
		if !want(&f, readExpiry(&f, base, now)) {
			continue
		}
		if s := scopeOf(&f, &r.attrs); s.apart(at, host) || at.apart(s, host) {
			return i
		}
	}
	return -1
}
