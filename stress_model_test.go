package cookienormalizer

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the stress test's model of the consistency rules
// (on_delete cascade, on_partial expire, slide) over the passes of a
// response, written from the README's rules: which fields each final
// pass appends, byte for byte, and whether the response gets
// Cache-Control: private.

// stressJar is a request's Cookie header as the module reads it: pairs
// split at ';' and at their first '=', names and values trimmed of spaces
// and tabs; a pair without '=' is a nameless cookie and names no one. It
// counts each name (up to two) and keeps its first value.
type stressJar struct {
	count map[string]int
	first map[string]string
}

// readStressJar reads the Cookie fields of a request.
func readStressJar(fields []string) stressJar {
	j := stressJar{count: map[string]int{}, first: map[string]string{}}
	for _, f := range fields {
		for item := range strings.SplitSeq(f, ";") {
			name, value, ok := strings.Cut(item, "=")
			if !ok {
				continue
			}
			name, value = strings.Trim(name, " \t"), strings.Trim(value, " \t")
			if j.count[name] == 0 {
				j.first[name] = value
			}
			j.count[name] = min(j.count[name]+1, 2)
		}
	}
	return j
}

// partial reports whether the jar holds some but not all of g's members.
func (j stressJar) partial(g *stressGroup) bool {
	some, all := false, true
	for _, m := range g.members {
		if j.count[m] > 0 {
			some = true
		} else {
			all = false
		}
	}
	return some && !all
}

// stressStorable reports whether every browser would have stored
// name=value: Chromium and Firefox refuse a control byte other than a tab
// and a name plus value over 4096 bytes, and libsoup keeps a value only
// up to a tab.
func stressStorable(name, value string) bool {
	return len(name)+len(value) <= 4096 && !stressControl(value)
}

// stressControl reports whether s holds a control byte, a tab included,
// or a byte over 0x7f, where libsoup stops reading as at a control byte.
func stressControl(s string) bool {
	return strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c >= 0x7f })
}

// stressAppend is a field the model expects a final pass to append,
// after the first at fields the handlers added. field is the field;
// for a cascade, cascadeFrom names the deleted member whose field (as
// sent) gives the attributes, and the field is worked out from it (see
// stressCascadeDeletion).
type stressAppend struct {
	at          int
	group       *stressGroup
	name        string
	field       string
	cascadeFrom string
	deletion    bool
	// cascaded: a cascade's deletion of a deleted member at the place
	// of an earlier field of it (see stressKeptElsewhere): source is
	// that field's index among the handlers' fields, and the field is
	// worked out from it as sent.
	cascaded bool
	source   int
	// atStored: such a deletion of an untouched member, at the place of
	// the deleted member's last deletion every engine stores (see
	// stressStoredDeletionElsewhere).
	atStored bool
	// placed: the deletion at a path or domain policy's place after one
	// the module passes byte for byte (see placeDeletions); a cascade
	// then takes its place from it, as from the app's own.
	placed bool
	// webKit: a deletion, with field, where WebKitGTK stores a field of
	// the member that Chromium and Firefox refuse (see webKitPlaces).
	webKit bool
	// fixed: a deleted member's deletion, with field, that Chromium and
	// Firefox take, after its log-out they refuse for its attributes;
	// fixPlace: another member's deletion at such a place (see
	// refusedFix).
	fixed, fixPlace bool
	// soupOwn: a deleted member's own deletion, with field, after its
	// log-out WebKitGTK refuses (see stressSoupRefused).
	soupOwn bool
}

// stressDeletionSuffix follows the name in every deletion the rules
// append: an Expires in the past, then Max-Age=0.
const stressDeletionSuffix = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"

// stressSameSite is the SameSite value a samesite policy writes, "" for
// none or remove.
func stressSameSite(policy string) string {
	switch policy {
	case "strict":
		return "Strict"
	case "lax":
		return "Lax"
	case "none":
		return "None"
	}
	return ""
}

// stressPrefixed reports whether name has the cookie name prefix prefix
// (compared without regard to case, as browsers do).
func stressPrefixed(name, prefix string) bool {
	return len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix)
}

// stressHostPrefixed reports whether name is a __Host- name (a
// __Host-Http- one too): browsers store it only with Secure, Path=/ and
// no Domain.
func stressHostPrefixed(name string) bool { return stressPrefixed(name, "__Host-") }

// stressSecureOnly reports whether browsers store a cookie named name
// only with Secure: a __Secure-, __Host- (__Host-Http- too) or __Http-
// name.
func stressSecureOnly(name string) bool {
	return stressPrefixed(name, "__Secure-") || stressPrefixed(name, "__Host-") || stressPrefixed(name, "__Http-")
}

// stressHTTPOnlyOnly reports whether Chromium and Firefox store a cookie
// named name only with HttpOnly (and Secure), and take its deletion only
// with both: an __Http- or __Host-Http- name.
func stressHTTPOnlyOnly(name string) bool {
	return stressPrefixed(name, "__Http-") || stressPrefixed(name, "__Host-Http-")
}

// stressHTTPOnlyAfter reports whether field v for name has HttpOnly as
// g's policies send it: httponly on adds it, httponly off removes it but
// from a name that needs it (the edit is skipped), else as written.
func stressHTTPOnlyAfter(g *stressGroup, name, v string) bool {
	has := stressHasFlag(v, "HttpOnly")
	if g.HTTPOnly != nil {
		return *g.HTTPOnly || has && stressHTTPOnlyOnly(name)
	}
	return has
}

// stressRefusedByPrefix reports whether some engine refuses a field for
// name with Secure and HttpOnly as given (after the policies), for its
// name's prefix: a __Host- name always (the model does not check its
// Path and Domain), a name needing Secure without it, one needing
// HttpOnly without it.
func stressRefusedByPrefix(name string, secure, httpOnly bool) bool {
	return stressHostPrefixed(name) || !secure && stressSecureOnly(name) || !httpOnly && stressHTTPOnlyOnly(name)
}

// stressModel follows a scenario's steps as the module's writer sees
// them.
type stressModel struct {
	cfg *stressConfig
	s   *stressScenario

	jar       stressJar // the request's jar as the module read it
	crossSite bool      // Sec-Fetch-Site: cross-site
	cacheable bool      // a shared cache may store the response
	// errorRoute: the module runs in an error route, where arrived is the
	// jar as the failed route's module read it on arrival.
	errorRoute bool
	arrived    stressJar

	fields        []stressModelField // the response's fields so far
	handlerFields int                // how many of them the handlers added
	status        int                // the final status, once known
	sent          bool               // the final response's header is sent
	bodyStarted   bool
	seenLen       int // len(fields) after the last final pass
	spoke         map[*stressGroup]bool
	private       bool

	appends []stressAppend
}

// stressModelField is a field of the response: its name and what it does.
type stressModelField struct {
	name   string
	effect stressEffect
	// value is the field as the handler added it ("" for one the rules
	// appended), verbatim as stressField says.
	value    string
	verbatim bool
	// placed: a deletion the module placed after a handler's field (see
	// placeDeletions); value holds it, since the consistency rules read
	// it as they read the handlers' fields.
	placed bool
}

// simulateStress returns the fields the final passes of s append, in
// order, and whether the response gets Cache-Control: private. Under
// report_only nothing is appended.
func simulateStress(cfg *stressConfig, s *stressScenario) ([]stressAppend, bool) {
	if cfg.reportOnly {
		return nil, false
	}
	m := &stressModel{
		cfg: cfg, s: s,
		jar:       readStressJar(s.cookies),
		crossSite: s.fetchSite == "cross-site",
		cacheable: s.cacheControl.shared || s.cdnControl.shared,
		spoke:     map[*stressGroup]bool{},
	}
	if !m.run(s.ops) || !s.failsToErrorRoutes() {
		return m.appends, m.private
	}
	// The error route: the same module, for a request whose Cookie header
	// is as the failed route's handlers left it, with the jar as it
	// arrived in the request's variables. The header map keeps the failed
	// route's fields (to which nothing was appended).
	m.arrived, m.errorRoute = m.jar, true
	m.jar = readStressJar(stressEditedCookies(s))
	m.sent, m.bodyStarted, m.status, m.seenLen = false, false, 0, 0
	m.spoke = map[*stressGroup]bool{}
	m.run(s.errorPage)
	return m.appends, m.private
}

// stressEditedCookies is the request's Cookie header after the handler's
// steps: stressEditCookie rewrites its first field in place.
func stressEditedCookies(s *stressScenario) []string {
	out := slices.Clone(s.cookies)
	for _, o := range s.ops {
		if o.kind == stressEditCookie && len(out) > 0 {
			out[0] = o.cookie
		}
	}
	return out
}

