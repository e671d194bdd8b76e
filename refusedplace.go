package cookienormalizer

import "strings"

// Fields that only WebKitGTK stores. Chromium and Firefox refuse a field
// with a control byte, a name plus value over 4096 bytes, an __Http- or
// __Host-Http- name without HttpOnly, and a SameSite=None or Partitioned
// cookie without Secure (a name prefix's other rules too); they keep the
// cookie they had. WebKitGTK 2.50 stores the first two, cut short at the
// control byte, checks no name prefix, and stores SameSite=None and
// Partitioned cookies without Secure. A consistency rule
// that deletes the other members leaves WebKitGTK holding such a member
// alone at the place it read, unless a deletion there follows: these
// functions write it.

// webkitCut is where libsoup 3.2 stops reading v: its first byte below
// 0x20 or over 0x7f, but for one in the white space it skips before a
// name or a value (see soupLeads), else len(v). (A DEL, which Chromium
// and Firefox refuse, libsoup reads as any other byte.)
func webkitCut(v string) int {
	var lead soupLeads
	for i := 0; i < len(v); i++ {
		c := v[i]
		if leads := lead.next(c); (c < 0x20 || c > 0x7f) && !leads {
			return i
		}
	}
	return len(v)
}

// webkitRead is what libsoup 3.2 reads of v, a field with a control byte:
// v up to webkitCut, with the LF, FF and CR it skips as white space (see
// soupLeads) read as spaces, as the scan trims them.
func webkitRead(v string) string {
	cut := v[:webkitCut(v)]
	if !strings.ContainsAny(cut, "\n\f\r") {
		return cut
	}
	return strings.Map(func(c rune) rune {
		if c == '\n' || c == '\f' || c == '\r' {
			return ' '
		}
		return c
	}, cut)
}

// refusedPlaces returns the deletions of name, one per place, that remove
// what WebKitGTK stores from the fields for name in values (the
// response's own) that Chromium refuses and WebKitGTK stores (see
// webkitOnly), as WebKitGTK reads them, but with Secure over https
// where they are SameSite=None or Partitioned without it; ok
// is false when one cannot be written (a place not known, an attribute
// over 1024 bytes, an empty Domain, more places than it keeps): then
// WebKitGTK might hold the member whatever a rule appends. Out of line:
// rare work, asked only before a cascade or a partial expiry.
//
//go:noinline
func refusedPlaces(values []string, name string, r *rule, req *request, base int64, now *clock) (out [2]string, ok bool) {
	var f setCookie
	n := 0
	for i, v := range values {
		if got, isCookie := cookieName(v); !isCookie || got != name {
			continue
		}
		at, stores, known := webkitOnly(&f, v, name, r, req, base, now)
		if !stores {
			continue
		}
		read, written := at.deletionAsRead(name)
		if !known || !written {
			return out, false
		}
		d := read
		if req != nil && req.https && !at.secure && (at.partitioned || strings.EqualFold(at.sameSite, "none")) {
			// With Secure, which keeps it at WebKitGTK's place over
			// https: Chromium and Firefox take it too (a deletion), so
			// that a second handler over the response does not take
			// it for a log-out they refuse (see prefixFixed).
			secured := at
			secured.secure = true
			d, _ = secured.deletionAsRead(name)
		}
		switch {
		case deletedLater(values, i, name, read, r, req, base, now), d != read && deletedLater(values, i, name, d, r, req, base, now):
		case n > 0 && sameDeletionPlace(out[0], d), n > 1 && sameDeletionPlace(out[1], d):
		case n == len(out):
			return out, false
		default:
			out[n] = d
			n++
		}
	}
	return out, true
}

