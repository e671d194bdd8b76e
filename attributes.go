package cookienormalizer

import "strings"

// This file holds the attribute policies of a group (Secure, HttpOnly,
// Partitioned, SameSite, Path, Domain) and their edits to a scanned field.
// They apply to every matched cookie, deletions included: a deletion only
// removes the cookie a browser holds under the same name, Domain and Path
// (RFC 6265bis §5.7 step 23), so it must be rewritten like the cookie it
// removes.

// flagPolicy is what a group does with a flag attribute.
type flagPolicy uint8

const (
	flagKeep flagPolicy = iota // no policy
	flagOn                     // add the flag if it is missing
	flagOff                    // remove every occurrence
)

// valuePolicy is what a group does with an attribute that has a value
// (SameSite, Path, Domain): keep it, set it, or remove it.
type valuePolicy struct {
	set    bool
	remove bool
	value  string // the value to set
	attr   string // "; Name=value": what a set writes, built once
}

// noValuePolicy stands for a value policy skipped for one cookie.
var noValuePolicy valuePolicy

// attrPolicy is the compiled attribute policies of a group.
type attrPolicy struct {
	secure, httpOnly, partitioned flagPolicy
	sameSite, path, domain        valuePolicy
}

// replacement is what a replaced attribute of kind k becomes.
func (p *attrPolicy) replacement(k attrKind) string {
	switch k {
	case attrSameSite:
		return p.sameSite.attr
	case attrPath:
		return p.path.attr
	case attrDomain:
		return p.domain.attr
	}
	return ""
}

// any reports whether the group has any attribute policy.
func (p *attrPolicy) any() bool {
	return p.secure != flagKeep || p.httpOnly != flagKeep || p.partitioned != flagKeep ||
		p.sameSite.set || p.sameSite.remove || p.path.set || p.path.remove || p.domain.set || p.domain.remove
}

// Cookie name prefixes (RFC 6265bis §4.1.3): browsers store a __Secure-
// cookie only with Secure, and a __Host- cookie only with Secure, Path=/
// and no Domain. Recent drafts and Chromium compare them without regard to
// case; so do we, to protect every cookie some browser treats as prefixed.
// The __Http- and __Host-Http- prefixes (draft-ietf-httpbis-layered-cookies)
// also need HttpOnly: Chromium 156 and Firefox 153 refuse such a field
// without it, a deletion too (measured; WebKitGTK 2.50 does not check).
// A __Host-Http- name is a __Host- name.
const (
	prefixSecure   = "__Secure-"
	prefixHost     = "__Host-"
	prefixHTTP     = "__Http-"
	prefixHostHTTP = "__Host-Http-"
)

// securePrefixed reports whether browsers store a cookie named name only
// with Secure: a __Secure-, __Host- or __Http- name.
func securePrefixed(name string) bool {
	return hasPrefixFold(name, prefixSecure) || hasPrefixFold(name, prefixHost) || hasPrefixFold(name, prefixHTTP)
}

// httpPrefixed reports whether browsers store a cookie named name only
// with HttpOnly (and Secure): an __Http- or __Host-Http- name.
func httpPrefixed(name string) bool {
	return hasPrefixFold(name, prefixHTTP) || hasPrefixFold(name, prefixHostHTTP)
}

// hasPrefixFold reports whether name starts with prefix, ignoring ASCII case.
// Both prefixes start with '_', which has no other case: that byte alone
// settles almost every name.
func hasPrefixFold(name, prefix string) bool {
	return len(name) >= len(prefix) && name[0] == prefix[0] && strings.EqualFold(name[:len(prefix)], prefix)
}

// prefixBreaks returns which of p's edits would make browsers reject a
// cookie named name: a __Secure-, __Host- or __Http- cookie losing Secure,
// an __Http- or __Host-Http- cookie losing HttpOnly, a __Host- cookie
// given another Path or a Domain. Each is reported by its subdirective,
// for messages.
func (p *attrPolicy) prefixBreaks(name string) (breaks []string) {
	host := hasPrefixFold(name, prefixHost)
	if !securePrefixed(name) {
		return nil
	}
	if p.secure == flagOff {
		breaks = append(breaks, "secure off")
	}
	if p.httpOnly == flagOff && httpPrefixed(name) {
		breaks = append(breaks, "httponly off")
	}
	if host && p.path.set && p.path.value != "/" {
		breaks = append(breaks, "path "+p.path.value)
	}
	if host && p.domain.set {
		breaks = append(breaks, "domain "+p.domain.value)
	}
	return breaks
}

