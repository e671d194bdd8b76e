package cookienormalizer

import (
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// A deletion the module cannot rewrite, under a path or domain policy.
//
// A `path` or `domain` policy moves a group's cookies, and rewrites the
// app's deletions to the same place, since a deletion removes only the
// cookie of its own name, Domain and Path (RFC 6265bis §5.7). A field the
// scan rejects without browsers refusing it (a HTAB, or a ',' in an
// attribute's name, where libsoup stops reading and Chromium and Firefox
// read on, libsoup 3.4 and later only at the ',': see soupRelease;
// Chromium refuses a HTAB inside a name or a value, and keeps the cookie
// it had) passes unchanged: rewritten, it would read differently in
// WebKitGTK. Such a deletion would then remove nothing where the policy
// put the cookie, and the log-out, which works without the module, would
// fail. So when some engine reads it as a deletion, a clean deletion at
// the policies' place is appended after it: an added deletion makes
// nothing live, and the app's field is left as it was.
//
// When the engines read it apart (libsoup a Max-Age=0 before the tab,
// the others a Max-Age=3600 after it), an engine that reads it as a set
// stores it where that engine reads its Path: the placed deletion, coming
// after it, must not be at that same place, or it would delete the cookie
// the app just set there. It is placed only when, for every engine that
// keeps the field, the place is known and apart from the deletion's. Then
// each engine ends as without the module: the moved cookie is gone, and
// the field has done at the app's place what it does in that engine.

// placeDeletions appends to values, for each field the pass passed
// unchanged under a group with a path or domain policy that some engine
// reads as a deletion and that is the last field for its name, the
// deletion of that name at the place the group's policies give it, with
// the field's Secure, SameSite and Partitioned after the policies (as a
// cascade's deletions are built). The member's state is then a deletion,
// or a placed split one when some engine keeps the field (a cascade then
// deletes it where those engines store it too: see keptPlaceDeletions).
// A report_only handler counts it
// and appends nothing, and on a later final pass over the same response
// reads only the fields added since (see request.placedFrom). Out of
// line, like the other rare work: only a response with such a field runs
// it.
//
//go:noinline
func (p *rewritePass) placeDeletions(values []string, state *memberStates, req *request) []string {
	n, had, from := p.n, len(values), 0
	if n.reportOnly && req != nil {
		from, req.placedFrom = min(req.placedFrom, had), had
	}
	var stored lastStored
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
		if !f.scan(v, lifetimeKinds|attributeKinds, 0) || !f.rejected || f.refused {
			continue // not a field passed unchanged that browsers store
		}
		last, before := stored.lastTwo(values[:had], name)
		// again: a later pass over the same response (a field added
		// before the first body byte), where the deletion an earlier
		// pass placed after this field is the last for its name. The
		// member's state is then what the earlier pass made it; nothing
		// is appended or counted again.
		again := last > i && before == i
		if last != i && !again {
			continue
		}
		field, keeps, ok := placement(&f, v, name, r, req, p.base, &p.now)
		if !ok || again && values[last] != field {
			continue
		}
		if !n.reportOnly && !again {
			values = append(values, field)
		}
		if state != nil && member >= 0 {
			state[member] = memberDeleted
			if keeps != 0 {
				state[member] = memberUnreadSplit
			}
		}
		if p.obs != nil && !again {
			p.obs.observe(name, g, actionDeletionPlaced)
		}
	}
	return values
}

// lastStored answers, for placeDeletions, which fields of a response are
// the last two for their names that browsers store (see lastField). The
// first few questions are answered by lastField itself, each a walk back
// over the fields; after that, one walk over them all builds an index,
// so that a response with thousands of fields the module passes unchanged
// costs time linear in its fields, not their square.
type lastStored struct {
	asked int
	index map[string][2]int
}

// lastStoredWalks is how many questions lastStored answers by walking
// before it builds its index: a response with a field or two passed
// unchanged allocates nothing.
const lastStoredWalks = 8