// deletedLater reports whether a field for name in values after
// values[i] (a field only WebKitGTK stores) deletes it in every engine at
// the place of d: WebKitGTK's copy is gone there (an app's own log-out
// after the field, or a deletion a pass over the response appended
// already). The field is read as the group's policies send it, as values
// may hold the app's fields (under report_only) or the rewritten ones;
// the member's last field, passed unchanged, stands for the deletion
// placed after it, if any (see placeDeletions), which report_only does
// not append, and which comes at the end of the response, after
// values[i] also where that field is before it.
func deletedLater(values []string, i int, name, d string, r *rule, req *request, base int64, now *clock) bool {
	var f setCookie
	// deletes reports whether v, a field for name the engines read alike,
	// is a deletion every engine makes at d's place, as sent.
	deletes := func(v string) bool {
		sent := r.withPolicies(v)
		if !f.scan(sent, lifetimeKinds|attributeKinds, 0) {
			return false
		}
		e := readExpiry(&f, base, now)
		return e.deletion && !e.unsure && !e.split && sameDeletionPlace(sent, d)
	}
	last := lastField(values, name)
	for j := i + 1; j < len(values); j++ {
		v := values[j]
		if got, ok := cookieName(v); !ok || got != name {
			continue
		}
		if !f.scan(v, 0, 0) {
			continue
		}
		if f.rejected {
			if j != last {
				continue
			}
			if v = placedAfter(v, name, r, req, base, now); !f.scan(v, 0, 0) || f.rejected {
				continue
			}
		}
		if deletes(v) {
			return true
		}
	}
	// The deletion placed after the member's last field comes at the end
	// of the response once applied: after values[i] also where that
	// field comes before it (the fields after it refused for their bytes).
	if last >= 0 && last <= i && f.scan(values[last], 0, 0) && f.rejected {
		if v := placedAfter(values[last], name, r, req, base, now); v != values[last] && f.scan(v, 0, 0) && !f.rejected {
			return deletes(v)
		}
	}
	return false
}

// webkitOnly reports whether v, a field for name, is one Chromium (and
// mostly Firefox) refuse and WebKitGTK may store as a live cookie
// (stores), and where WebKitGTK puts it (known: whether that place is
// known). A field the module rewrites is read as the group's policies
// send it; one it passes unchanged (the engines read it apart) counts
// only where Chromium and Firefox both refuse it for its attributes as
// they read it (see refusedByBoth), and is read up to where libsoup
// stops. A field that WebKitGTK surely reads as a deletion stores
// nothing. A rewritten __Host- field without Path=/ counts, though
// Firefox may store it (at the default path, when that is /):
// WebKitGTK, which checks no prefix, stores it at its own place, where
// a deletion the module writes for a __Host- name (at /) does not reach
// it. r and req may be nil for a field the scan rejects (then a __Host-
// field without Path counts as set at the root).
func webkitOnly(f *setCookie, v, name string, r *rule, req *request, base int64, now *clock) (at place, stores, known bool) {
	if !f.scan(v, attributeKinds|lifetimeKinds, 0) {
		return at, false, false
	}
	switch {
	case f.refusedForBytes():
		if !f.scan(webkitRead(v), attributeKinds|lifetimeKinds, 0) || f.name != name || f.soupRefused {
			return at, false, false // WebKitGTK stores no cookie of this name
		}
	case f.rejected:
		// Read by every engine in its own way (see rejectedEffect),
		// but where Chromium and Firefox both refuse it for its
		// attributes as they read it (all of it): then only
		// WebKitGTK's reading counts, up to where libsoup stops.
		if len(v) > maxValueLen || !refusedByBoth(f, name, req) {
			return at, false, false // not read: see apply
		}
		if f.soupRefused {
			return at, false, false // WebKitGTK refuses it too
		}
		if !f.scan(v[:f.stop], attributeKinds|lifetimeKinds, 0) || f.rejected {
			return at, true, false
		}
		if f.name != name {
			return at, false, false // WebKitGTK stores no cookie of this name
		}
	default:
		if sent := r.withPolicies(v); sent != v && !f.scan(sent, attributeKinds|lifetimeKinds, 0) {
			return at, false, false
		}
		if !anyRefusesForAttrs(f, name) {
			return at, false, false
		}
	}
	if e := readExpiry(f, base, now); e.deletion && (e.kept|e.unknown)&soupEngine == 0 {
		return at, false, false
	}
	at, known = readPlace(f, placeSoup, req)
	return at, true, known
}