// run follows the handler's steps, and reports whether it returned an
// error to the error routes, having sent nothing: then the module
// appends nothing. A flush or a hijack that fails changes nothing, nor
// does a 1xx.
func (m *stressModel) run(ops []stressOp) (toErrorRoutes bool) {
	for _, o := range ops {
		switch o.kind {
		case stressAdd:
			for _, f := range o.fields {
				m.fields = append(m.fields, stressModelField{name: f.name, effect: f.effect, value: f.value, verbatim: f.verbatim})
				m.handlerFields++
			}
		case stressWriteHeader:
			if !m.sent {
				m.status = o.status
			}
			m.finalize()
		case stressWrite:
			m.finalize()
			m.startBody()
		case stressFlush:
			// A flush before the first body byte does not start the body
			// (Caddy's encode sends nothing then, on every protocol).
			if m.sent {
				first := !m.bodyStarted
				m.startBody()
				m.bodyStarted = !first
				continue
			}
			m.status = 200
			m.pass()
			m.sent, m.bodyStarted = true, false
		case stressReturnError:
			if !m.sent {
				if m.s.errorRoutes {
					return true
				}
				m.status = o.err.status
			}
			m.finalize()
			return false
		}
	}
	m.finalize() // the implicit response once the handler returns
	return false
}

// finalize is the final pass when the header goes out (net/http's
// implicit 200 unless a status was written).
func (m *stressModel) finalize() {
	if m.sent {
		return
	}
	if m.status == 0 {
		m.status = 200
	}
	m.sent = true
	m.pass()
}

// startBody is the pass again at the first body byte, when a field was
// added since the last one. (Later passes, on HTTP/3 and when the
// handler returns, append nothing.)
func (m *stressModel) startBody() {
	if m.bodyStarted {
		return
	}
	m.bodyStarted = true
	if len(m.fields) != m.seenLen {
		m.pass()
	}
}

// pass is one final pass: each group with a consistency rule that has
// not spoken for the response yet reads what the response does to its
// members (the last field of each that a browser stores decides), and
// appends what its rules call for.
func (m *stressModel) pass() {
	defer func() { m.seenLen = len(m.fields) }()
	readsJar := false
	for _, g := range m.cfg.groups {
		readsJar = readsJar || g.OnPartial != "" || g.Slide != nil
	}
	if len(m.fields) == 0 && !readsJar {
		return
	}
	m.placeDeletions()
	carried := map[string]bool{} // the names the response has fields for
	for _, f := range m.fields {
		carried[f.name] = true
	}
	for _, g := range m.cfg.groups {
		if !g.consistent() || m.spoke[g] {
			continue
		}
		state := map[string]stressEffect{}
		refused := map[string]bool{} // members with a field Chromium and Firefox refuse
		for _, f := range m.fields {
			if slices.Contains(g.members, f.name) {
				// A set they refuse for its attributes as sent sets
				// nothing either.
				if f.effect != stressSetsNothing && !stressRefusedSet(g, f) && !stressVerbatimRefused(f) {
					state[f.name] = f.effect
				} else {
					refused[f.name] = true
				}
			}
		}
		// Where WebKitGTK stores each member's fields that Chromium and
		// Firefox refuse: a rule that deletes the others deletes it
		// there too, and none happens where that cannot be written.
		webKit := map[string][]stressDeletion{}
		unreachable := map[string]bool{}
		for _, name := range g.members {
			places, ok := m.webKitPlaces(g, name)
			webKit[name], unreachable[name] = places, !ok
		}
		for name, e := range state {
			if e == stressDeletes && stressLiveElsewhere(g, m.fields, name, m.s.date.unread, m.s.https, m.crossSite) {
				state[name] = stressSets
			}
		}
		anySet, anyDeleted, anyRefused, refusedMissing, allSet := false, false, false, false, true
		deleted := "" // the last deleted member, in config order
		for _, name := range g.members {
			switch state[name] {
			case stressSets:
				anySet = true
			case stressDeletes:
				anyDeleted, allSet, deleted = true, false, name
			default:
				// Only fields Chromium and Firefox refuse, or none:
				// WebKitGTK stores the former, which a partial expiry
				// of the others would leave alone there, unless the
				// jar holds that member (its deletion comes after the
				// field) and a deletion can be written where
				// WebKitGTK stores each (those follow it); and may
				// read it as a deletion, which a re-issue after it
				// would make live.
				if refused[name] {
					anyRefused = true
					refusedMissing = refusedMissing || m.jar.count[name] == 0 || unreachable[name]
				}
				allSet = false
			}
		}
		var add []stressAppend
		loggedOut := false
		switch {
		case anyDeleted && !anySet && g.OnDelete != "" && !slices.ContainsFunc(g.members, func(name string) bool {
			return unreachable[name] || state[name] == stressDeletes && m.refusedSetLast(g, name)
		}):
			// The deleted member's last field may be a deletion some
			// engine refuses: then the last one before it that every
			// engine stores, at another place, is where the others are
			// deleted too.
			stored := stressStoredDeletionElsewhere(g, m.fields, deleted, m.s.date.unread, m.s.https, m.crossSite)
			// The deleted member's last field as sent, whose place the
			// others' deletions take.
			from := m.asSent(g, stressLastStored(m.fields, deleted))
			// Where the others' deletions at the deleted member's place
			// would miss (every deleted member's log-out counts, in
			// config order, each place once): a __Host- member whose
			// log-out browsers refuse for its prefix is deleted at
			// Path=/ without Domain, where such a cookie lives; a
			// member whose log-out Chromium and Firefox refuse for
			// SameSite=None or Partitioned without Secure, at its place
			// with Secure.
			var fixes []stressDeletion
			for _, name := range g.members {
				if state[name] != stressDeletes {
					continue
				}
				fix, secured, plain, ok := m.refusedFix(g, name)
				if ok && stressHostPrefixed(name) && !slices.Contains(fixes, stressPlaceOf(fix)) {
					fixes = append(fixes, stressPlaceOf(fix))
				}
				if plain && !slices.Contains(fixes, secured) {
					fixes = append(fixes, secured)
				}
			}
			for _, name := range g.members {
				switch state[name] {
				case stressSetsNothing:
					add = append(add, stressAppend{name: name, cascadeFrom: deleted, deletion: true})
					done := []stressDeletion{stressPlaceOf(stressCascadeDeletion(g, name, from))}
					if stored >= 0 {
						add = append(add, stressAppend{name: name, deletion: true, cascaded: true, source: stored, atStored: true})
						at := m.asSent(g, stressHandlerField(m.fields, stored))
						done = append(done, stressPlaceOf(stressCascadeDeletion(g, name, at)))
					}
					for _, fix := range fixes {
						if d := fix.field(g, name); !slices.Contains(done, stressPlaceOf(d)) {
							add = append(add, stressAppend{name: name, field: d, deletion: true, fixPlace: true})
							done = append(done, stressPlaceOf(d))
						}
					}
					add = stressWebKitDeletions(add, name, webKit[name], done)
				case stressDeletes:
					// The member's last field, as sent, may be one
					// Chromium and Firefox refuse for its attributes:
					// its deletion at the same place that they take
					// (see refusedFix), unless they have deleted it
					// there already.
					var done []stressDeletion
					// A log-out WebKitGTK refuses (a Domain over 1024
					// bytes), passed byte for byte: its own deletion
					// where Chromium and Firefox read it, which the
					// others take, unless a deletion at the policies'
					// place follows it.
					if i := stressLastStored(m.fields, name); i >= 0 && m.fields[i].verbatim && !m.fields[i].placed && stressSoupRefused(m.fields[i].value) {
						own := stressCascadeDeletion(g, name, m.fields[i].value)
						add = append(add, stressAppend{name: name, field: own, deletion: true, soupOwn: true})
						done = append(done, stressPlaceOf(own))
					}
					if fix, _, _, ok := m.refusedFix(g, name); ok && !m.deletedAt(g, name, fix) {
						add = append(add, stressAppend{name: name, field: fix, deletion: true, fixed: true})
						done = append(done, stressPlaceOf(fix))
					}
					// A field before the member's last one whose
					// lifetime the module does not know every engine's
					// reading of, at another place: a cookie some
					// engine may keep there, deleted too.
					if at := stressKeptElsewhere(g, m.fields, name, m.s.date.unread); at >= 0 {
						add = append(add, stressAppend{name: name, deletion: true, cascaded: true, source: at})
						done = append(done, stressPlaceOf(stressCascadeDeletion(g, name, m.asSent(g, stressHandlerField(m.fields, at)))))
					}
					add = stressWebKitDeletions(add, name, webKit[name], done)
				}
			}
			// The cascade has spoken for the response even when it
			// appended nothing (every member deleted): a later pass
			// (fields added after a failed hijack or flush) skips the
			// group.
			m.spoke[g] = true
			loggedOut = true
		case anyDeleted:
			loggedOut = true
		case !anySet && !refusedMissing && g.OnPartial != "" && m.partialExpiry(g):
			for _, name := range g.members {
				if m.jar.count[name] > 0 {
					d := m.partialDeletion(g, name)
					add = append(add, stressAppend{name: name, field: d, deletion: true})
					if state[name] == stressSetsNothing && refused[name] {
						// Deleted where WebKitGTK stores its fields
						// too.
						add = stressWebKitDeletions(add, name, webKit[name], []stressDeletion{stressPlaceOf(d)})
					}
				}
			}
			loggedOut = true
			m.private = true
		}
		// The stamp is not added again where the response carries it.
		if g.Slide != nil && !carried[g.stamp] {
			switch {
			case loggedOut:
				add = append(add, stressAppend{name: g.stamp, field: m.stampDeletion(g), deletion: true})
			case slices.ContainsFunc(m.fields, func(f stressModelField) bool {
				return len(f.value) > 8192 && slices.Contains(g.members, f.name)
			}):
				// A member's field over 8 KiB, which the module does
				// not read: nothing on a guess.
			case allSet:
				add = append(add, stressAppend{name: g.stamp, field: m.stampSet(g)})
			case !anyRefused && m.due(g, anySet):
				for _, name := range g.members {
					if state[name] == stressSetsNothing {
						add = append(add, stressAppend{name: name, field: m.reissue(g, name)})
					}
				}
				add = append(add, stressAppend{name: g.stamp, field: m.stampSet(g)})
				m.private = true
			}
		}
		if len(add) > 0 {
			m.spoke[g] = true
		}
		for _, a := range add {
			a.at, a.group = m.handlerFields, g
			m.appends = append(m.appends, a)
			effect := stressSets
			if a.deletion {
				effect = stressDeletes
			}
			m.fields = append(m.fields, stressModelField{name: a.name, effect: effect})
			carried[a.name] = true
		}
	}
}