// lastTwo returns the indexes in values of the last field for name that
// browsers store, and of the one before it; -1 for none.
func (s *lastStored) lastTwo(values []string, name string) (last, before int) {
	if s.index == nil && s.asked < lastStoredWalks {
		s.asked++
		last, before = lastField(values, name), -1
		if last > 0 {
			before = lastField(values[:last], name)
		}
		return last, before
	}
	if s.index == nil {
		s.index = make(map[string][2]int)
		var f setCookie
		for i := len(values) - 1; i >= 0; i-- {
			got, ok := cookieName(values[i])
			if !ok {
				continue
			}
			e, seen := s.index[got]
			if seen && e[1] >= 0 || f.scan(values[i], 0, 0) && f.refusedForBytes() {
				continue
			}
			if !seen {
				s.index[got] = [2]int{i, -1}
			} else {
				s.index[got] = [2]int{e[0], i}
			}
		}
	}
	if e, ok := s.index[name]; ok {
		return e[0], e[1]
	}
	return -1, -1
}

// placement returns the deletion placeDeletions appends after v, the
// field for name (scanned into f with lifetimeKinds|attributeKinds) under
// r, when it appends one (ok), and the readings that keep v.
func placement(f *setCookie, v, name string, r *rule, req *request, base int64, now *clock) (field string, keeps uint8, ok bool) {
	if !r.placed || !placeKnown(f, &r.attrs) {
		return "", 0, false
	}
	keeps, refuses, known := unreadReadings(f, base, now)
	if !known || allEngines&^(keeps|refuses) == 0 {
		return "", keeps, false
	}
	field = r.withPolicies(deletionAttrsFrom(v).field(name))
	if keeps != 0 && !placedApart(f, field, keeps, refuses, req) {
		return "", keeps, false
	}
	return field, keeps, true
}

// placedAfter returns the deletion placeDeletions places after v, the
// field for name under r, when it places one, else v.
func placedAfter(v, name string, r *rule, req *request, base int64, now *clock) string {
	var f setCookie
	if !f.scan(v, lifetimeKinds|attributeKinds, 0) || !f.rejected {
		return v
	}
	if field, _, ok := placement(&f, v, name, r, req, base, now); ok {
		return field
	}
	return v
}

// The readings of a field (see readExpiry) that are engines', and the
// engines a field the scan rejects is read by (see unreadReadings):
// Chromium and Firefox by their readings' bits, each release of libsoup
// by its own (soupRelease.bit), past the readings'.
const (
	wholeEngines uint8 = 1<<byChromium | 1<<byFirefox
	soupEngine   uint8 = 1<<byLibsoup | 1<<byLibsoupSkips
	soupReleases uint8 = (1<<numSoupReleases - 1) << numReadings
	allEngines         = wholeEngines | soupReleases
)

// The bits of the readings and of the releases fit in unreadReadings'
// masks (this line stops compiling if they ever do not).
const _ = uint8(1 << (numReadings + numSoupReleases - 1))

// soupRelease is a release line of libsoup (WebKitGTK's HTTP library),
// which read a field the scan rejects apart from each other (libsoup's
// source, soup-cookie.c; measured with 3.2, 3.4.4 and 3.6.5:
// docs/verification.md):
//
//   - 3.2 and earlier stop reading it at a byte below 0x20 or over 0x7f
//     (but for a HTAB in the white space before a name or a value: see
//     soupLeads) and at a ',' in an attribute's name (setCookie.stop),
//     read every attribute whatever its length, and refuse a field whose
//     last Domain is over 1024 bytes (setCookie.soupRefused);
//   - 3.4 to 3.6.4 stop only at the ',' (setCookie.commaStop), read the
//     rest as 3.2 does (setCookie.soupLongDomain), and refuse a field
//     for its attributes as their cookie jar checks them
//     (soupRefusesForAttrs);
//   - 3.6.5 and later stop there too, refuse as 3.4 does, and skip a
//     Max-Age, Path or Domain over 1024 bytes, as Chromium and Firefox
//     do.
//
// The first two read a lifetime as byLibsoup does, the last as
// byLibsoupSkips (which also caps a Max-Age at a year, as 3.6.0 and
// later do). Where the module writes a deletion for a field only
// WebKitGTK stores among the three engines (one Chromium and Firefox
// refuse for its bytes or attributes: see webkitOnly), it reads
// WebKitGTK as 3.2 does, which checks no name prefix; the later
// releases, which refuse some of those fields, then find nothing to
// delete there.
type soupRelease uint8

const (
	soup32 soupRelease = iota
	soup34
	soup365
	numSoupReleases
)