// refusedForAttrs reports whether Chromium and Firefox both refuse f, a
// field for name as sent, for its attributes: a __Secure-, __Host- or
// __Http- name without Secure, an __Http- or __Host-Http- one without
// HttpOnly, a __Host- one with a Domain or with a Path other than /,
// SameSite=None or Partitioned without Secure (RFC 6265bis §5.6, CHIPS,
// draft-ietf-httpbis-layered-cookies). A __Host- field without a Path
// that starts with '/' is not: Chromium refuses it, but Firefox checks
// the prefix against the default path it gives such a cookie, which may
// be /. f is scanned with attributeKinds.
func refusedForAttrs(f *setCookie, name string) bool {
	return !storedWithPolicies(f, &attrPolicy{}, securePrefixed(name), false) || hostPlaceRefused(f, name)
}

// refusedByBoth is refusedForAttrs, with the request's default path
// for a __Host- field without a Path that starts with '/': Chromium
// refuses it (it wants Path=/), and Firefox checks the prefix against
// the default path it gives such a cookie (RFC 6265bis §5.1.4), which
// is / only for a request target in the root (else it refuses it too).
// An unknown target counts as the root.
func refusedByBoth(f *setCookie, name string, req *request) bool {
	if refusedForAttrs(f, name) {
		return true
	}
	if !hasPrefixFold(name, prefixHost) {
		return false
	}
	attrs := f.attrs()
	for i := range attrs {
		if a := &attrs[i]; a.kind == attrDomain || a.kind == attrPath && !a.oversized() && strings.HasPrefix(f.value(a), "/") {
			return false // refusedForAttrs has read them
		}
	}
	t := req.target()
	return t != "" && defaultPath(t) != "/"
}

// refusingForAttrs returns the engines (their readings' bits) that
// refuse v, a field, for its attributes as they read it, all of it:
// Chromium where some engine does (anyRefusesForAttrs: it wants Path=/
// for a __Host- name), Firefox where both do (refusedForAttrs). They
// keep the cookie they had, whatever their reading of its lifetime. The
// default path Firefox checks a __Host- field without Path against is
// not known here: Firefox counts as storing it. Out of line: rare work,
// for fields the scan rejects, kept out of its callers' frames.
//
//go:noinline
func refusingForAttrs(v string) uint8 {
	var f setCookie
	if !f.scan(v, attributeKinds, 0) || f.refused {
		return 0
	}
	switch {
	case refusedForAttrs(&f, f.name):
		return wholeEngines
	case hostPrefixRefused(&f, f.name):
		return 1 << byChromium
	}
	return 0
}

// hostRefusedOffRoot reports whether the fields that made name, a
// __Host- member, count as set (those the rewrite did not find refused,
// see apply; back to the last one Chromium and Firefox store) are ones
// Chromium and Firefox both refuse only on this request (see
// refusedByBoth: no Path starting with '/', on a page outside the root,
// where Firefox checks the prefix against the default path it gives the
// cookie): it sets nothing they keep (memberRefused). The rewrite, which
// has no request, counts it as set.
func hostRefusedOffRoot(values []string, name string, r *rule, req *request) bool {
	var f setCookie
	found := false
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		if got, ok := cookieName(v); !ok || got != name || !f.scan(v, attributeKinds, 0) || f.refusedForBytes() {
			continue
		}
		if len(v) > maxValueLen {
			return false // not read: a set they may store
		}
		if !f.rejected && !f.scan(r.withPolicies(v), attributeKinds, 0) {
			return false
		}
		switch {
		case refusedForAttrs(&f, name):
		case refusedByBoth(&f, name, req):
			found = true
		default:
			return false // a field Chromium and Firefox store
		}
	}
	return found
}

