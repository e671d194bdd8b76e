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

// webkitCut is where libsoup stops reading v: its first byte below 0x20
// (HTAB too) or over 0x7f, else len(v). (A DEL, which Chromium and
// Firefox refuse, libsoup reads as any other byte.)
func webkitCut(v string) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7f {
			return i
		}
	}
	return len(v)
}

// refusedPlaces returns the deletions of name, one per place, that remove
// what WebKitGTK stores from the fields for name in values (the
// response's own) that Chromium refuses and WebKitGTK stores (see
// webkitOnly); ok
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
		d, written := at.deletionAsRead(name)
		if !known || !written {
			return out, false
		}
		switch {
		case deletedLater(values, i, name, d, r, req, base, now):
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
// not append.
func deletedLater(values []string, i int, name, d string, r *rule, req *request, base int64, now *clock) bool {
	var f setCookie
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
		sent := r.withPolicies(v)
		if !f.scan(sent, lifetimeKinds|attributeKinds, 0) {
			continue
		}
		if e := readExpiry(&f, base, now); e.deletion && !e.unsure && !e.split && sameDeletionPlace(sent, d) {
			return true
		}
	}
	return false
}

// webkitOnly reports whether v, a field for name, is one Chromium (and
// mostly Firefox) refuse and WebKitGTK may store as a live cookie
// (stores), and where WebKitGTK puts it (known: whether that place is
// known). A field the module rewrites is read as the group's policies
// send it; one it passes unchanged as it is, up to where libsoup stops.
// A field that WebKitGTK surely reads as a deletion stores nothing. A
// __Host- field without Path=/ counts, though Firefox may store it (at
// the default path, when that is /): WebKitGTK, which checks no prefix,
// stores it at its own place, where a deletion the module writes for a
// __Host- name (at /) does not reach it.
func webkitOnly(f *setCookie, v, name string, r *rule, req *request, base int64, now *clock) (at place, stores, known bool) {
	if !f.scan(v, attributeKinds|lifetimeKinds, 0) {
		return at, false, false
	}
	switch {
	case f.refused && len(v) <= maxValueLen:
		if !f.scan(v[:webkitCut(v)], attributeKinds|lifetimeKinds, 0) || f.name != name {
			return at, false, false // WebKitGTK stores no cookie of this name
		}
	case f.rejected:
		// Read by every engine in its own way: see rejectedEffect.
		return at, false, false
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
	at, known = readPlace(f, false, req)
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
// response's own) is a deletion some engine refuses for its name prefix
// (see anyRefusesForAttrs; as the group's policies send it, or, passed unchanged,
// as Chromium and Firefox read it), a deletion of it at the same place
// that they take: the others' deletions a cascade appends carry no
// prefix, and every engine would take them while Chromium and Firefox
// kept this member. A __Host- deletion goes to Path=/ without Domain.
// "" when there is none to fix (the deletion placed after a field passed
// unchanged has the prefix's attributes: see placeDeletions).
func prefixFixed(values []string, name string, r *rule, req *request, base int64, now *clock) string {
	i := lastField(values, name)
	if i < 0 || !securePrefixed(name) {
		return ""
	}
	var f setCookie
	if !f.scan(values[i], attributeKinds, 0) {
		return ""
	}
	sent := values[i]
	if f.rejected {
		if placedAfter(sent, name, r, req, base, now) != sent {
			return ""
		}
	} else if sent = r.withPolicies(sent); !f.scan(sent, attributeKinds, 0) {
		return ""
	}
	if !anyRefusesForAttrs(&f, name) {
		return ""
	}
	return r.withPolicies(deletionAttrsFrom(sent).field(name))
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
	var f setCookie
	_, stores, _ := webkitOnly(&f, values[i], name, r, req, base, now)
	return stores // lastField skips the fields refused for their bytes
}