// bit is the release's bit in the masks of unreadReadings.
func (s soupRelease) bit() uint8 { return 1 << (numReadings + s) }

// reading is the bit of the release's reading of a lifetime.
func (s soupRelease) reading() uint8 {
	if s == soup365 {
		return 1 << byLibsoupSkips
	}
	return 1 << byLibsoup
}

// cut is where the release stops reading f.
func (s soupRelease) cut(f *setCookie) int {
	if s == soup32 {
		return f.stop
	}
	return f.commaStop
}

// refuses reports whether the release refuses f for a Domain over 1024
// bytes.
func (s soupRelease) refuses(f *setCookie) bool {
	switch s {
	case soup32:
		return f.soupRefused
	case soup34:
		return f.soupLongDomain
	}
	return false
}

// placeMode is how the release reads attributes over 1024 bytes in a
// place (see readPlace).
func (s soupRelease) placeMode() placeMode {
	if s == soup365 {
		return placeSoupSkips
	}
	return placeSoup
}

// soupPlace reads where the release puts f's cookie, reading f up to
// where the release stops (cut is scratch space).
func (s soupRelease) soupPlace(f, cut *setCookie, req *request) (place, bool) {
	if !cut.scan(f.v[:s.cut(f)], attributeKinds, 0) {
		return place{}, false
	}
	return readPlace(cut, s.placeMode(), req)
}

// unreadReadings returns, for f (scanned with lifetimeKinds) a field the
// scan rejects but browsers do not refuse, the engines that keep it and
// those that refuse it (see refusingEngines; a release of libsoup that
// may do either is in both): Chromium and Firefox (and
// RFC 6265bis) by their readings' bits, each release of libsoup by its
// own (see soupRelease); and whether every reading is known. Chromium
// and Firefox read all of it, each release of libsoup the part before
// where it stops: libsoup's readings of the whole field are discarded,
// and of the part a release reads, only its own reading counts
// (Chromium's of an Expires there may be unknown, under a Date the
// module cannot read).
func unreadReadings(f *setCookie, base int64, now *clock) (keeps, refuses uint8, known bool) {
	if !f.rejected || f.refused {
		return 0, 0, false
	}
	refuses = refusingEngines(f) &^ soupEngine
	e := readExpiry(f, base, now)
	if e.unknown&^soupEngine&^refuses != 0 {
		return 0, 0, false
	}
	keeps = e.kept &^ soupEngine &^ refuses
	var cut setCookie
	maybe := false
	for s := range numSoupReleases {
		if s.refuses(f) {
			refuses |= s.bit()
			continue
		}
		if !cut.scan(f.v[:s.cut(f)], lifetimeKinds|attributeKinds, 0) || cut.refused {
			return 0, 0, false
		}
		if s != soup32 {
			switch refused, known := soupRefusesForAttrs(&cut, s); {
			case !known:
				// It may refuse the field or store it: both.
				refuses, keeps, maybe = refuses|s.bit(), keeps|s.bit(), true
				continue
			case refused:
				refuses |= s.bit()
				continue
			}
		}
		c := readExpiry(&cut, base, now)
		switch {
		case c.unknown&s.reading() != 0 && s == soup32:
			return 0, 0, false
		case c.unknown&s.reading() != 0:
			// A later release's reading not known: it may keep the
			// field, and counts as keeping it where another engine
			// surely deletes (see below).
			keeps, maybe = keeps|s.bit(), true
		case c.kept&s.reading() != 0:
			keeps |= s.bit()
		}
	}
	if maybe && allEngines&^(keeps|refuses) == 0 {
		return 0, 0, false // no engine surely deletes it
	}
	return keeps, refuses, true
}

