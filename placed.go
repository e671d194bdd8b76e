package cookienormalizer

// A deletion the module cannot rewrite, under a path or domain policy.
//
// A `path` or `domain` policy moves a group's cookies, and rewrites the
// app's deletions to the same place, since a deletion removes only the
// cookie of its own name, Domain and Path (RFC 6265bis §5.7). A field the
// scan rejects without browsers refusing it (a HTAB, or a ',' in an
// attribute's name, where libsoup stops reading and Chromium and Firefox
// read on) passes unchanged: rewritten, it would read differently in
// WebKitGTK. Such a deletion would then remove nothing where the policy
// put the cookie, and the log-out, which works without the module, would
// fail in every engine. So when every engine reads it as a deletion, a
// clean deletion at the policies' place is appended after it: an added
// deletion makes nothing live, and the app's field is left as it was.

// placeDeletions appends to values, for each field the pass passed
// unchanged under a group with a path or domain policy that every engine
// reads as a deletion and that is the last field for its name, the
// deletion of that name at the place the group's policies give it, with
// the field's Secure, SameSite and Partitioned after the policies (as a
// cascade's deletions are built). The member's state is then a deletion.
// A report_only handler counts it and appends nothing, and on a later
// final pass over the same response reads only the fields added since
// (see request.placedFrom). Out of line, like the other rare work: only
// a response with such a field runs it.
//
//go:noinline
func (p *rewritePass) placeDeletions(values []string, state *memberStates, req *request) []string {
	n, had, from := p.n, len(values), 0
	if n.reportOnly && req != nil {
		from, req.placedFrom = min(req.placedFrom, had), had
	}
	for i := from; i < had; i++ {
		v := values[i]
		name, ok := cookieName(v)
		if !ok || len(name) > maxNameValueLen {
			continue
		}
		g, member := n.matcher.matchMember(name)
		if g < 0 || !n.rules[g].placed || member < 0 && n.isStamp(name) {
			continue
		}
		r := &n.rules[g]
		var f setCookie
		if lastField(values[:had], name) != i || !f.scan(v, lifetimeKinds|attributeKinds, 0) ||
			!deletedEverywhereUnread(&f, p.base, &p.now) || !placeKnown(&f, &r.attrs) {
			continue
		}
		if !n.reportOnly {
			values = append(values, r.withPolicies(deletionAttrsFrom(v).field(name)))
		}
		if state != nil && member >= 0 {
			state[member] = memberDeleted
		}
		if p.obs != nil {
			p.obs.observe(name, g, actionDeletionPlaced)
		}
	}
	return values
}

// deletedEverywhereUnread reports whether f (scanned with lifetimeKinds)
// is a field the scan rejects but browsers do not refuse, which every
// engine reads as a deletion:
// Chromium and Firefox (and RFC 6265bis) read all of it, libsoup only up
// to where it stops. So the readings of the whole field but libsoup's,
// and libsoup's of the part it reads, must all delete, and be known.
func deletedEverywhereUnread(f *setCookie, base int64, now *clock) bool {
	if !f.rejected || f.refused {
		return false
	}
	// libsoup's reading of the whole field, which it does not read, is
	// discarded: neither that it keeps the cookie nor that it is not
	// known (an Expires after the stop) counts; and of the part libsoup
	// reads, only its reading does (Chromium's of an Expires there may be
	// unknown, under a Date the module cannot read).
	const soup = 1 << byLibsoup
	if e := readExpiry(f, base, now); !e.deletion || (e.kept|e.unknown)&^soup != 0 {
		return false
	}
	var cut setCookie
	if !cut.scan(f.v[:f.stop], lifetimeKinds, 0) || cut.rejected {
		return false
	}
	e := readExpiry(&cut, base, now)
	return e.deletion && (e.kept|e.unknown)&soup == 0
}

// placeKnown reports whether the Path and Domain the placed deletion
// copies from f (scanned with attributeKinds; those the policies do not
// set) are where the engines
// read them. A value with a control byte (a tab) in it, which Chromium
// and Firefox read whole and libsoup up to the byte, is left out of the
// copy (see deletionAttrsFrom): the deletion would then go to the
// request's default-path, an earlier Path or no Domain, a place the
// app's field names in no engine, and could delete a cookie the app
// keeps there. So does a value over 1024 bytes, which Chromium and
// Firefox ignore and libsoup reads. When unsure, nothing is placed.
func placeKnown(f *setCookie, p *attrPolicy) bool {
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch {
		case a.kind == attrPath && !p.path.set && !p.path.remove,
			a.kind == attrDomain && !p.domain.set && !p.domain.remove:
			if a.oversized() || hasControl(f.value(a)) {
				return false
			}
		}
	}
	return true
}