// placeDeletions: a deletion in every engine that the module passes
// byte for byte (a tab, where libsoup stops reading), the last field for
// its name that browsers store, under a group with a path or domain
// policy, gets a deletion at the policies' place appended after it,
// built from it as a cascade's deletion is; before the consistency
// rules, which see it as the member's last field.
func (m *stressModel) placeDeletions() {
	n := len(m.fields)
	for i, f := range m.fields[:n] {
		g := m.cfg.owner(f.name)
		if g == nil || g.Path == "" && g.Domain == "" || !f.verbatim || f.effect != stressDeletes || f.value == "" || m.cfg.stampGroup(f.name) != nil {
			continue
		}
		last := -1
		for j := n - 1; j >= 0 && last < 0; j-- {
			if m.fields[j].name == f.name && m.fields[j].effect != stressSetsNothing {
				last = j
			}
		}
		if last != i {
			continue
		}
		field := stressCascadeDeletion(g, f.name, f.value)
		m.appends = append(m.appends, stressAppend{at: m.handlerFields, group: g, name: f.name, field: field, deletion: true, placed: true})
		m.fields = append(m.fields, stressModelField{name: f.name, effect: stressDeletes, value: field, placed: true})
	}
}

// partialExpiry reports whether the request's jar holds part of g and a
// partial expiry may go out: not to a shared cache, not on a request
// marked cross-site, and in an error route only if the jar held part of
// g on arrival too (a handler of the failed route may have edited the
// Cookie header).
func (m *stressModel) partialExpiry(g *stressGroup) bool {
	if !m.jar.partial(g) || m.cacheable || m.crossSite {
		return false
	}
	return !m.errorRoute || m.arrived.partial(g)
}

// due reports whether slide group g re-issues its members: a status below
// 400, every member in the jar once with a value every browser would have
// stored, no shared cache, outside error routes, and either a response
// that sets some members itself (whatever the stamp's age) or a stamp
// that is missing, unreadable, more than a minute ahead or older than the
// interval.
func (m *stressModel) due(g *stressGroup, renewing bool) bool {
	if m.status >= 400 || m.cacheable || m.errorRoute {
		return false
	}
	for _, name := range g.members {
		if m.jar.count[name] != 1 || !stressStorable(name, m.jar.first[name]) {
			return false
		}
	}
	if renewing || m.jar.count[g.stamp] != 1 {
		return true
	}
	at, err := strconv.ParseInt(m.jar.first[g.stamp], 10, 64)
	now := testClock.Unix()
	return err != nil || at > now+60 || now-at > g.interval
}

// lifetime is the Expires and Max-Age of a field the group issues, the
// Expires counted from the response's Date.
func (m *stressModel) lifetime(g *stressGroup) string {
	expires := time.Unix(m.s.date.base+g.lifetime, 0).UTC().Format(http.TimeFormat)
	return "; Expires=" + expires + "; Max-Age=" + strconv.FormatInt(g.lifetime, 10)
}

// stampAttrs are the stamp's attributes: Path=/, HttpOnly, SameSite=Lax
// (None in a samesite none group), Secure on HTTPS or with secure on, and
// Partitioned with partitioned on.
func (m *stressModel) stampAttrs(g *stressGroup) string {
	attrs := "; Path=/; HttpOnly; SameSite=Lax"
	if g.SameSite == "none" {
		attrs = "; Path=/; HttpOnly; SameSite=None"
	}
	if m.s.https || g.Secure != nil && *g.Secure {
		attrs += "; Secure"
	}
	if g.Partitioned != nil && *g.Partitioned {
		attrs += "; Partitioned"
	}
	return attrs
}

// stampSet is the stamp issued now.
func (m *stressModel) stampSet(g *stressGroup) string {
	return g.stamp + "=" + strconv.FormatInt(testClock.Unix(), 10) + m.stampAttrs(g) + m.lifetime(g)
}

// stampDeletion is the stamp's deletion.
func (m *stressModel) stampDeletion(g *stressGroup) string {
	return g.stamp + stressDeletionSuffix + m.stampAttrs(g)
}

// reissue is member name re-issued: its value as the request carried it,
// the group's attribute policies in their fixed order (Path, Domain,
// Secure, HttpOnly, SameSite, Partitioned), Secure for a
// __Host-, __Secure- or __Http- name without secure on, HttpOnly for an
// __Http- or __Host-Http- name without httponly on, then the lifetime.
func (m *stressModel) reissue(g *stressGroup, name string) string {
	var b strings.Builder
	b.WriteString(name + "=" + m.jar.first[name])
	if g.Path != "" && g.Path != removeValue {
		b.WriteString("; Path=" + g.Path)
	}
	if g.Domain != "" && g.Domain != removeValue {
		b.WriteString("; Domain=" + g.Domain)
	}
	secureOn := g.Secure != nil && *g.Secure
	if secureOn {
		b.WriteString("; Secure")
	}
	if g.HTTPOnly != nil && *g.HTTPOnly {
		b.WriteString("; HttpOnly")
	}
	if v := stressSameSite(g.SameSite); v != "" {
		b.WriteString("; SameSite=" + v)
	}
	if g.Partitioned != nil && *g.Partitioned {
		b.WriteString("; Partitioned")
	}
	if !secureOn && stressSecureOnly(name) {
		b.WriteString("; Secure")
	}
	if (g.HTTPOnly == nil || !*g.HTTPOnly) && stressHTTPOnlyOnly(name) {
		b.WriteString("; HttpOnly")
	}
	b.WriteString(m.lifetime(g))
	return b.String()
}

// stressDeletion is the attributes of a deletion the rules append.
type stressDeletion struct {
	path, domain, sameSite string
	secure, partitioned    bool
}

// partialDeletion is a partial expiry's deletion of name: the group's
// path and domain policies, else Path=/ and no Domain; Secure as the
// group's secure policy says, else on HTTPS; Partitioned with
// partitioned on (for cookies the app sets Partitioned).
func (m *stressModel) partialDeletion(g *stressGroup, name string) string {
	d := stressDeletion{path: "/", secure: m.s.https, partitioned: g.Partitioned != nil && *g.Partitioned}
	if g.Path != "" && g.Path != removeValue {
		d.path = g.Path
	}
	if g.Domain != "" && g.Domain != removeValue {
		d.domain = g.Domain
	}
	if g.Secure != nil {
		d.secure = *g.Secure
	}
	return d.field(g, name)
}

// stressCascadeDeletion is a cascade's deletion of name, with the Path,
// Domain, SameSite, Secure and Partitioned of source, the deleted
// member's last field as sent (values over 1024 bytes or with a control
// byte are not copied).
func stressCascadeDeletion(g *stressGroup, name, source string) string {
	return stressPlaceOf(source).field(g, name)
}

// stressPlaceOf reads the attributes a deletion copies from field v: its
// last Path, Domain and SameSite, as written, its Secure and its
// Partitioned (values over 1024 bytes or with a control byte are not
// read). Two deletions with the same are at one place.
func stressPlaceOf(v string) stressDeletion {
	var d stressDeletion
	for _, a := range stressAttrsOf(v) {
		if len(a.value) > 1024 || stressControl(a.value) {
			continue
		}
		switch a.key {
		case "path":
			d.path = a.value
		case "domain":
			d.domain = a.value
		case "samesite":
			d.sameSite = a.value
		case "secure":
			d.secure = true
		case "partitioned":
			d.partitioned = true
		}
	}
	return d
}