// soupRefusesForAttrs reports whether libsoup 3.4 and later refuse f
// (the part they read, scanned with attributeKinds) for its attributes,
// as their cookie jar checks them (soup-cookie-jar.c): SameSite=None
// without Secure, a __Secure- name without Secure, a __Host- name
// without Secure, with a Path other than / or with a Domain that is not
// an IP address (libsoup puts a '.' before it); known is false for a
// __Host- name whose Path is the request's default path, not known here
// (refused is then true too).
// libsoup reads a flag whatever its value, keeps the last SameSite of
// None or Strict (it passes over any other value, Lax included), skips
// an empty Path or one not starting with '/', and, from 3.6.5, skips a
// Path or Domain over 1024 bytes (a longer Domain, which 3.4 reads, is
// refused before: see soupRelease.refuses).
func soupRefusesForAttrs(f *setCookie, s soupRelease) (refused, known bool) {
	secure := (f.has|f.longFlags)&(1<<attrSecure) != 0
	none, path, hasPath, domain := false, "", false, ""
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		if !a.eq {
			continue
		}
		switch v := f.value(a); {
		case a.kind == attrSameSite && strings.EqualFold(v, "none"):
			none = true
		case a.kind == attrSameSite && strings.EqualFold(v, "strict"):
			none = false
		case s == soup365 && a.oversized():
		case a.kind == attrPath:
			path, hasPath = v, strings.HasPrefix(v, "/")
		case a.kind == attrDomain:
			domain = v
		}
	}
	host := hasPrefixFold(f.name, prefixHost)
	switch {
	case none && !secure, (host || hasPrefixFold(f.name, prefixSecure)) && !secure:
		return true, true
	case !host:
		return false, true
	case domain != "" && (!ipAddress(domain) || domain[0] == '.'):
		return true, true
	case !hasPath:
		return true, false
	}
	return path != "/", true
}

// refusingEngines returns the engines (their readings' bits) that refuse
// f, a field the scan rejects but browsers do not refuse for its bytes:
// Chromium for a HTAB inside (see tabInside), libsoup before 3.6.5 for a
// Domain over 1024 bytes (byLibsoup when both 3.2 and 3.4 do: see
// soupRelease), and those that refuse it for its attributes (see
// refusingForAttrs). They keep the cookie they had, wherever that is.
func refusingEngines(f *setCookie) uint8 {
	refuses := refusingForAttrs(f.v)
	if f.tabInside {
		refuses |= 1 << byChromium
	}
	if f.soupRefused && f.soupLongDomain {
		refuses |= 1 << byLibsoup
	}
	return refuses
}

// placedApart reports whether the deletion placed, field, is at another
// place than the one where each engine in keeps (see unreadReadings)
// stores f, the app's field (scanned with attributeKinds): a deletion
// removes only the cookie of its own name, Domain and Path (RFC 6265bis
// §5.7), so then it cannot delete the cookie f sets. Chromium and
// Firefox read the whole field, each release of libsoup the part before
// where it stops (not one that refuses it at that place: see
// refusedAtPlace). When a place is not known, they are not apart.
func placedApart(f *setCookie, field string, keeps, refuses uint8, req *request) bool {
	var d, cut setCookie
	d.scan(field, attributeKinds, 0)
	at, ok := readPlace(&d, placeSoup, req)
	if !ok {
		return false
	}
	if keeps&^soupReleases != 0 {
		if p, ok := readPlace(f, placeWhole, req); !ok || !at.apart(&p) {
			return false
		}
	}
	for s := range numSoupReleases {
		if keeps&s.bit() == 0 {
			continue
		}
		p, ok := s.soupPlace(f, &cut, req)
		if ok && refusedAtPlace(f.name, &p, s, keeps, refuses) {
			continue
		}
		if !ok || !at.apart(&p) {
			return false
		}
	}
	return true
}

// place is where a field puts its cookie as one engine reads it, and the
// attributes a deletion of it copies.
type place struct {
	path, domain, sameSite string
	// domainKind: 0 when no Domain attribute is read (a host-only
	// cookie), 1 when each one read has a value (a Domain cookie, if the
	// engine stores it at all), -1 otherwise (an empty Domain, or one
	// naming the request's host where that is an IP address or one
	// label, which engines read their own ways).
	domainKind          int8
	secure, partitioned bool
	// long: some attribute read is over 1024 bytes (libsoup reads it,
	// Chromium and Firefox would not read it in a deletion).
	long bool
}

// apart reports whether a cookie at p is surely another than one at q:
// another Path, or a Domain on one and none on the other (a host-only
// cookie is not the Domain cookie of the same host).
func (p *place) apart(q *place) bool {
	return p.path != q.path || p.domainKind >= 0 && q.domainKind >= 0 && p.domainKind != q.domainKind
}