// hostPrefixRefused reports whether f, a field for name scanned with
// attributeKinds, has a __Host- name and, as sent, a Domain or a last
// Path other than "/": Chromium refuses such a cookie whatever else it
// says (RFC 6265bis §4.1.3.2; it checks the attributes, not the default
// path). Its Secure is checked with the __Secure- rule.
func hostPrefixRefused(f *setCookie, name string) bool {
	if !hasPrefixFold(name, prefixHost) {
		return false
	}
	path := ""
	attrs := f.attrs()
	for i := range attrs {
		switch a := &attrs[i]; {
		case a.kind == attrDomain:
			return true
		case a.kind == attrPath && !a.oversized():
			path = f.value(a)
		}
	}
	return path != "/"
}

// attrEdits marks the edits of p on f (attr.drop, attr.repl) and appends
// what it adds to tail. skipped reports an edit left out because it would
// break the cookie's name prefix. f must have been scanned for the kinds
// p.kinds returns (or more). It allocates nothing: the attributes it
// writes were built at provision.
func (p *attrPolicy) attrEdits(f *setCookie, tail []byte) (out []byte, skipped bool) {
	host, prefixed := hasPrefixFold(f.name, prefixHost), securePrefixed(f.name)

	secure, httpOnly, partitioned := p.secure, p.httpOnly, p.partitioned
	path, domain := &p.path, &p.domain
	if prefixed && secure == flagOff {
		secure, skipped = flagKeep, true
	}
	if httpOnly == flagOff && httpPrefixed(f.name) {
		httpOnly, skipped = flagKeep, true
	}
	if secure == flagOff && refusedWithoutSecure(f, p) {
		// Browsers refuse a SameSite=None or a Partitioned cookie
		// without Secure (RFC 6265bis §5.6 step 10, CHIPS): without it
		// a deletion would delete nothing, and the cookie it should
		// delete would stay live.
		secure, skipped = flagKeep, true
	}
	if host && path.set && path.value != "/" {
		path, skipped = &noValuePolicy, true
	}
	if host && domain.set {
		domain, skipped = &noValuePolicy, true
	}

	hasSecure := f.has&(1<<attrSecure) != 0
	hasHTTPOnly := f.has&(1<<attrHTTPOnly) != 0
	hasPartitioned := f.has&(1<<attrPartitioned) != 0
	lastSameSite, lastPath, lastDomain := -1, -1, -1
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch a.kind {
		case attrSecure:
			a.drop = a.drop || secure == flagOff
		case attrHTTPOnly:
			a.drop = a.drop || httpOnly == flagOff
		case attrPartitioned:
			a.drop = a.drop || partitioned == flagOff
		case attrSameSite:
			lastSameSite = keepLast(attrs, lastSameSite, i, &p.sameSite)
		case attrPath:
			lastPath = keepLast(attrs, lastPath, i, path)
		case attrDomain:
			lastDomain = keepLast(attrs, lastDomain, i, domain)
		}
	}
	// The last occurrence of a set attribute is rewritten where it stands,
	// unless it already says what the policy says (then its bytes stay).
	setLast(f, attrs, lastSameSite, &p.sameSite, true)
	setLast(f, attrs, lastPath, path, false)
	setLast(f, attrs, lastDomain, domain, true)

	return appendSet(tail, setAttrs{
		path:        path.set && lastPath < 0,
		domain:      domain.set && lastDomain < 0,
		secure:      secure == flagOn && !hasSecure,
		httpOnly:    httpOnly == flagOn && !hasHTTPOnly,
		sameSite:    p.sameSite.set && lastSameSite < 0,
		partitioned: partitioned == flagOn && !hasPartitioned,
	}, p), skipped
}

// keepsSecure reports whether f has Secure as the policies of p send it,
// where has says whether the field as written has one: secure on adds
// it, secure off removes it but where that would break a __Host-,
// __Secure- or __Http- name or make browsers refuse the field (see
// attrEdits).
func (p *attrPolicy) keepsSecure(f *setCookie, has bool) bool {
	switch p.secure {
	case flagOn:
		return true
	case flagOff:
		return has && (securePrefixed(f.name) || refusedWithoutSecure(f, p))
	}
	return has
}

// keepsHTTPOnly reports whether f has HttpOnly as the policies of p send
// it, where has says whether the field as written has one: httponly off
// removes it but from an __Http- or __Host-Http- name (see attrEdits).
func (p *attrPolicy) keepsHTTPOnly(f *setCookie, has bool) bool {
	switch p.httpOnly {
	case flagOn:
		return true
	case flagOff:
		return has && httpPrefixed(f.name)
	}
	return has
}