// anyRefusesForAttrs reports whether some engine refuses f, a field for
// name as sent, for its attributes (refusedForAttrs, or Chromium a
// __Host- field without Path=/).
func anyRefusesForAttrs(f *setCookie, name string) bool {
	return refusedForAttrs(f, name) || hostPrefixRefused(f, name)
}

// hostPlaceRefused reports whether f, a field for a __Host- name, has a
// Domain with a value or a Path starting with '/' other than / (the last
// of each within 1024 bytes), which Chromium and Firefox both refuse.
func hostPlaceRefused(f *setCookie, name string) bool {
	if !hasPrefixFold(name, prefixHost) {
		return false
	}
	path, domain := "", false
	attrs := f.attrs()
	for i := range attrs {
		switch a := &attrs[i]; {
		case a.oversized():
		case a.kind == attrDomain:
			domain = domain || f.value(a) != ""
		case a.kind == attrPath:
			path = f.value(a)
		}
	}
	return domain || strings.HasPrefix(path, "/") && path != "/"
}

// prefixFixed returns, for a member name whose last field in values (the
// response's own) is a deletion Chromium or Firefox refuses for its
// attributes (as the group's policies send it, or, passed unchanged, as
// they read it): for its name prefix (see anyRefusesForAttrs), or for
// SameSite=None or Partitioned without Secure (see refusedUnprefixed), a
// deletion of it at the same place that they take, with the prefix's
// attributes and Secure. A cascade's deletions of the others carry no
// prefix, copy another member's log-out, or go where WebKitGTK stores a
// field, so that Chromium and Firefox could take them while keeping this
// member. A __Host- deletion goes to Path=/ without Domain. "" when there
// is none to fix; or where the last field for name at that place that
// Chromium and Firefox take is a deletion already (see takenDeletionAt:
// a log-out repeated with other attributes, or a second handler over a
// response whose cascade deleted the member where WebKitGTK stores a
// field: see refusedPlaces).
func prefixFixed(values []string, name string, r *rule, req *request, base int64, now *clock) string {
	fix, _ := prefixFixedFor(values, name, r, req, base, now)
	if fix == "" || takenDeletionAt(values, name, fix, r, req, base, now) {
		return ""
	}
	return fix
}

// prefixFixedFor is prefixFixed, before the check for a deletion there
// already, and secured: where Chromium and Firefox refuse that log-out
// for SameSite=None or Partitioned without Secure, a deletion at its
// place with Secure added (and SameSite=None on a cross-site request),
// whose place the others are deleted at too (their deletions at the
// log-out's place copy its attributes, and they refuse those as well),
// else "". Both are returned whatever the response deletes elsewhere:
// the others' deletions copy the last field's attributes.
func prefixFixedFor(values []string, name string, r *rule, req *request, base int64, now *clock) (fix, secured string) {
	i := lastField(values, name)
	if i < 0 {
		return "", ""
	}
	var f setCookie
	if !f.scan(values[i], attributeKinds, 0) {
		return "", ""
	}
	sent := values[i]
	if !f.rejected {
		sent = r.withPolicies(sent)
	} else if placed := placedAfter(sent, name, r, req, base, now); placed != sent {
		// The deletion placed after a field passed unchanged is the
		// member's last field once applied (under report_only it stands
		// in for it): it has the prefix's attributes, and copies the
		// field's others.
		sent = placed
	}
	if !f.scan(sent, attributeKinds, 0) {
		return "", ""
	}
	plain := refusedUnprefixed(&f)
	if !plain && !(securePrefixed(name) && anyRefusesForAttrs(&f, name)) {
		return "", ""
	}
	attrs := deletionAttrsFrom(sent)
	if plain {
		attrs.secure = true
		if req.crossSite() {
			// Every engine refuses a cookie without SameSite=None on a
			// cross-site request.
			attrs.sameSite = "None"
		}
		secured = r.withPolicies(attrs.write(name, false))
	}
	return r.withPolicies(attrs.field(name)), secured
}