// deletion is the deletion of name at p, with its Secure, SameSite and
// Partitioned; false when no deletion can be written that every engine
// reads at p (an odd byte, a value over 1024 bytes, an empty Domain).
func (p *place) deletion(name string) (string, bool) {
	return p.deletionWith(name, true)
}

// deletionAsRead is deletion with p's attributes as they are, whatever
// the name's prefix asks: the deletion of a cookie an engine stored
// though its attributes break the prefix (see webkitOnly).
func (p *place) deletionAsRead(name string) (string, bool) {
	return p.deletionWith(name, false)
}

// deletionKeeping is the deletion of name at p where an engine that
// may check no name prefix (libsoup) stored a cookie: with the
// attributes the prefix asks for where they keep the deletion at p
// (Secure, HttpOnly; a __Host- name's Path=/ without Domain only where
// p is that), so that an engine that checks the prefix and kept its own
// cookie there takes it too; else as p reads, for the engine that
// stored it there.
func (p *place) deletionKeeping(name string) (string, bool) {
	if hasPrefixFold(name, prefixHost) && (p.path != "/" || p.domain != "") {
		return p.deletionAsRead(name)
	}
	return p.deletion(name)
}

// deletionWith is deletion, with the attributes the name's prefix asks
// for when prefixed.
func (p *place) deletionWith(name string, prefixed bool) (string, bool) {
	if p.long || p.domainKind < 0 || hasOddByte(p.path) || hasOddByte(p.domain) || hasOddByte(p.sameSite) {
		return "", false
	}
	d := deletionAttrs{path: p.path, domain: p.domain, sameSite: p.sameSite, secure: p.secure, partitioned: p.partitioned}
	if prefixed {
		return d.field(name), true
	}
	return d.write(name, false), true
}

// placeMode is how readPlace reads attributes over 1024 bytes.
type placeMode uint8

const (
	// placeWhole ignores them, as Chromium and Firefox do (RFC 6265bis
	// §5.6).
	placeWhole placeMode = iota
	// placeSoup reads them, and marks the place long, as libsoup before
	// 3.6.5 does.
	placeSoup
	// placeSoupSkips ignores a Path or Domain that long and marks the
	// place long for any other, as libsoup 3.6.5 and later do.
	placeSoupSkips
)

// readPlace reads where f puts its cookie: the last Path attribute, or,
// with none, the default-path of the request's target (RFC 6265bis
// §5.1.4); the last Domain, and the other attributes a deletion copies.
// Attributes over 1024 bytes are read as mode says. For Chromium and
// Firefox (placeWhole), a last Path that does not start with '/', which
// they read their own ways, or a target not known, is not known; libsoup
// reads a Path only with a '=' and drops one that does not start with
// '/', for the default path (soup-cookie.c).
func readPlace(f *setCookie, mode placeMode, req *request) (place, bool) {
	var p place
	hasPath := false
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		if a.oversized() {
			if mode == placeWhole || mode == placeSoupSkips && (a.kind == attrPath || a.kind == attrDomain) {
				continue
			}
			p.long = true
		}
		switch v := f.value(a); a.kind {
		case attrDomain:
			p.domain = v
			if strings.TrimLeft(v, ".") == "" {
				p.domainKind = -1
			} else if p.domainKind == 0 {
				p.domainKind = 1
			}
		case attrPath:
			switch {
			case mode == placeWhole:
				p.path, hasPath = v, true
			case !a.eq:
				// libsoup reads a Path only with a '='.
			case strings.HasPrefix(v, "/"):
				p.path, hasPath = v, true
			default:
				// libsoup drops a Path that does not start with '/'
				// (soup-cookie.c): the default path.
				p.path, hasPath = "", false
			}
		case attrSameSite:
			p.sameSite = v
		case attrSecure:
			p.secure = true
		case attrPartitioned:
			p.partitioned = true
		}
	}
	if d := strings.TrimLeft(p.domain, "."); p.domainKind == 1 && hostOnlyDomain(d, d) {
		// A Domain naming an IP address or a one-label host: Chromium
		// and Firefox store it host-only when it is the request's host,
		// WebKitGTK as a Domain cookie (see fieldScope.apart).
		if h := req.hostName(); h == "" || strings.EqualFold(d, h) {
			p.domainKind = -1
		}
	}
	switch {
	case hasPath && (p.path == "" || p.path[0] != '/'):
		return p, false
	case !hasPath:
		t := req.target()
		if t == "" {
			return p, false
		}
		p.path = defaultPath(t)
	}
	return p, true
}