// stressAttr is an attribute of a Set-Cookie field: its name in lower
// case and its value, both trimmed of spaces and tabs, and whether it
// has a '='.
type stressAttr struct {
	key, value string
	eq         bool
}

// stressAttrsOf returns the attributes of field v, in order.
func stressAttrsOf(v string) []stressAttr {
	var out []stressAttr
	for _, a := range strings.Split(v, ";")[1:] {
		k, val, eq := strings.Cut(a, "=")
		out = append(out, stressAttr{strings.ToLower(strings.Trim(k, " \t")), strings.Trim(val, " \t"), eq})
	}
	return out
}

// stressSentPlace returns field v, a field for name that g's policies
// rewrite, as they send it, as far as its place and flags go: name=,
// then its Path, Domain, Secure, HttpOnly, SameSite and Partitioned
// attributes after the policies, in order. A flag on is added where
// missing, off removed; a value set rewrites the last attribute of its
// kind where it stands (which keeps its bytes when it already says so:
// a SameSite or a domain compared without regard to case) and removes
// the earlier ones, or is added; a value removed removes them all. An
// edit that would break the name's prefix is skipped, and so is secure
// off on a field that is SameSite=None or Partitioned as sent.
func stressSentPlace(g *stressGroup, name, v string) string {
	host := stressHostPrefixed(name)
	path, domain, sameSite := g.Path, g.Domain, stressSameSite(g.SameSite)
	if g.SameSite == removeValue {
		sameSite = removeValue
	}
	if host && path != "" && path != "/" && path != removeValue {
		path = ""
	}
	if host && domain != "" && domain != removeValue {
		domain = ""
	}
	secure, httpOnly, partitioned := g.Secure, g.HTTPOnly, g.Partitioned
	if stressSecureOnly(name) && secure != nil && !*secure {
		secure = nil
	}
	if stressHTTPOnlyOnly(name) && httpOnly != nil && !*httpOnly {
		httpOnly = nil
	}
	attrs := stressAttrsOf(v)
	has := map[string]bool{}
	last := map[string]int{}
	none := false
	for i, a := range attrs {
		last[a.key] = i
		if len(a.value) <= 1024 {
			has[a.key] = true
			if a.key == "samesite" {
				none = strings.EqualFold(a.value, "none")
			}
		}
	}
	if sameSite != "" {
		none = sameSite == "None"
	}
	partitionedAfter := has["partitioned"]
	if partitioned != nil {
		partitionedAfter = *partitioned
	}
	if secure != nil && !*secure && (none || partitionedAfter) {
		secure = nil
	}
	values := map[string]string{"path": path, "domain": domain, "samesite": sameSite}
	flags := map[string]*bool{"secure": secure, "httponly": httpOnly, "partitioned": partitioned}
	var b strings.Builder
	b.WriteString(name + "=")
	for i, a := range attrs {
		switch a.key {
		case "secure", "httponly", "partitioned":
			if f := flags[a.key]; f != nil && !*f {
				continue
			}
		case "path", "domain", "samesite":
			policy := values[a.key]
			switch {
			case policy == removeValue:
				continue
			case policy == "":
			case i != last[a.key]:
				continue
			case len(a.value) > 1024, a.key == "path" && a.value != policy, a.key != "path" && !strings.EqualFold(a.value, policy):
				a.value = policy
			}
		default:
			continue
		}
		b.WriteString("; " + a.key)
		if a.key == "path" || a.key == "domain" || a.key == "samesite" {
			b.WriteString("=" + a.value)
		}
	}
	// What the policies add where the field has none, in their fixed
	// order.
	for _, k := range []string{"path", "domain", "secure", "httponly", "samesite", "partitioned"} {
		if f, isFlag := flags[k]; isFlag {
			if f != nil && *f && !has[k] {
				b.WriteString("; " + k)
			}
			continue
		}
		if _, ok := last[k]; !ok && values[k] != "" && values[k] != removeValue {
			b.WriteString("; " + k + "=" + values[k])
		}
	}
	return b.String()
}

// stressRefusedSet reports whether f, a field of g's member, is a set
// the module rewrites that Chromium and Firefox refuse, as g's policies
// send it, for its attributes (see stressRefusedByBoth): it sets nothing
// they keep, and WebKitGTK, which does not check them all, stores it.
func stressRefusedSet(g *stressGroup, f stressModelField) bool {
	return stressRewrittenSet(f) && stressRefusedByBoth(stressSentPlace(g, f.name, f.value))
}

// stressRewrittenSet reports whether f is a handler's set that the
// module reads and rewrites (not passed byte for byte, not placed).
func stressRewrittenSet(f stressModelField) bool {
	return f.value != "" && !f.placed && !f.verbatim && f.effect == stressSets
}

// asSent returns m.fields[i], a field of g's member, as it goes out: the
// place and flags of one g's policies rewrite (see stressSentPlace), a
// deletion the module placed, or one passed byte for byte, as it
// stands; "" for i < 0.
func (m *stressModel) asSent(g *stressGroup, i int) string {
	switch {
	case i < 0:
		return ""
	case m.fields[i].verbatim || m.fields[i].placed:
		return m.fields[i].value
	}
	return stressSentPlace(g, m.fields[i].name, m.fields[i].value)
}

// refusedSetLast reports whether the last field for g's member name
// (see stressLastStored), which the member's state says deletes it, is a
// set Chromium and Firefox refuse for its attributes as sent (see
// stressRefusedSet): its place is not where the member was deleted, and
// no cascade happens.
func (m *stressModel) refusedSetLast(g *stressGroup, name string) bool {
	i := stressLastStored(m.fields, name)
	return i >= 0 && stressRefusedSomewhere(g, m.fields[i])
}

// stressRefusedSomewhere is stressRefusedSet for what Chromium refuses
// (stressLeaderRefused: a __Host- name without Path=/ too, which Firefox
// may store): WebKitGTK stores it at its own place.
func stressRefusedSomewhere(g *stressGroup, f stressModelField) bool {
	return stressRewrittenSet(f) && stressLeaderRefused(stressSentPlace(g, f.name, f.value)) || stressVerbatimRefused(f)
}

// stressVerbatimRefused reports whether f is a field passed byte for
// byte that the engines read apart (a tab or a byte over 0x7f: not one
// refused for its bytes, nor one over 8 KiB, which is not read), that
// Chromium and Firefox refuse for its attributes as they read it, all of
// it (stressRefusedByBoth), and that WebKitGTK, reading it up to its cut
// (stressWebKitCut), does not read as a deletion nor refuse (see
// stressSoupRefused): it sets nothing every engine keeps, and WebKitGTK
// stores it there.
func stressVerbatimRefused(f stressModelField) bool {
	if !f.verbatim || f.placed || f.value == "" || f.effect == stressSetsNothing || len(f.value) > 8192 || stressSoupRefused(f.value) {
		return false
	}
	return stressRefusedByBoth(f.value) && !stressSoupDeletes(f.value[:stressWebKitCut(f.value)])
}

// stressLastStored returns the index of the last of fields for name that
// is not one Chromium and Firefox refuse for its bytes or length, or -1:
// where the member was deleted, for a deleted member.
func stressLastStored(fields []stressModelField, name string) int {
	for i := len(fields) - 1; i >= 0; i-- {
		if fields[i].name == name && fields[i].effect != stressSetsNothing {
			return i
		}
	}
	return -1
}