// refusedWithoutSecure reports whether browsers would refuse f, after the
// policies of p, without Secure: its SameSite is None, or it is
// Partitioned (the SameSite and Partitioned kinds are recorded or noted
// when p removes Secure: see kinds).
func refusedWithoutSecure(f *setCookie, p *attrPolicy) bool {
	// Firefox reads a Partitioned whose value is over 1024 bytes, which
	// Chromium ignores (see longFlags): it would refuse the field without
	// Secure, unless the policy removes every Partitioned.
	return p.partitionedAfter(f) || p.sameSiteNoneAfter(f) || p.partitioned == flagKeep && f.longFlags&(1<<attrPartitioned) != 0
}

// partitionedAfter reports whether f is Partitioned as the policies of p
// send it.
func (p *attrPolicy) partitionedAfter(f *setCookie) bool {
	if p.partitioned != flagKeep {
		return p.partitioned == flagOn
	}
	return f.has&(1<<attrPartitioned) != 0
}

// sameSiteNoneAfter reports whether the SameSite of f says None as the
// policies of p send it (see sameSiteNone).
func (p *attrPolicy) sameSiteNoneAfter(f *setCookie) bool {
	switch {
	case p.sameSite.set:
		return strings.EqualFold(p.sameSite.value, "none")
	case p.sameSite.remove:
		return false
	}
	return sameSiteNone(f)
}

// kinds returns the attribute kinds the policies of p read in a field:
// those whose spans they edit (a flag turned off is removed, a value set
// or removed is rewritten in place), and those that only need to be known
// present (a flag turned on is added when missing). A kind no policy names
// is not read at all.
func (p *attrPolicy) kinds() (record, note kindMask) {
	for _, fl := range [...]struct {
		policy flagPolicy
		kind   attrKind
	}{{p.secure, attrSecure}, {p.httpOnly, attrHTTPOnly}, {p.partitioned, attrPartitioned}} {
		switch fl.policy {
		case flagOn:
			note |= 1 << fl.kind
		case flagOff:
			record |= 1 << fl.kind
		}
	}
	for _, v := range [...]struct {
		policy *valuePolicy
		kind   attrKind
	}{{&p.sameSite, attrSameSite}, {&p.path, attrPath}, {&p.domain, attrDomain}} {
		if v.policy.set || v.policy.remove {
			record |= 1 << v.kind
		}
	}
	if p.secure == flagOff {
		// Whether removing Secure would make browsers refuse the
		// cookie (see refusedWithoutSecure).
		record |= 1 << attrSameSite
		note |= 1 << attrPartitioned
	}
	return record, note
}

// setAttrs says which of a policy's attributes to append.
type setAttrs struct {
	path, domain, secure, httpOnly, sameSite, partitioned bool
}

// every returns setAttrs for all the attributes p sets or turns on.
func (p *attrPolicy) every() setAttrs {
	return setAttrs{
		path: p.path.set, domain: p.domain.set, secure: p.secure == flagOn,
		httpOnly: p.httpOnly == flagOn, sameSite: p.sameSite.set, partitioned: p.partitioned == flagOn,
	}
}

// appendSet appends the attributes of p that which names, in the one fixed
// order every field the module writes uses, so that a later rewrite finds
// them all present (idempotence).
func appendSet(b []byte, which setAttrs, p *attrPolicy) []byte {
	if which.path {
		b = append(b, p.path.attr...)
	}
	if which.domain {
		b = append(b, p.domain.attr...)
	}
	if which.secure {
		b = append(b, "; Secure"...)
	}
	if which.httpOnly {
		b = append(b, "; HttpOnly"...)
	}
	if which.sameSite {
		b = append(b, p.sameSite.attr...)
	}
	if which.partitioned {
		b = append(b, "; Partitioned"...)
	}
	return b
}

// keepLast handles attribute i under a value policy: a removal drops every
// occurrence; a set drops every occurrence but the last, which setLast
// rewrites. It returns the index of the last occurrence so far.
func keepLast(attrs []attr, last, i int, v *valuePolicy) int {
	switch {
	case v.remove:
		attrs[i].drop = true
	case v.set && last >= 0:
		attrs[last].drop = true
	}
	return i
}

// setLast rewrites the last occurrence of an attribute a set policy names,
// unless its value already equals the policy's (without regard to case
// when fold is set: SameSite values and domains).
func setLast(f *setCookie, attrs []attr, last int, v *valuePolicy, fold bool) {
	if !v.set || last < 0 {
		return
	}
	a := &attrs[last]
	got := f.value(a)
	if a.oversized() || fold && !strings.EqualFold(got, v.value) || !fold && got != v.value {
		a.replace = true
	}
}