// keptPlaceDeletions returns, for a member whose last field in values
// (the response's own) is one the module passes unchanged that some
// engine reads as a deletion (see rejectedEffect), the deletions a
// cascade appends for it, "" for none:
//
//   - at the field's place as the policies give it, where the cascade
//     deletes the others (the member's cookie is there too), when the
//     engines read the field's place apart (a release of libsoup the
//     part before where it stops, see soupRelease): an engine that
//     reads it elsewhere keeps the member there; or when an engine
//     refuses the field (Chromium a HTAB inside, libsoup before 3.6.5 a
//     Domain over 1024 bytes) and keeps the member it had. Not when a
//     deletion is placed after the field (see placement; under
//     report_only none was appended, but it is counted): it is there.
//   - where the engines that keep the field store it: Chromium and
//     Firefox where they read the whole field, each release of libsoup
//     where it reads the part before its stop, with the prefix's
//     attributes where they keep it there (see deletionKeeping:
//     WebKitGTK 3.2 checks no name prefix, and a __Host- cookie it
//     stored at another Path is not deleted at /);
//   - without a path or domain policy, where a release of libsoup that
//     reads the field as a deletion reads its place, when that is apart
//     from Chromium's and Firefox's (`a=; Path=/y; Max-Age=0<HTAB>;
//     Path=/z`: libsoup 3.2 deletes the member at /y, the others at
//     /z), so that the cascade deletes the others there too.
//
// ok is false when one of the latter cannot be written (a place not
// known, a control byte, an attribute over 1024 bytes, an empty Domain):
// then some keeper would hold the member whatever the cascade appends.
func keptPlaceDeletions(values []string, name string, r *rule, req *request, base int64, now *clock) (out keptDeletions, ok bool) {
	var f, cut setCookie
	i := lastField(values, name)
	placed := false
	if i >= 0 && f.scan(values[i], 0, 0) && !f.rejected {
		i, placed = lastField(values[:i], name), true
	}
	if i < 0 || !f.scan(values[i], lifetimeKinds|attributeKinds, 0) {
		return out, false
	}
	keeps, refuses, known := unreadReadings(&f, base, now)
	if !known {
		return out, false
	}
	if !placed {
		_, _, placed = placement(&f, values[i], name, r, req, base, now)
	}
	whole, wholeKnown := readPlace(&f, placeWhole, req)
	apart := refuses != 0 || !wholeKnown
	var soup [numSoupReleases]place
	var soupKnown [numSoupReleases]bool
	for s := range numSoupReleases {
		if s.refuses(&f) {
			continue
		}
		soup[s], soupKnown[s] = s.soupPlace(&f, &cut, req)
		apart = apart || !soupKnown[s] || whole.path != soup[s].path || whole.domain != soup[s].domain
	}
	if !placed && apart {
		out[0] = r.withPolicies(deletionAttrsFrom(values[i]).field(name))
	}
	if keeps&^soupReleases != 0 {
		if out[1], ok = whole.deletion(name); !wholeKnown || !ok {
			return out, false
		}
	}
	for s := range numSoupReleases {
		if keeps&s.bit() == 0 {
			// A release that reads the field as a deletion at another
			// place than Chromium and Firefox: without a path or domain
			// policy, which puts every member at its own place, the
			// member was there in it, and the others are deleted there
			// too (when a deletion can be written there; else the
			// cascade leaves that release as the app's field would).
			if r.placed || refuses&s.bit() != 0 || !soupKnown[s] || !wholeKnown || !whole.apart(&soup[s]) {
				continue
			}
			if d, ok := soup[s].deletionKeeping(name); ok && !slices.Contains(out[:2+s], d) {
				out[2+s] = d
			}
			continue
		}
		if soupKnown[s] && refusedAtPlace(name, &soup[s], s, keeps, refuses) {
			continue
		}
		d, ok := soup[s].deletionKeeping(name)
		if !soupKnown[s] || !ok {
			return out, false
		}
		if !slices.Contains(out[:2+s], d) {
			out[2+s] = d
		}
	}
	for k := 1; k < len(out); k++ {
		if out[k] == out[0] {
			out[k] = ""
		}
	}
	return out, true
}