// stressHandlerField returns the index in fields of the k-th field the
// handlers added (see stressHandlerIndex), or -1.
func stressHandlerField(fields []stressModelField, k int) int {
	for i, f := range fields {
		if f.value != "" && !f.placed {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return -1
}

// refusedFix returns, for g's member name, the deletion Chromium and
// Firefox take at the place of its last field (see stressLastStored)
// when they refuse that as sent for its attributes (see
// stressLeaderRefused; one passed byte for byte as they read all of it):
// a cascade's deletions of the others, which copy that field's
// attributes, would leave them holding this member. ok is false when
// they do not refuse it. For a __Secure-, __Host- or __Http- name, the
// deletion has the attributes its prefix needs (a deletion the module
// placed has them already); and where they refuse the field for
// SameSite=None or Partitioned without Secure (plain), whatever the
// name, it has Secure, and SameSite=None on a cross-site request:
// secured is that place, where the others are deleted too.
func (m *stressModel) refusedFix(g *stressGroup, name string) (fix string, secured stressDeletion, plain, ok bool) {
	i := stressLastStored(m.fields, name)
	if i < 0 || m.fields[i].value == "" {
		return "", secured, false, false
	}
	sent := m.asSent(g, i)
	flags := stressReadFlags(sent)
	plain = !flags.secure && (flags.none || flags.partitioned)
	if !plain && (!stressSecureOnly(name) || m.fields[i].placed || !stressLeaderRefused(sent)) {
		return "", secured, false, false
	}
	secured = stressPlaceOf(sent)
	if plain {
		secured.secure = true
		if m.crossSite {
			secured.sameSite = "None"
		}
	}
	return secured.field(g, name), secured, plain, true
}

// deletedAt reports whether Chromium and Firefox have deleted g's member
// name at the place of fix (its deletion with the attributes its prefix
// needs): whether the last field for name they do not both refuse, and
// that may be there, is surely there and a deletion they both take
// (then the member's refused log-out needs no fix). A field the engines
// read apart, or one only Chromium refuses, counts as a set.
func (m *stressModel) deletedAt(g *stressGroup, name, fix string) bool {
	at, atKnown := stressCFPlace(fix)
	if !atKnown {
		return false
	}
	for i := len(m.fields) - 1; i >= 0; i-- {
		f := m.fields[i]
		switch {
		case f.name != name || f.value == "" || f.effect == stressSetsNothing:
			continue // another name, a rule's deletion, or none they store
		case f.verbatim:
			return false
		}
		sent := m.asSent(g, i)
		flags := stressReadFlags(sent)
		hasSecure := slices.ContainsFunc(stressAttrsOf(sent), func(a stressAttr) bool { return a.key == "secure" })
		switch {
		case stressRefusedByBoth(sent) || !m.s.https && hasSecure || m.crossSite && !flags.none:
			continue
		case stressLeaderRefused(sent):
			return false
		}
		p, known := stressCFPlace(sent)
		deletes := f.effect == stressDeletes && !stressUnsure(f.value, m.s.date.unread)
		switch {
		case deletes && known && p == at:
			return true
		case deletes, known && (p.path != at.path || p.partitioned != at.partitioned || (p.domain == "") != (at.domain == "")):
			continue
		}
		return false
	}
	return false
}

// stressCFPlace reads where Chromium and Firefox store sent, a field as
// sent: its last Path (without one, the default path of the request's
// target, /page: /) and Domain within 1024 bytes (lower case, without a
// leading '.'), and Partitioned; known is false for a Path not starting
// with '/' or an empty Domain.
func stressCFPlace(sent string) (p stressDeletion, known bool) {
	p.path, known = "/", true
	emptyDomain := false
	for _, a := range stressAttrsOf(sent) {
		if len(a.value) > 1024 {
			continue
		}
		switch a.key {
		case "path":
			p.path = a.value
		case "domain":
			p.domain = strings.ToLower(strings.TrimLeft(a.value, "."))
			emptyDomain = p.domain == ""
		case "partitioned":
			p.partitioned = true
		}
	}
	return stressDeletion{path: p.path, domain: p.domain, partitioned: p.partitioned}, strings.HasPrefix(p.path, "/") && !emptyDomain
}

// webKitPlaces returns the places, in order and each once, where
// WebKitGTK stores a field of the response for g's member name that
// Chromium and Firefox refuse; ok is false when one cannot be deleted
// (see stressWebKitPlace), or there are more than two. Such a field is
// one refused for a control byte or its length, as WebKitGTK reads it
// (see stressWebKitCut), when that is a cookie named name; or a set g's
// policies rewrite that they refuse for its attributes as sent (see
// stressRefusedSet), read as sent. A field WebKitGTK reads as a deletion
// stores nothing; the fields the rules appended are deletions, and
// never count.
func (m *stressModel) webKitPlaces(g *stressGroup, name string) (places []stressDeletion, ok bool) {
	for i, f := range m.fields {
		if f.name != name || f.value == "" || f.placed {
			continue
		}
		var read string
		switch {
		case f.effect == stressSetsNothing && len(f.value) <= 8192:
			read = f.value[:stressWebKitCut(f.value)]
			if got, _ := stressCookieName(read); got != name || stressSoupDeletes(read) {
				continue
			}
		case stressVerbatimRefused(f):
			read = f.value[:stressWebKitCut(f.value)]
		case stressRefusedSomewhere(g, f):
			read = stressSentPlace(g, name, f.value)
		default:
			continue
		}
		p, known := stressWebKitPlace(read)
		if !known {
			return nil, false
		}
		if m.deletedLater(g, name, i, p) {
			continue
		}
		if m.s.https && !p.secure && (p.partitioned || strings.EqualFold(p.sameSite, "none")) {
			// Written with Secure over https, which Chromium and
			// Firefox take as well.
			if p.secure = true; m.deletedLater(g, name, i, p) {
				continue
			}
		}
		if !slices.Contains(places, p) {
			if len(places) == 2 {
				return nil, false
			}
			places = append(places, p)
		}
	}
	return places, true
}

// deletedLater reports whether a field for g's member name after
// m.fields[i] deletes it in every engine at place p (the generator's
// deletions the module reads are deletions everywhere, but for one whose
// lifetime the module cannot read every engine's way, see stressUnsure;
// one passed byte for byte does not count), read as sent: WebKitGTK's
// copy from the field at i is gone there.
func (m *stressModel) deletedLater(g *stressGroup, name string, i int, p stressDeletion) bool {
	for j := i + 1; j < len(m.fields); j++ {
		f := m.fields[j]
		if f.name == name && f.value != "" && !f.verbatim && f.effect == stressDeletes && !stressUnsure(f.value, m.s.date.unread) && stressPlaceOf(m.asSent(g, j)) == p {
			return true
		}
	}
	return false
}

// stressWebKitCut is where WebKitGTK (libsoup 3.2) stops reading field
// v: at its first byte below 0x20 or over 0x7f (a DEL it reads on) past
// the spaces and HTABs it skips before each name and value, else len(v).
func stressWebKitCut(v string) int {
	odd := func(c rune) bool { return c < 0x20 || c > 0x7f }
	at := 0
	for _, part := range strings.SplitAfter(v, ";") {
		name, value, eq := strings.Cut(part, "=")
		lead := len(name) - len(strings.TrimLeft(name, " \t"))
		if i := strings.IndexFunc(name[lead:], odd); i >= 0 {
			return at + lead + i
		}
		if eq {
			from := at + len(name) + 1
			lead = len(value) - len(strings.TrimLeft(value, " \t"))
			if i := strings.IndexFunc(value[lead:], odd); i >= 0 {
				return from + lead + i
			}
		}
		at += len(part)
	}
	return len(v)
}

// stressSoupRefused reports whether WebKitGTK refuses field v where
// Chromium and Firefox store it: the last Domain before libsoup's cut
// is over 1024 bytes, which they ignore and libsoup reads (no host
// matches it; measured, docs/engines.md's dom-1100 rows).
func stressSoupRefused(v string) bool {
	refused := false
	for _, a := range stressAttrsOf(v[:stressWebKitCut(v)]) {
		if a.key == "domain" {
			refused = a.eq && len(a.value) > 1024 // libsoup keeps the last
		}
	}
	return refused
}

// stressSoupDeletes reports whether WebKitGTK surely reads field v as a
// deletion, for the lifetimes the generator writes: its last Max-Age or
// Expires with a '=' (it ignores one without) is a Max-Age of 0 or less
// (an empty one is 0), or an Expires in the IMF-fixdate form not after
// the proxy's clock.
func stressSoupDeletes(v string) bool {
	deletes := false
	for _, a := range stressAttrsOf(v) {
		if !a.eq {
			continue
		}
		switch a.key {
		case "max-age":
			n, err := strconv.ParseInt(a.value, 10, 64)
			deletes = a.value == "" || err == nil && n <= 0
		case "expires":
			t, err := time.Parse(http.TimeFormat, a.value)
			deletes = err == nil && t.Unix() <= testClock.Unix()
		}
	}
	return deletes
}

// stressWebKitPlace reads where WebKitGTK puts field v's cookie, as the
// attributes its deletion there copies: the last Path, or, with none, the
// request's default-path (its target is /page: "/"); the last Domain and
// SameSite as written; Secure and Partitioned. known is false when no
// deletion can be written that reaches it: a Path not starting with '/',
// an attribute value over 1024 bytes (which Chromium and Firefox would
// not read in the deletion), an empty Domain, or one naming the
// request's host (127.0.0.1: an IP address, which the engines read their
// own ways), or a control byte or one over 0x7f in the Path, Domain or
// SameSite.
func stressWebKitPlace(v string) (p stressDeletion, known bool) {
	hasPath, domainKnown := false, true
	for _, a := range stressAttrsOf(v) {
		switch a.key {
		case "path", "domain", "samesite", "secure", "partitioned", "httponly", "max-age", "expires":
			if len(a.value) > 1024 {
				return p, false
			}
		}
		switch a.key {
		case "path":
			p.path, hasPath = a.value, true
		case "domain":
			p.domain = a.value
			domainKnown = domainKnown && strings.TrimLeft(a.value, ".") != ""
		case "samesite":
			p.sameSite = a.value
		case "secure":
			p.secure = true
		case "partitioned":
			p.partitioned = true
		}
	}
	switch {
	case !hasPath:
		p.path = "/"
	case !strings.HasPrefix(p.path, "/"):
		return p, false
	}
	if !domainKnown || strings.EqualFold(strings.TrimLeft(p.domain, "."), "127.0.0.1") {
		return p, false
	}
	return p, !stressControl(p.path) && !stressControl(p.domain) && !stressControl(p.sameSite)
}

// asRead is the deletion of name at d's place as it stands, whatever
// the name's prefix asks, without HttpOnly and without the group's
// policies: where WebKitGTK stored a field that breaks them.
func (d stressDeletion) asRead(name string) string {
	var b strings.Builder
	b.WriteString(name + stressDeletionSuffix + "; Path=" + d.path)
	if d.domain != "" {
		b.WriteString("; Domain=" + d.domain)
	}
	if d.secure {
		b.WriteString("; Secure")
	}
	if d.sameSite != "" {
		b.WriteString("; SameSite=" + d.sameSite)
	}
	if d.partitioned {
		b.WriteString("; Partitioned")
	}
	return b.String()
}

// stressWebKitDeletions appends to add the deletions of name at places,
// where WebKitGTK stores its fields Chromium and Firefox refuse (see
// webKitPlaces), but at those of done: the rules' own deletions of it.
func stressWebKitDeletions(add []stressAppend, name string, places, done []stressDeletion) []stressAppend {
	for _, p := range places {
		if !slices.Contains(done, p) {
			add = append(add, stressAppend{name: name, field: p.asRead(name), deletion: true, webKit: true})
		}
	}
	return add
}

// field writes the deletion of name: a __Host- name always with Path=/,
// Secure and no Domain, a __Secure- or __Http- name always with Secure,
// an __Http- or __Host-Http- name always with HttpOnly (after Secure);
// then the group's attribute policies apply to it, as to any field (a
// value set where it stands, removed, or appended in the fixed order if
// missing).
func (d stressDeletion) field(g *stressGroup, name string) string {
	switch {
	case stressHostPrefixed(name):
		d.path, d.domain, d.secure = "/", "", true
	case stressSecureOnly(name):
		d.secure = true
	}
	httpOnly := stressHTTPOnlyOnly(name)
	type attr struct{ name, value string }
	var attrs []attr
	add := func(name, value string, on bool) {
		if on {
			attrs = append(attrs, attr{name, value})
		}
	}
	add("Path", d.path, d.path != "")
	add("Domain", d.domain, d.domain != "")
	add("Secure", "", d.secure)
	add("HttpOnly", "", httpOnly)
	add("SameSite", d.sameSite, d.sameSite != "")
	add("Partitioned", "", d.partitioned)
	// The group's policies: each value policy or flag, in the fixed
	// order.
	sameSite := stressSameSite(g.SameSite)
	if g.SameSite == removeValue {
		sameSite = removeValue
	}
	// An edit that would break the name's prefix is skipped (a glob or
	// regular expression matched the name; for an exact name the config
	// is refused).
	host := stressHostPrefixed(name)
	path, domain, secure, httpOnlyPolicy := g.Path, g.Domain, g.Secure, g.HTTPOnly
	if host && path != "" && path != "/" && path != removeValue {
		path = ""
	}
	if host && domain != "" && domain != removeValue {
		domain = ""
	}
	if stressSecureOnly(name) && secure != nil && !*secure {
		secure = nil
	}
	if httpOnly && httpOnlyPolicy != nil && !*httpOnlyPolicy {
		httpOnlyPolicy = nil
	}
	// Nor is secure off where browsers would refuse the field without
	// Secure: SameSite=None (after the samesite policy) or Partitioned
	// (unless partitioned off removes it).
	none := strings.EqualFold(d.sameSite, "none")
	if g.SameSite != "" {
		none = strings.EqualFold(sameSite, "none")
	}
	partitioned := d.partitioned && (g.Partitioned == nil || *g.Partitioned)
	if secure != nil && !*secure && (none || partitioned) {
		secure = nil
	}
	var appended []attr
	for _, p := range []struct {
		name, value string
		flag        *bool
	}{
		{name: "Path", value: path},
		{name: "Domain", value: domain},
		{name: "Secure", flag: secure},
		{name: "HttpOnly", flag: httpOnlyPolicy},
		{name: "SameSite", value: sameSite},
		{name: "Partitioned", flag: g.Partitioned},
	} {
		i := slices.IndexFunc(attrs, func(a attr) bool { return a.name == p.name })
		remove := p.value == removeValue || p.flag != nil && !*p.flag
		set := p.flag != nil && *p.flag || p.value != "" && !remove
		switch {
		case remove && i >= 0:
			attrs = slices.Delete(attrs, i, i+1)
		case set && i < 0:
			appended = append(appended, attr{p.name, p.value})
		case set && p.flag == nil && attrs[i].value != p.value && !(p.name == "SameSite" && strings.EqualFold(attrs[i].value, p.value)):
			attrs[i].value = p.value
		}
	}
	var b strings.Builder
	b.WriteString(name + stressDeletionSuffix)
	for _, a := range append(attrs, appended...) {
		b.WriteString("; " + a.name)
		if a.name != "Secure" && a.name != "HttpOnly" && a.name != "Partitioned" {
			b.WriteString("=" + a.value)
		}
	}
	return b.String()
}

// The `expire like` rules, for the check of each follower's lifetime
// against its leader's: the README's reading of a field's lifetime (the
// rule of safety), for the forms the generator writes; a form it does
// not settle here is left to the module's own tests.

// stressLifeKind is what the model makes of a field's lifetime.
type stressLifeKind uint8

const (
	// stressLifeUnknown: a form the model says nothing of.
	stressLifeUnknown stressLifeKind = iota
	// stressLifeSession: no reading finds a lifetime: a session cookie.
	stressLifeSession
	// stressLifeSeconds: every engine reads the same lifetime, seconds
	// from the response's base time.
	stressLifeSeconds
	// stressLifeDeletion: some reading deletes the cookie (a Max-Age of 0
	// or less, an Expires not after the proxy's clock).
	stressLifeDeletion
	// stressLifeUnsure: some engine's reading is one the module does not
	// know (an Expires in another form than the agreed one, or counted
	// from a Date the module cannot read; a Max-Age past 18 digits): the
	// expiry policies leave it alone, and it leads no `like` group.
	stressLifeUnsure
	// stressLifeDiffers: the engines read it differently, none deleting
	// it (a Max-Age with a '+', which Firefox does not read; an Expires
	// counted from a Date more than a minute from the proxy's clock,
	// which libsoup counts from its own): it leads no `like` group.
	stressLifeDiffers
	// stressLifeRefused: a field that passes byte for byte (a control
	// byte, a tab too; name plus value over 4096 bytes; over 8 KiB): it
	// leads no `like` group.
	stressLifeRefused
)

// stressLife is a field's lifetime as the model reads it.
type stressLife struct {
	kind    stressLifeKind
	seconds int64 // for stressLifeSeconds
}

// stressLifetimeAttr is a Max-Age or Expires attribute, its value trimmed.
type stressLifetimeAttr struct {
	maxAge bool
	value  string
}

// stressLifetimeAttrs returns the Max-Age and Expires attributes of a
// Set-Cookie field, in order (names compared without regard to case).
func stressLifetimeAttrs(field string) []stressLifetimeAttr {
	var out []stressLifetimeAttr
	for _, a := range strings.Split(field, ";")[1:] {
		k, v, _ := strings.Cut(a, "=")
		k, v = strings.Trim(k, " \t"), strings.Trim(v, " \t")
		switch {
		case strings.EqualFold(k, "Max-Age"):
			out = append(out, stressLifetimeAttr{true, v})
		case strings.EqualFold(k, "Expires"):
			out = append(out, stressLifetimeAttr{false, v})
		}
	}
	return out
}

// stressCookieName is a field's cookie name: what comes before its first
// '=', trimmed of spaces and tabs ("" when a ';' comes first).
func stressCookieName(field string) (name, value string) {
	pair, _, _ := strings.Cut(field, ";")
	name, value, ok := strings.Cut(pair, "=")
	if !ok {
		return "", ""
	}
	return strings.Trim(name, " \t"), strings.Trim(value, " \t")
}

// stressPlainMaxAge reads a Max-Age every engine reads as the same
// number: an optional '-' and one to nine digits.
func stressPlainMaxAge(v string) (int64, bool) {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" || len(digits) > 9 || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// stressReadLife reads a field's lifetime, as the README's rule of
// safety says the engines read it, for a response whose Date is date.
func stressReadLife(field string, date stressDate) stressLife {
	name, value := stressCookieName(field)
	if stressControl(field) || len(field) > 8192 || len(name)+len(value) > 4096 || stressSoupRefused(field) {
		return stressLife{kind: stressLifeRefused}
	}
	attrs := stressLifetimeAttrs(field)
	if len(attrs) == 0 {
		return stressLife{kind: stressLifeSession}
	}
	// Chromium and Firefox read the last Max-Age as sent when it is a
	// number; libsoup, whichever of Max-Age and Expires comes last.
	lastMaxAge := -1
	for i, a := range attrs {
		if a.maxAge {
			lastMaxAge = i
		}
	}
	if lastMaxAge >= 0 {
		if n, ok := stressPlainMaxAge(attrs[lastMaxAge].value); ok {
			switch {
			case n <= 0:
				return stressLife{kind: stressLifeDeletion}
			case lastMaxAge == len(attrs)-1:
				return stressLife{kind: stressLifeSeconds, seconds: n}
			}
			return stressLife{}
		}
	}
	last := attrs[len(attrs)-1]
	if len(attrs) > 1 {
		if last.maxAge && len(last.value) > 18 && strings.Trim(last.value, "0123456789") == "" {
			return stressLife{kind: stressLifeUnsure} // a Max-Age past 18 digits
		}
		return stressLife{}
	}
	if last.maxAge {
		digits := strings.TrimPrefix(last.value, "+")
		switch {
		case len(digits) < len(last.value) && len(digits) <= 9 && digits != "" && strings.Trim(digits, "0123456789") == "":
			// Chromium reads a '+', Firefox does not (a session cookie).
			if n, _ := strconv.ParseInt(digits, 10, 64); n > 0 {
				return stressLife{kind: stressLifeDiffers}
			}
			return stressLife{kind: stressLifeDeletion}
		case len(last.value) > 18 && strings.Trim(last.value, "0123456789") == "":
			return stressLife{kind: stressLifeUnsure}
		case last.value != "" && strings.Trim(last.value, "+-0123456789") != "" && !strings.HasPrefix(last.value, "-"):
			// Not a number: every engine falls back on an Expires, and
			// there is none.
			return stressLife{kind: stressLifeSession}
		}
		return stressLife{}
	}
	// A lone Expires: read alike only in the IMF-fixdate form (the dashed
	// forms are not generated), counted from the Date.
	t, err := time.Parse(http.TimeFormat, last.value)
	if err != nil {
		return stressLife{kind: stressLifeUnsure}
	}
	now := testClock.Unix()
	switch at := t.Unix(); {
	case at <= now || at <= date.base:
		return stressLife{kind: stressLifeDeletion}
	case date.unread:
		return stressLife{kind: stressLifeUnsure}
	case date.base-now > 60 || now-date.base > 60:
		return stressLife{kind: stressLifeDiffers}
	default:
		return stressLife{kind: stressLifeSeconds, seconds: at - date.base}
	}
}

// stressMaxWritten is the longest Max-Age the module writes, 2^31-1 s: a
// `like` follower's Max-Age is written at most that long (its Expires is
// the leader's instant).
const stressMaxWritten = 1<<31 - 1

// stressFollowerLife returns the Max-Age and Expires attributes that
// follower, a field the handlers added for a cookie of an `expire like`
// group other than its leader, ends with, and whether they are a
// leader's lifetime, appended last; ok is false where the model says
// nothing. leaders are the last field for the leader's name ("" for
// none) that each module rewriting the field saw, in order: one, but two
// for a field of a handler that failed to error routes (the module of
// the failed route rewrote it, then the error route's, which sees it as
// the first left it: "each sees the fields as the handlers inside it
// left them").
//
// The README: the followers get the leader's expiry as sent, a session
// cookie if the leader is one, else the leader's lifetime as Expires
// (from the Date) and Max-Age, appended last; no leader, a deletion, a
// leader browsers reject or the engines read differently: the followers
// are left alone. A follower that is a deletion, or whose lifetime some
// engine reads in a way the module does not know, is left alone too.
func stressFollowerLife(follower string, leaders []string, date stressDate) (want []stressLifetimeAttr, appended, ok bool) {
	switch stressReadLife(follower, date).kind {
	case stressLifeUnknown, stressLifeRefused:
		return nil, false, false
	case stressLifeDeletion, stressLifeUnsure:
		leaders = nil
	}
	// As the app sent it. A field with several Max-Age or Expires
	// attributes may lose the earlier ones to an attribute policy: the
	// model says nothing of it.
	want = stressLifetimeAttrs(follower)
	maxAges := 0
	for _, a := range want {
		if a.maxAge {
			maxAges++
		}
	}
	ok = maxAges <= 1 && len(want)-maxAges <= 1
	for _, leader := range leaders {
		if leader == "" {
			continue
		}
		l := stressReadLife(leader, date)
		if (l.kind == stressLifeSession || l.kind == stressLifeSeconds) && stressLeaderRefused(leader) {
			// Chromium and Firefox keep no such leader: it leads nothing,
			// and the follower stays as it stands.
			continue
		}
		switch l.kind {
		case stressLifeUnknown:
			return nil, false, false
		case stressLifeSession:
			want, appended, ok = nil, false, true
		case stressLifeSeconds:
			// The Max-Age capped, the Expires the leader's own instant.
			n := min(l.seconds, stressMaxWritten)
			expires := time.Unix(date.base+l.seconds, 0).UTC().Format(http.TimeFormat)
			want, appended, ok = []stressLifetimeAttr{{false, expires}, {true, strconv.FormatInt(n, 10)}}, true, true
		}
	}
	return want, appended, ok
}

// stressLeaderRefused reports whether Chromium and Firefox refuse a
// field (a leader's; a member's as its group's policies send it, see
// stressSentPlace), as sent, for its attributes: SameSite=None (its last
// SameSite), Partitioned or a __Secure-, __Host- or __Http- name, without
// Secure; an __Http- or __Host-Http- name without HttpOnly; a __Host-
// name with a Domain or a last Path other than "/".
func stressLeaderRefused(field string) bool {
	name, _ := stressCookieName(field)
	a := stressReadFlags(field)
	return a.refusedFlags(name) || stressHostPrefixed(name) && (a.anyDomain || a.path != "/")
}

// stressRefusedByBoth is stressLeaderRefused for what Chromium and
// Firefox both refuse: a __Host- name only with a Domain with a value,
// or a last Path starting with '/' other than "/" (within 1024 bytes):
// without one, Firefox checks the prefix against the default path it
// gives the cookie, which may be "/", where Chromium refuses it.
func stressRefusedByBoth(field string) bool {
	name, _ := stressCookieName(field)
	a := stressReadFlags(field)
	return a.refusedFlags(name) || stressHostPrefixed(name) && (a.domainValue || strings.HasPrefix(a.path, "/") && a.path != "/")
}

// stressFlags are the attributes of a field that browsers check against
// its name's prefix, SameSite=None and Partitioned, as Chromium and
// Firefox read them (values over 1024 bytes ignored), but anyDomain, a
// Domain attribute of any length or value.
type stressFlags struct {
	secure, httpOnly, none, partitioned bool
	anyDomain, domainValue              bool
	path                                string
}

// stressReadFlags reads field's stressFlags.
func stressReadFlags(field string) stressFlags {
	var f stressFlags
	for _, a := range stressAttrsOf(field) {
		if a.key == "domain" {
			f.anyDomain = true
		}
		if len(a.value) > 1024 {
			continue
		}
		switch a.key {
		case "secure":
			f.secure = true
		case "httponly":
			f.httpOnly = true
		case "partitioned":
			f.partitioned = true
		case "samesite":
			f.none = strings.EqualFold(a.value, "none")
		case "domain":
			f.domainValue = f.domainValue || a.value != ""
		case "path":
			f.path = a.value
		}
	}
	return f
}

// refusedFlags reports whether Chromium and Firefox refuse a field for
// name with flags f for its Secure or HttpOnly: SameSite=None,
// Partitioned or a name needing Secure without it, a name needing
// HttpOnly without it.
func (f stressFlags) refusedFlags(name string) bool {
	return !f.secure && (f.none || f.partitioned || stressSecureOnly(name)) || !f.httpOnly && stressHTTPOnlyOnly(name)
}

// stressLiveElsewhere reports whether fields, whose last stored field
// for name deletes it, also set name at a path or domain no later field
// for name deletes: browsers keep one cookie per name, domain (host-only
// or not) and path, so that cookie stays and the response sets the
// member. Only plain readings count: a field the engines read apart
// (verbatim here, other than one they refuse that deletes nothing), an
// empty Domain or one over 1024 bytes, a name prefix, SameSite=None or
// Partitioned without Secure, Secure over plain http, no SameSite=None
// on a cross-site request, or a field the
// rules appended, keeps the member deleted; a set with a Max-Age past 18
// digits or an Expires beside a Date the module cannot read may delete
// where it stands.
func stressLiveElsewhere(g *stressGroup, fields []stressModelField, name string, dateUnread, https, crossSite bool) bool {
	var deleted []stressScope
	for i := len(fields) - 1; i >= 0; i-- {
		f := fields[i]
		switch {
		case f.name != name:
			continue
		case f.effect == stressSetsNothing:
			// Refused by Chromium and Firefox; WebKitGTK stores it, and
			// one that deletes there may delete a cookie set before it.
			if _, _, _, _, odd, mayDelete := stressRead(g, name, f.value, dateUnread); odd || mayDelete {
				return false
			}
			continue
		case f.value == "", f.verbatim:
			return false
		}
		sc, secure, none, partitioned, odd, _ := stressRead(g, name, f.value, dateUnread)
		if f.effect == stressDeletes || odd {
			if !sc.sure || len(deleted) == 4 {
				return false
			}
			deleted = append(deleted, sc)
			continue
		}
		if stressRefusedByPrefix(name, secure, stressHTTPOnlyAfter(g, name, f.value)) || !secure && (none || partitioned) || secure && !https || crossSite && !none {
			continue
		}
		live := len(deleted) > 0
		for _, d := range deleted {
			live = live && stressApart(sc, d)
		}
		if live {
			return true
		}
	}
	return false
}

// stressKeptElsewhere returns the index among the handlers' fields of
// the last field of fields for name before its last stored one (which
// deletes it) that the module cannot read every engine's way (see
// stressRead), at a place certainly apart from the last one's: a cookie
// some engine may keep there; -1 for none. Fields the engines read apart
// in other ways (verbatim) and fields the rules appended do not count.
func stressKeptElsewhere(g *stressGroup, fields []stressModelField, name string, dateUnread bool) int {
	last := -1
	for i := len(fields) - 1; i >= 0 && last < 0; i-- {
		if fields[i].name == name && fields[i].effect != stressSetsNothing {
			last = i
		}
	}
	if last < 0 || fields[last].value == "" {
		return -1
	}
	at, _, _, _, _, _ := stressRead(g, name, fields[last].value, dateUnread)
	for i := last - 1; i >= 0; i-- {
		f := fields[i]
		if f.name != name || f.effect == stressSetsNothing || f.verbatim || f.value == "" {
			continue
		}
		sc, _, _, _, _, _ := stressRead(g, name, f.value, dateUnread)
		if stressUnsure(f.value, dateUnread) && (stressApart(sc, at) || stressApart(at, sc)) {
			return stressHandlerIndex(fields, i)
		}
	}
	return -1
}

// stressStored reports whether every engine stores field v for name on
// the request (https, crossSite), as g's policies send it: the checks of
// stressLiveElsewhere.
func stressStored(g *stressGroup, name, v string, dateUnread, https, crossSite bool) bool {
	_, secure, none, partitioned, _, _ := stressRead(g, name, v, dateUnread)
	return !(stressRefusedByPrefix(name, secure, stressHTTPOnlyAfter(g, name, v)) || !secure && (none || partitioned) || secure && !https || crossSite && !none)
}

// stressStoredDeletionElsewhere returns, when the last stored field of
// fields for name is one some engine may refuse (see stressStored), the
// index among the handlers' fields of the last deletion of name before
// it that every engine reads as one and stores, at a place certainly
// apart from the last field's; -1 otherwise.
func stressStoredDeletionElsewhere(g *stressGroup, fields []stressModelField, name string, dateUnread, https, crossSite bool) int {
	last := -1
	for i := len(fields) - 1; i >= 0 && last < 0; i-- {
		if fields[i].name == name && fields[i].effect != stressSetsNothing {
			last = i
		}
	}
	// (A field passed byte for byte is read here too: the generator's
	// only such deletion, cut by a tab after its Path, reads alike in
	// every engine but for that.)
	if last < 0 || fields[last].value == "" || stressStored(g, name, fields[last].value, dateUnread, https, crossSite) {
		return -1
	}
	at, _, _, _, _, _ := stressRead(g, name, fields[last].value, dateUnread)
	for i := last - 1; i >= 0; i-- {
		f := fields[i]
		if f.name != name || f.effect != stressDeletes || f.verbatim || f.value == "" || stressUnsure(f.value, dateUnread) || !stressStored(g, name, f.value, dateUnread, https, crossSite) {
			continue
		}
		if sc, _, _, _, _, _ := stressRead(g, name, f.value, dateUnread); stressApart(sc, at) || stressApart(at, sc) {
			return stressHandlerIndex(fields, i)
		}
	}
	return -1
}

// stressHandlerIndex is the index among the handlers' fields of
// fields[i].
func stressHandlerIndex(fields []stressModelField, i int) int {
	n := 0
	for _, e := range fields[:i] {
		if e.value != "" && !e.placed {
			n++
		}
	}
	return n
}

// stressUnsure reports whether the module cannot read field v's
// lifetime every engine's way: a Max-Age past 18 digits; or an Expires
// that decides in some engine (Chromium and Firefox: no Max-Age they
// read; libsoup: none after it) and is in no form the engines agree on
// (the generator's other dates are IMF-fixdates), or that Chromium and
// Firefox count from a Date the module cannot read.
func stressUnsure(v string, dateUnread bool) bool {
	var (
		chromiumMaxAge, firefoxMaxAge bool // a Max-Age each reads
		expiresLast                   bool // libsoup: an Expires after every Max-Age
		odd, dated                    bool // an Expires in another form; one at all
	)
	for _, a := range strings.Split(v, ";")[1:] {
		k, val, _ := strings.Cut(a, "=")
		k, val = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val)
		if len(val) > 1024 {
			continue
		}
		switch k {
		case "max-age":
			digits := strings.TrimLeft(val, "+-")
			if len(digits) > 18 {
				return true
			}
			number := digits != "" && strings.Trim(digits, "0123456789") == "" && len(val)-len(digits) <= 1
			chromiumMaxAge = chromiumMaxAge || number
			firefoxMaxAge = firefoxMaxAge || number && val[0] != '+' || strings.HasPrefix(val, "-")
			expiresLast = false
		case "expires":
			_, err := time.Parse(http.TimeFormat, val)
			odd = odd || err != nil
			dated = true
			expiresLast = true
		}
	}
	switch {
	case !dated:
		return false
	case expiresLast && odd:
		return true
	}
	return (!chromiumMaxAge || !firefoxMaxAge) && (odd || dateUnread)
}

// stressScope is where a field stores its cookie, as far as it says.
type stressScope struct {
	path, domain string
	sure         bool
}

// stressRead reads field v for name as stressLiveElsewhere needs it:
// its scope after g's policies, its Secure, SameSite=None and
// Partitioned, whether its lifetime is one the module does not know
// every engine's reading of (odd), and whether it may delete.
func stressRead(g *stressGroup, name, v string, dateUnread bool) (sc stressScope, secure, none, partitioned, odd, mayDelete bool) {
	sc.sure = true
	oddPath, oddDomain := false, false
	parts := strings.Split(v, ";")
	for _, a := range parts[1:] {
		k, val, _ := strings.Cut(a, "=")
		k, val = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val)
		if len(val) > 1024 {
			// WebKitGTK reads it, the others do not.
			oddPath = oddPath || k == "path"
			oddDomain = oddDomain || k == "domain"
			continue
		}
		switch k {
		case "path":
			sc.path, oddPath = "", false
			if strings.HasPrefix(val, "/") {
				sc.path = val
			}
		case "domain":
			sc.domain, oddDomain = strings.ToLower(strings.TrimPrefix(val, ".")), false
			sc.sure = sc.domain != ""
		case "secure":
			secure = true
		case "samesite":
			none = strings.EqualFold(val, "none")
		case "partitioned":
			partitioned = true
		case "max-age":
			// Past 18 digits the engines' integer overflows differ,
			// and the module does not model them.
			odd = odd || len(strings.TrimLeft(val, "+-")) > 18
			mayDelete = mayDelete || strings.TrimLeft(val, "0") == "" || strings.HasPrefix(val, "-")
		case "expires":
			// Chromium and Firefox count an Expires from a Date the
			// module cannot read; a date in no form the engines are
			// known to agree on (the generator's other dates are
			// IMF-fixdates) is a reading the module does not know.
			_, err := time.Parse(http.TimeFormat, val)
			odd = odd || dateUnread || err != nil
		}
	}
	if oddPath {
		sc.path = ""
	}
	if oddDomain {
		sc.sure = false
	}
	if g.Path != "" {
		sc.path = g.Path
	}
	switch g.Domain {
	case "":
	case "remove":
		sc.domain, sc.sure = "", true
	default:
		sc.domain, sc.sure = strings.ToLower(strings.TrimPrefix(g.Domain, ".")), true
	}
	if g.SameSite != "" {
		none = g.SameSite == "none"
	}
	if g.Partitioned != nil {
		partitioned = *g.Partitioned
	}
	// secure off keeps a Secure the name's prefix, SameSite=None or
	// Partitioned needs (browsers refuse the field without it).
	if g.Secure != nil {
		secure = *g.Secure || secure && (stressSecureOnly(name) || none || partitioned)
	}
	return sc, secure, none, partitioned, odd, mayDelete
}

// stressApart reports whether scopes a and b are certainly two cookies.
func stressApart(a, b stressScope) bool {
	switch {
	case !a.sure || !b.sure:
		return false
	case a.domain == "" && b.domain != "":
		return true
	case a.domain == b.domain:
		return a.path != "" && b.path != "" && a.path != b.path
	}
	return false
}