// takenDeletionAt reports whether the last field for name in values that
// Chromium and Firefox do not both refuse on req, and that may be at the
// place of deletion d (the Path, or the request's default path, the
// Domain and Partitioned of the field as the group's policies send it),
// is surely there, and one every engine reads as a
// deletion and both take: not refused for its attributes or its name
// prefix (see anyRefusesForAttrs), with Secure only over https, with
// SameSite=None on a cross-site request. A set either may take there
// after it, a field only one takes, or one the engines read apart (see
// setCookie.rejected) or the module does not read (over maxValueLen) at
// any place, counts as none.
func takenDeletionAt(values []string, name, d string, r *rule, req *request, base int64, now *clock) bool {
	var f setCookie
	if !f.scan(d, attributeKinds, 0) {
		return false
	}
	at, known := readPlace(&f, placeWhole, req)
	if !known || at.domainKind < 0 {
		return false
	}
	https := req != nil && req.https
	for i := len(values) - 1; i >= 0; i-- {
		if got, ok := cookieName(values[i]); !ok || got != name {
			continue
		}
		switch ok := f.scan(values[i], attributeKinds|lifetimeKinds, 0); {
		case ok && f.refusedForBytes():
			continue // Chromium and Firefox store none of it
		case !ok || f.rejected:
			return false // one over maxValueLen, which they may store, is not read
		}
		e := readExpiry(&f, base, now)
		if !f.scan(r.withPolicies(values[i]), attributeKinds, 0) {
			return false
		}
		switch {
		case refusedByBoth(&f, name, req), !https && hasSecure(&f, &attrPolicy{}), req.crossSite() && !sameSiteNone(&f):
			continue // neither stores it
		case anyRefusesForAttrs(&f, name):
			return false // Firefox may store it
		}
		deletes := e.deletion && !e.split && !e.unsure
		p, known := readPlace(&f, placeWhole, req)
		surelyHere := known && p.domainKind >= 0 && p.path == at.path && p.domainKind == at.domainKind &&
			strings.EqualFold(strings.TrimLeft(p.domain, "."), strings.TrimLeft(at.domain, ".")) && p.partitioned == at.partitioned
		switch {
		case deletes && surelyHere:
			return true
		case deletes, known && (p.apart(&at) || p.partitioned != at.partitioned):
			continue // surely elsewhere, or a deletion
		}
		return false // a set that may be there
	}
	return false
}

// refusedUnprefixed reports whether Chromium and Firefox refuse f
// (scanned with attributeKinds), whatever its name, for SameSite=None or
// Partitioned without Secure (see storedWithPolicies).
func refusedUnprefixed(f *setCookie) bool {
	var p attrPolicy
	return !p.keepsSecure(f, f.has&(1<<attrSecure) != 0) && (p.partitionedAfter(f) || p.sameSiteNoneAfter(f))
}

// refusedSetLast reports whether the last field for name in values that
// the cascade takes for the member's (see lastField), one the rewrite
// found deleting it, is a set only WebKitGTK stores (see webkitOnly:
// Chromium refuses it for its attributes, and Firefox too or it stores
// it where a __Host- deletion goes): the cascade would take that field's
// place for the deletions of the others, or read it as a log-out that
// WebKitGTK does not make. Then nothing cascades, as when the set
// counted as one.
func refusedSetLast(values []string, name string, r *rule, req *request, base int64, now *clock) bool {
	i := lastField(values, name)
	if i < 0 {
		return false
	}
	// Under report_only, a field passed unchanged stands for the deletion
	// placed after it once applied (see placedAfter), which is then the
	// last field.
	var f setCookie
	_, stores, _ := webkitOnly(&f, placedAfter(values[i], name, r, req, base, now), name, r, req, base, now)
	return stores // lastField skips the fields refused for their bytes
}