// refusedAtPlace reports whether release s, which unreadReadings found
// may refuse the field or store it (in both keeps and refuses: a __Host-
// name without a Path, see soupRefusesForAttrs), refuses it at p, where
// it would store it: at a Path other than /.
func refusedAtPlace(name string, p *place, s soupRelease, keeps, refuses uint8) bool {
	return keeps&refuses&s.bit() != 0 && hasPrefixFold(name, prefixHost) && p.path != "/"
}

// keptDeletions is what keptPlaceDeletions returns: the deletion at the
// policies' place, then where Chromium and Firefox store the field, then
// where each release of libsoup does.
type keptDeletions [2 + numSoupReleases]string

// unreadSplitDeletions returns, for a member whose last field in values
// (the response's own) some engine may read as a deletion and another may
// not, where some engine's reading is not known (see rejectedEffect), the
// deletions a cascade appends for it beside its own at the policies'
// place (see cascade), "" for none: when the module passes that field
// unchanged, an engine that keeps it stores it where it reads its place,
// not where the policies would have moved it. Any engine may keep it, so
// each reading of its place gets one: Chromium's and Firefox's of the
// whole field, and each release of libsoup's of the part before where it
// stops (see soupRelease, deletionKeeping; not one that refuses the
// field). ok is false when one of them cannot be written (a place not
// known, a control byte, an attribute over 1024 bytes, an empty Domain):
// then an engine might hold the member whatever the cascade appends.
func unreadSplitDeletions(values []string, name string, r *rule, req *request) (out keeperFields, ok bool) {
	var f, cut setCookie
	i := lastField(values, name)
	if i < 0 || !f.scan(values[i], attributeKinds, 0) {
		return out, false
	}
	if !f.rejected {
		return out, true
	}
	whole, wholeKnown := readPlace(&f, placeWhole, req)
	if !wholeKnown {
		return out, false
	}
	if out[0], ok = whole.deletion(name); !ok {
		return keeperFields{}, false
	}
	for s := range numSoupReleases {
		if s.refuses(&f) {
			continue
		}
		p, known := s.soupPlace(&f, &cut, req)
		if !known {
			return keeperFields{}, false
		}
		d, ok := p.deletionKeeping(name)
		if !ok {
			return keeperFields{}, false
		}
		if !slices.Contains(out[:1+s], d) {
			out[1+s] = d
		}
	}
	own := r.withPolicies(deletionAttrsFrom(values[i]).field(name))
	for k := range out {
		if out[k] == own {
			out[k] = ""
		}
	}
	return out, true
}

// keeperFields are the deletions of a member where the engines that keep
// its last field store it (see keeperDeletions): where Chromium and
// Firefox do, then where each release of libsoup does; "" for none.
type keeperFields [1 + numSoupReleases]string

// splitUnreached reports whether a member of cg that the response
// deletes in some engine and not (or maybe not) in another, in a field
// the module passes unchanged, may be kept where no deletion can reach it
// (see keptPlaceDeletions and unreadSplitDeletions): then a cascade could
// leave it alone in the keepers, and it does not happen. Out of line, like movedMember.
//
//go:noinline
func splitUnreached(cg *consistencyGroup, r *rule, values []string, state *memberStates, req *request, base int64, now *clock) bool {
	for k, name := range cg.members {
		s := state[cg.first+k]
		if s.deletes() && oddPlace(values, name, r, req, base, now) {
			return true
		}
		if _, ok := refusedPlaces(values, name, r, req, base, now); !ok || s.deletes() && refusedSetLast(values, name, r, req, base, now) && !laterSoupDeletes(values, name, base, now) {
			return true
		}
		switch s {
		case memberUnreadSplit:
			if _, ok := keptPlaceDeletions(values, name, r, req, base, now); !ok {
				return true
			}
		case memberDeletedSplit:
			if _, ok := unreadSplitDeletions(values, name, r, req); !ok {
				return true
			}
		}
	}
	return false
}

// laterSoupDeletes reports whether the last field for name in values, a
// set only WebKitGTK 3.2 stores (see refusedSetLast), is one libsoup 3.4
// or later surely reads as a deletion (see unreadReadings): then the
// cascade goes on, and deletes the member where 3.2 stores it (see
// keptPlaceDeletions).
func laterSoupDeletes(values []string, name string, base int64, now *clock) bool {
	var f setCookie
	i := lastField(values, name)
	if i < 0 || !f.scan(values[i], lifetimeKinds, 0) {
		return false
	}
	keeps, refuses, known := unreadReadings(&f, base, now)
	return known && laterReleaseDeletes(keeps, refuses)
}

// laterReleaseDeletes reports whether libsoup 3.4 or later surely reads
// a field as a deletion, by what unreadReadings found (known): neither
// keeps nor refuses it.
func laterReleaseDeletes(keeps, refuses uint8) bool {
	return (soup34.bit()|soup365.bit())&^(keeps|refuses) != 0
}

// oddPlace reports whether the last field for name in values, or the
// field passed unchanged before it when the last is the deletion placed
// after that one (see placement), has a Path or Domain (within 1024 bytes) with
// an odd byte (see isOdd): a deletion the module writes does not copy
// it (deletionAttrsFrom), so the cascade's deletions, which take their
// place from the member's fields, would go elsewhere than the member,
// and an engine that reads the field as a deletion would be left with
// the others at its place.
func oddPlace(values []string, name string, r *rule, req *request, base int64, now *clock) bool {
	i := lastField(values, name)
	var f setCookie
	if i < 0 || !f.scan(values[i], attributeKinds|lifetimeKinds, 0) {
		return false
	}
	if !f.rejected {
		last := i
		if i = lastField(values[:i], name); i < 0 || !f.scan(values[i], attributeKinds|lifetimeKinds, 0) || !f.rejected {
			return false
		}
		if placed, _, ok := placement(&f, values[i], name, r, req, base, now); !ok || placed != values[last] {
			return false
		}
	}
	attrs := f.attrs()
	for j := range attrs {
		if a := &attrs[j]; (a.kind == attrPath || a.kind == attrDomain) && !a.oversized() && hasOddByte(f.value(a)) {
			return true
		}
	}
	return false
}

// target returns the request's target as the client sent it, in origin
// form (its path and query), "" when not known: the original request's
// (Caddy's rewrite changes RequestURI; the server keeps the request as it
// arrived in the context), or its URL's path for a target in absolute
// form. A field without a Path puts its cookie at the default-path of it.
func (r *request) target() string {
	if r == nil || r.from == nil {
		return ""
	}
	o := r.from
	if orig, ok := o.Context().Value(caddyhttp.OriginalRequestCtxKey).(http.Request); ok {
		o = &orig
	}
	switch {
	case strings.HasPrefix(o.RequestURI, "/"):
		return o.RequestURI
	case o.URL != nil && strings.HasPrefix(o.URL.Path, "/"):
		return o.URL.EscapedPath()
	}
	return ""
}

// defaultPath is the default-path of RFC 6265bis §5.1.4 for a request
// target in origin form (it starts with '/'): its path up to, not
// including, the last '/', or "/" when that is the first.
func defaultPath(target string) string {
	if i := strings.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if i := strings.LastIndexByte(target, '/'); i > 0 {
		return target[:i]
	}
	return "/"
}

// placeKnown reports whether the Path and Domain the placed deletion
// copies from f (scanned with attributeKinds; those the policies do not
// set) are where the engines
// read them. A value with a control byte (a tab) in it, which Chromium
// and Firefox read whole and libsoup up to the byte, is left out of the
// copy (see deletionAttrsFrom): the deletion would then go to the
// request's default-path, an earlier Path or no Domain, a place the
// app's field names in no engine, and could delete a cookie the app
// keeps there. So does a Path over 1024 bytes, which Chromium and
// Firefox ignore and libsoup reads. A Domain that long is left out too,
// but each engine that stores the field reads none there: Chromium and
// Firefox ignore it, libsoup refuses the field (see soupRefused) or
// stops before it. When unsure, nothing is placed.
func placeKnown(f *setCookie, p *attrPolicy) bool {
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch {
		case a.kind == attrPath && !p.path.set && !p.path.remove:
			if a.oversized() || hasOddByte(f.value(a)) {
				return false
			}
		case a.kind == attrDomain && !p.domain.set && !p.domain.remove:
			if hasOddByte(f.value(a)) {
				return false
			}
		}
	}
	return true
}
