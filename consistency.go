package cookienormalizer

import (
	"net/http"
	"slices"
	"strings"
)

// This file keeps a group's cookies together beyond their expiry: a log-out
// that deletes one member deletes them all (on_delete cascade), a request
// whose jar holds only some members gets those deleted (on_partial
// expire), so that a browser which restored half of a log-in is logged out
// cleanly, and a group with `slide` has its cookies re-issued while the
// user is active (slide.go). Only exact names take part: a pattern cannot
// say which cookies to delete or re-issue. It runs once per final
// response, after the rewrite.

// maxConsistencyMembers bounds the exact names that take part in
// consistency rules, across all groups, so that the per-response state
// fits in fixed arrays on the stack.
const maxConsistencyMembers = 64

// consistencyGroup is a group with on_delete or on_partial.
type consistencyGroup struct {
	rule    int      // index of the group's rule
	members []string // its exact names, in config order
	first   int      // index of members[0] in the per-response state
	cascade bool
	partial bool
	slide   *slideRule // nil without slide
	stampAt int        // index of the group's stamp in cookieJar's arrays
}

// consistency holds the compiled consistency rules.
type consistency struct {
	groups []consistencyGroup
	// member maps a member's name to its index in the per-response state
	// (consistencyGroup.first + its position).
	member nameIndex
	// owner maps a state index to its group in groups.
	owner []int
	// stamps maps each slide group's stamp cookie name to its index in
	// groups.
	stamps nameIndex
	// partial is true when some group reads the request's Cookie header
	// (on_partial or slide).
	partial bool
	// slides is true when some group has slide.
	slides bool
	// searchNames is true when the members and stamps are few and plain:
	// each pair of the Cookie header is then compared with their names,
	// not parsed (cookieJar.read). firstBytes is the set of their first
	// bytes, a bit per byte value.
	searchNames bool
	firstBytes  [4]uint64
}

// newConsistency compiles the consistency rules of rules. members[i] lists
// the exact names of rule i that take part (nil for a group without rules).
func newConsistency(rules []rule, m *cookieMatcher) (*consistency, error) {
	c := &consistency{}
	for i, r := range rules {
		if !r.cascade && !r.partial && r.slide == 0 {
			continue
		}
		cg := consistencyGroup{rule: i, first: len(c.owner), cascade: r.cascade, partial: r.partial}
		if r.slide > 0 {
			cg.slide = &slideRule{interval: r.slide, lifetime: r.seconds, stamp: r.stamp}
			cg.slide.attrs, cg.slide.partitioned = stampAttrs(&r)
			if !c.stamps.add(r.stamp, len(c.groups)) {
				return nil, groupErrorf(i, "group %s: slide cookie %q is already the stamp of another group", groupName(r.label, i), r.stamp)
			}
			cg.stampAt = len(c.groups)
		}
		for _, p := range r.patterns {
			if !exactPattern(p) {
				continue
			}
			// A name an earlier group claims is that group's cookie: this
			// group's rules would never see it.
			if owner := m.match(p); owner != i {
				return nil, groupErrorf(i, "group %s: cookie %q belongs to the earlier group %s (a cookie belongs to the first group that matches it), so on_delete, on_partial and slide here would never see it: put this group first, or take the name out of the other", groupName(r.label, i), p, groupName(rules[owner].label, owner))
			}
			if c.member.has(p) {
				continue
			}
			if len(c.owner) == maxConsistencyMembers {
				return nil, groupErrorf(i, "cookie %q: on_delete, on_partial and slide take at most %d exact cookie names in one cookie_normalizer directive, across its groups", p, maxConsistencyMembers)
			}
			c.member.add(p, len(c.owner))
			m.setMember(p, len(c.owner))
			c.owner = append(c.owner, len(c.groups))
			cg.members = append(cg.members, p)
		}
		if len(cg.members) == 0 {
			return nil, groupErrorf(i, "group %s: on_delete and on_partial need at least one exact cookie name in the group (patterns cannot say which cookies to delete)", groupName(r.label, i))
		}
		c.partial = c.partial || r.partial || r.slide > 0
		c.slides = c.slides || r.slide > 0
		c.groups = append(c.groups, cg)
	}
	if len(c.groups) == 0 {
		return nil, nil
	}
	// A stamp named like a cookie a group names exactly would overwrite
	// the app's cookie at every log-in and re-issue.
	for _, cg := range c.groups {
		if cg.slide == nil {
			continue
		}
		for i, r := range rules {
			if slices.Contains(r.patterns, cg.slide.stamp) {
				return nil, groupErrorf(cg.rule, "group %s: slide cookie %q is a cookie of group %s, which the stamp would overwrite: name the stamp with slide <interval> cookie <name>", groupName(rules[cg.rule].label, cg.rule), cg.slide.stamp, groupName(r.label, i))
			}
		}
	}
	c.member.freeze()
	c.stamps.freeze()
	c.compileSearch()
	return c, nil
}

// request is what consistency reads of the request, and of the response
// beside its Set-Cookie fields.
type request struct {
	cookies []string // the Cookie header fields (HTTP/2 may send several)
	https   bool
	// host is the request's Host as sent (with any port): whether a
	// Domain attribute makes a host-only cookie depends on it (see
	// fieldScope.apart, readPlace).
	host string
	// from is the request, for its target (see target), read only when
	// a placed deletion needs it.
	from *http.Request

	status int // the final status; 0 when unknown (a hijack)
	// header is the response's header map, for its Cache-Control fields,
	// which are read only when a re-issue or a partial expiry is about to
	// be appended (nil: none).
	header http.Header

	// private is set by apply when it appended fields that depend on the
	// request's cookies (a re-issue, a partial expiry): the response must
	// then carry Cache-Control: private.
	private bool

	// spoke marks, by index in consistency.groups, the groups whose rules
	// have appended (or, under report_only, reported) fields for this
	// response. A later final pass over the same response (a field
	// added before the first body byte, a hijack that failed) skips them:
	// their rules have spoken, and the fields they appended would
	// otherwise read as the response's own (a partial expiry's deletion
	// as a log-out to cascade).
	spoke uint64
	// withheld marks, as spoke does, the groups whose cascade this
	// response withheld and reported (actionCascadeWithheld): a later
	// pass over the same response does not report it again. The report
	// is the first final pass's decision: a later one (a field added
	// before the first body byte) may still cascade, or find a member
	// set, and is counted as it decides.
	withheld uint64
	// placedFrom is, under report_only, how many of the response's fields
	// placeDeletions has read: a later final pass over the same response
	// reads only those after them, as applied the deletion it appended
	// makes the field no longer the last for its name.
	placedFrom int
	// keepFrom and keepTo span, in the fields the rewrite returns, the
	// cascade's deletions of members where the engines that keep a field
	// the module passes unchanged store it (see keptPlaceDeletions), from
	// the first to the last (keepTo 0: none): at a place the policies do
	// not give, so a later pass over the same response leaves them as
	// they are (the writer records the strings: see followerLog.keepers).
	// What lies between is what the consistency rules appended, built
	// with the policies, which a later pass would leave as it is anyway.
	// Positions, not the strings: a string stored here would make a
	// request on the stack escape to the heap with all it points to.
	keepFrom, keepTo int32

	// crossSiteFetch is set for a request marked cross-site by its
	// Sec-Fetch-Site header (see crossSite).
	crossSiteFetch bool
	// errorRoute is set when an error route answers the request (Caddy
	// adds the handler's error to the request's context before running
	// them), and arrived then holds the jar the failed route's module
	// read on arrival, if one left it (see afterError). Both are read when
	// the request arrives: a context kept here and asked later would make
	// everything the request points to escape to the heap.
	errorRoute bool
	arrived    *arrivedJar

	// slide, if not nil, is scratch space for slide groups' part of the
	// jar, kept by the caller across requests (the pooled response
	// writer's), so that a response does not clear two kilobytes of it.
	slide *slideJar
}

// memberState is what a response does to a member.
type memberState uint8

const (
	untouched memberState = iota
	// memberRefused: the member's fields are only ones Chromium and
	// Firefox refuse (they keep what they had) and WebKitGTK stores (cut
	// short at a control byte, or whole). A field a rule appends after
	// them decides in every engine, so for on_delete and slide it sets
	// nothing; but on_partial appends nothing for that member, and would
	// leave WebKitGTK holding it beside the deletions of the others.
	memberRefused
	memberSet
	memberDeleted
	// memberDeletedSplit: a deletion some engine does not read as one
	// (see expiry.split).
	memberDeletedSplit
	// memberUnreadSplit: a field passed unchanged (the scan rejects it)
	// that some engine reads as a deletion, every reading being known
	// (see rejectedEffect); under a path or domain policy, with the
	// deletion placed after it when another engine keeps it (see
	// placeDeletions).
	memberUnreadSplit
)

// deletes reports whether the member's field deletes it (in some engine):
// the states from memberDeleted on.
func (s memberState) deletes() bool { return s >= memberDeleted }

// memberStates is what a response does to each member, by its index in
// the per-response state.
type memberStates [maxConsistencyMembers]memberState

// deletionSuffix follows the name in every deletion the module adds: an
// Expires in the past for old clients and Max-Age=0 for the rest, Max-Age
// last (libsoup honours the last of the two).
const deletionSuffix = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"

// apply appends the deletions and re-issues the rules call for to values
// and reports each to obs; with reportOnly it appends nothing and reports
// what it would have appended. state is what the rewrite found the
// response doing to each member; base and now are the rewrite's base time
// and clock.
func (c *consistency) apply(n *normalizer, values []string, req *request, state *memberStates, base int64, now *clock, reportOnly bool, obs observer) []string {
	if c.slides {
		return c.applySliding(n, values, req, state, base, now, reportOnly, obs)
	}
	return c.applyWith(nil, n, values, req, state, base, now, reportOnly, obs)
}

// applySliding is apply for a config with slide groups, with the slide
// part of the jar from the request's scratch space, or else in a frame of
// its own (see applySlidingLocal).
func (c *consistency) applySliding(n *normalizer, values []string, req *request, state *memberStates, base int64, now *clock, reportOnly bool, obs observer) []string {
	if req == nil || req.slide == nil {
		return c.applySlidingLocal(n, values, req, state, base, now, reportOnly, obs)
	}
	// The counts and marks say which values are read, so only they need
	// clearing (release clears the values, so as not to keep them).
	sj := req.slide
	clear(sj.stampCount[:])
	clear(sj.stampSent[:])
	return c.applySlidingWith(sj, n, values, req, state, base, now, reportOnly, obs)
}

// applySlidingLocal is applySliding with the slide part of the jar in its
// own frame: apply runs for every response, under the deepest stack of a
// request, and a two-kilobyte frame there would make the goroutine's
// stack grow (and be copied) whenever the garbage collector has shrunk it.
//
//go:noinline
func (c *consistency) applySlidingLocal(n *normalizer, values []string, req *request, state *memberStates, base int64, now *clock, reportOnly bool, obs observer) []string {
	var sj slideJar
	return c.applySlidingWith(&sj, n, values, req, state, base, now, reportOnly, obs)
}

// clearValues drops the values sj holds, so that scratch space kept
// across requests does not keep a request's cookies alive.
func (c *consistency) clearValues(sj *slideJar) {
	clear(sj.value[:len(c.owner)])
	clear(sj.stamp[:len(c.groups)])
}

// applySlidingWith is applySliding with sj, whose counts and marks are
// clear.
func (c *consistency) applySlidingWith(sj *slideJar, n *normalizer, values []string, req *request, state *memberStates, base int64, now *clock, reportOnly bool, obs observer) []string {
	for _, v := range values {
		// The stamps the response already carries (as after an earlier
		// pass) are not added again.
		if name, ok := cookieName(v); ok && !c.isMember(name) {
			if g, ok := c.stamps.lookup(name); ok {
				sj.stampSent[g] = true
			}
		}
	}
	return c.applyWith(sj, n, values, req, state, base, now, reportOnly, obs)
}

// isMember reports whether name is a member's (once frozen).
func (c *consistency) isMember(name string) bool {
	_, ok := c.member.lookup(name)
	return ok
}

// applyWith is apply with the slide part of the jar, sj (nil without
// slide groups).
func (c *consistency) applyWith(sj *slideJar, n *normalizer, values []string, req *request, state *memberStates, base int64, now *clock, reportOnly bool, obs observer) []string {
	jar := cookieJar{slide: sj}
	// The request's Cookie header is read only for a group that needs it:
	// one whose members the response leaves untouched (on_partial), or
	// with slide.
	jarRead := false
	for gi := range c.groups {
		if req != nil && req.spoke&(1<<gi) != 0 {
			continue
		}
		cg := &c.groups[gi]
		var anySet, anyDeleted, anyRefused bool
		allSet := true
		deleted := "" // the last deleted member, in config order
		for k, name := range cg.members {
			switch state[cg.first+k] {
			case memberSet:
				anySet = true
			case memberDeleted, memberDeletedSplit, memberUnreadSplit:
				anyDeleted, deleted, allSet = true, name, false
			case memberRefused:
				anyRefused, allSet = true, false
			default:
				allSet = false
			}
		}
		r := &n.rules[cg.rule]
		if !jarRead && req != nil && (cg.slide != nil || cg.partial && !anySet && !anyDeleted) {
			jar.read(c, req.cookies)
			jarRead = true
		}
		loggedOut, spoke := false, false
		switch {
		case anyDeleted && cg.cascade && (!anySet || !setsLeft(cg, r, values, state, req)):
			loggedOut = true
			if movedMember(cg, r, values, state, req, base, now) || splitUnreached(cg, r, values, state, req, base, now) {
				// A log-out the cascade could not make whole in every
				// engine: nothing is added, and the deleted member is
				// logged and counted so that an operator can tell.
				reported := req != nil && req.withheld&(1<<gi) != 0
				if req != nil {
					req.withheld |= 1 << gi // before observe, which may panic in a logger
				}
				if obs != nil && !reported {
					obs.observe(deleted, cg.rule, actionCascadeWithheld)
				}
				break
			}
			values = c.cascade(cg, r, values, state, deleted, req, base, now, reportOnly, obs)
			spoke = true
		case anyDeleted:
			loggedOut = true
		case !anySet && cg.partial && jar.partial(cg) && !(anyRefused && jar.missesRefused(cg, r, values, state, req, base, now)) && !req.sharedCacheable() && !req.crossSite() && req.partialAsArrived(c, cg):
			values = c.expirePartial(cg, r, values, req, &jar, state, base, now, reportOnly, obs)
			loggedOut, spoke = true, true
		}
		if cg.slide != nil && !sj.stampSent[cg.stampAt] {
			var added bool
			values, added = c.slideFields(cg, r, values, req, &jar, state, loggedOut, anySet, allSet, anyRefused, base, now, reportOnly, obs)
			spoke = spoke || added
		}
		if spoke && req != nil {
			req.spoke |= 1 << gi
		}
	}
	return values
}

// setsLeft reports whether a member of cg that the rewrite found set
// (memberSet) still counts as set on this request, and marks the ones
// that do not memberRefused: a __Host- member whose set Chromium and
// Firefox both refuse only on this request (see hostRefusedOffRoot),
// which the rewrite, without the request, counted as set. Asked only where a set stops a cascade; out of line, like the
// other rare work of applyWith.
//
//go:noinline
func setsLeft(cg *consistencyGroup, r *rule, values []string, state *memberStates, req *request) (anySet bool) {
	for k, name := range cg.members {
		if state[cg.first+k] != memberSet {
			continue
		}
		if hasPrefixFold(name, prefixHost) && hostRefusedOffRoot(values, name, r, req) {
			state[cg.first+k] = memberRefused
			continue
		}
		anySet = true
	}
	return anySet
}

// partialAsArrived reports whether the jar as it arrived holds part of cg:
// in an error route, a handler of the failed route may have edited the
// Cookie header in place (Caddy does not restore it), and the module
// there reads the jar the failed route's module left (request.arrived). Out of
// line: it is asked only before a partial expiry.
//
//go:noinline
func (r *request) partialAsArrived(c *consistency, cg *consistencyGroup) bool {
	if r == nil || r.arrived == nil {
		return true
	}
	a := r.arrived
	if a.crossSite {
		return false
	}
	var jar cookieJar
	jar.read(c, a.cookies)
	return jar.partial(cg)
}

// cascade appends a deletion for each member of cg the response leaves
// untouched, with the attributes of deleted's last field; and for each
// member whose field some engines delete and others keep (a slow
// upstream clock's Expires, Max-Age and Expires that libsoup reads the
// other way round), a deletion of its own, with its field's attributes:
// coming last, it deletes that member in every engine, so that none keeps
// it alone while the cascade deletes the others. A migration such a field
// spoils (a member set at a new place with it and deleted at its old
// one, in either order) gets the same: the others are deleted at the old
// place too when the new place's field comes last, and the member at the
// new place when its deletion comes last; and so does a deleted
// member's earlier field at another place whose lifetime the module
// cannot read every engine's way. When some engine may refuse the
// deletion whose place the others take, they are also deleted at the
// member's last earlier deletion every engine stores. Out of line,
// like the other rare work of applyWith, so that its temporaries stay out
// of applyWith's frame (see applySliding).
//
//go:noinline
func (c *consistency) cascade(cg *consistencyGroup, r *rule, values []string, state *memberStates, deleted string, req *request, base int64, now *clock, reportOnly bool, obs observer) []string {
	n := len(values) // the response's own fields
	last := lastField(values, deleted)
	// fieldAt is values[i], but for the deleted member's last field
	// under report_only: applied, a deletion placed after it (see
	// placement) is the last field, and the others take its place and
	// attributes; none was appended here, so it stands in for it.
	lastV := values[last]
	if reportOnly {
		lastV = placedAfter(lastV, deleted, r, req, base, now)
	}
	fieldAt := func(i int) string {
		if i == last {
			return lastV
		}
		return values[i]
	}
	places, np := [3]int{last}, 1
	from := last // the deletion whose place the others take
	if state[cg.first+slices.Index(cg.members, deleted)] == memberDeletedSplit {
		// The member's last field is one some engines keep: a deletion
		// of it that every engine makes at another place (an old Path,
		// before a migration a slow app clock spoiled) is where the
		// others may be too.
		from = -1
		if i := certainDeletionElsewhere(values[:n], deleted, last, r, req, base, now); i >= 0 {
			places[1], np, from = i, 2, i
		}
	}
	if from >= 0 && !storedField(fieldAt(from), deleted, r, req) {
		// Some engine may refuse that deletion (Secure over plain http,
		// no SameSite=None on a cross-site request), and the others'
		// deletions, copying its attributes, alike: the last deletion
		// before it that every engine stores, at another place, is
		// where the member was deleted, and the others are deleted
		// there too.
		if j := storedDeletionElsewhere(values[:n], deleted, last, r, req, base, now); j >= 0 {
			places[np], np = j, np+1
		}
	}
	// The split members' deletions where an engine that keeps their
	// field stores it (see keeperDeletions): the others are deleted there
	// too. A deletion removes only the cookie of its own Path, Domain and
	// Partitioned (CHIPS), so one at the member's place alone, copying
	// attributes a keeper did not read (a Partitioned after libsoup's
	// stop), may miss an engine's cookie that the keeper's deletion of
	// the member removes.
	var extraBuf [6]string
	extra := extraBuf[:0] // more than six allocate: a rare cascade
	for k, name := range cg.members {
		for _, d := range keeperDeletions(state[cg.first+k], values[:n], name, r, req, base, now) {
			// By its attributes, without the member's name: one place
			// once.
			if d != "" && !hasPlace(extra, d) {
				extra = append(extra, d)
			}
		}
	}
	// A log-out browsers refuse for its attributes gets a deletion of
	// the member they take (see prefixFixed). The others are deleted
	// where their deletions at the deleted member's place would miss:
	// at a __Host- member's fixed place, / host-only, where a __Host-
	// cookie lives; and, where Chromium and Firefox refuse a log-out
	// for SameSite=None or Partitioned without Secure, at its place
	// with Secure. Every deleted member's log-out counts, not only the
	// one whose place the others take.
	var fixBuf [4]string
	fixPlaces := fixBuf[:0] // more than four allocate: a rare cascade
	for k, name := range cg.members {
		if !state[cg.first+k].deletes() {
			continue
		}
		fix, secured := prefixFixedFor(values[:n], name, r, req, base, now)
		if fix != "" && hasPrefixFold(name, prefixHost) && !hasPlace(fixPlaces, fix) {
			fixPlaces = append(fixPlaces, fix)
		}
		if secured != "" && !hasPlace(fixPlaces, secured) {
			fixPlaces = append(fixPlaces, secured)
		}
	}
	for k, name := range cg.members {
		// done: the deletions appended for this member, so that the one
		// where WebKitGTK stores a field it alone keeps is not appended
		// twice.
		var doneBuf [8]string
		done := doneBuf[:0]
		switch state[cg.first+k] {
		case untouched, memberRefused:
			for _, at := range places[:np] {
				d := r.withPolicies(deletionAttrsFrom(fieldAt(at)).field(name))
				values = c.add(values, d, name, cg.rule, actionCascaded, reportOnly, obs)
				done = append(done, d)
			}
			for _, at := range fixPlaces {
				if d := r.withPolicies(deletionAttrsFrom(at).field(name)); !hasPlace(done, d) {
					values = c.add(values, d, name, cg.rule, actionCascaded, reportOnly, obs)
					done = append(done, d)
				}
			}
			mine := done
			for _, e := range extra {
				if d := deletionAttrsFrom(e).field(name); !slices.Contains(mine, d) {
					values = c.addKeeper(values, d, name, cg.rule, actionCascaded, req, reportOnly, obs)
					done = append(done, d)
				}
			}
		case memberDeletedSplit:
			own := r.withPolicies(deletionAttrsFrom(values[lastField(values[:n], name)]).field(name))
			values = c.add(values, own, name, cg.rule, actionCascaded, reportOnly, obs)
			done = append(done, own)
			for _, d := range keeperDeletions(memberDeletedSplit, values[:n], name, r, req, base, now) {
				values = c.addKeeper(values, d, name, cg.rule, actionCascaded, req, reportOnly, obs)
				done = append(done, d)
			}
			if d := prefixFixed(values[:n], name, r, req, base, now); d != "" && !hasPlace(done, d) {
				// Chromium and Firefox refuse the app's split log-out
				// for its attributes, and its own deletion above, which
				// copies them: one they take.
				values = c.add(values, d, name, cg.rule, actionCascaded, reportOnly, obs)
				done = append(done, d)
			}
		case memberUnreadSplit:
			// The engines read the app's field apart: where they read
			// its place, and whether they keep it.
			kept, _ := keptPlaceDeletions(values[:n], name, r, req, base, now)
			if kept[0] != "" {
				values = c.add(values, kept[0], name, cg.rule, actionCascaded, reportOnly, obs)
				done = append(done, kept[0])
			}
			if d := prefixFixed(values[:n], name, r, req, base, now); d != "" && !hasPlace(done, d) {
				// Chromium and Firefox refuse the app's deletion for
				// its attributes (and the one above, which copies
				// them): one they take.
				values = c.add(values, d, name, cg.rule, actionCascaded, reportOnly, obs)
				done = append(done, d)
			}
			for _, d := range kept[1:] {
				if d != "" {
					values = c.addKeeper(values, d, name, cg.rule, actionCascaded, req, reportOnly, obs)
					done = append(done, d)
				}
			}
			values, done = c.keptElsewhereDeletion(values, n, done, name, cg.rule, r, req, base, now, reportOnly, obs)
		case memberDeleted:
			if d := prefixFixed(values[:n], name, r, req, base, now); d != "" {
				values = c.add(values, d, name, cg.rule, actionCascaded, reportOnly, obs)
				done = append(done, d)
			}
			values, done = c.keptElsewhereDeletion(values, n, done, name, cg.rule, r, req, base, now, reportOnly, obs)
		}
		values = c.refusedDeletions(values, n, done, name, cg.rule, actionCascaded, r, req, base, now, reportOnly, obs)
	}
	return values
}

// refusedDeletions appends, for member name, the deletions where
// WebKitGTK stores its fields in values[:n] that Chromium and Firefox
// refuse (see refusedPlaces), but at the places of those in done: a
// cascade or a partial expiry that deletes the others must not leave
// WebKitGTK holding the member there alone. (The caller has checked
// that they can be written.)
func (c *consistency) refusedDeletions(values []string, n int, done []string, name string, group int, act action, r *rule, req *request, base int64, now *clock, reportOnly bool, obs observer) []string {
	places, _ := refusedPlaces(values[:n], name, r, req, base, now)
	for _, d := range places {
		if d != "" && !hasPlace(done, d) {
			values = c.addKeeper(values, d, name, group, act, req, reportOnly, obs)
		}
	}
	return values
}

// keptElsewhereDeletion appends, for a member the response deletes, the
// deletion of its field before the last (in values[:n]) that some engine
// may keep, at another place than the last field's (a migration a slow
// app clock spoiled, or one whose Expires the engines may read apart):
// a cascade deletes it there too. It returns values and done, with the
// deletion appended to both.
func (c *consistency) keptElsewhereDeletion(values []string, n int, done []string, name string, group int, r *rule, req *request, base int64, now *clock, reportOnly bool, obs observer) ([]string, []string) {
	if i := keptElsewhere(values[:n], name, lastField(values[:n], name), r, req, base, now); i >= 0 {
		// As the policies send it: values may hold the app's field (the
		// memo's are built later), and the deletion must not depend on
		// which.
		own := deletionAttrsFrom(r.withPolicies(values[i]))
		d := r.withPolicies(own.field(name))
		values = c.add(values, d, name, group, actionCascaded, reportOnly, obs)
		done = append(done, d)
	}
	return values, done
}

// expirePartial appends a deletion for each member of cg the request's
// jar carries. The deletions depend on the request's cookies, so a shared
// cache must not store the response and hand them to other users: the
// caller has checked that the response does not let one
// (sharedCacheable), and the response gets Cache-Control: private. Out of
// line (see cascade).
//
//go:noinline
func (c *consistency) expirePartial(cg *consistencyGroup, r *rule, values []string, req *request, jar *cookieJar, state *memberStates, base int64, now *clock, reportOnly bool, obs observer) []string {
	attrs := r.attrs.deletionAttrs(req.https)
	n := len(values)
	for k, name := range cg.members {
		if jar.count[cg.first+k] > 0 {
			d := r.withPolicies(attrs.field(name))
			values = c.add(values, d, name, cg.rule, actionPartialExpired, reportOnly, obs)
			if state[cg.first+k] == memberRefused {
				values = c.refusedDeletions(values, n, []string{d}, name, cg.rule, actionPartialExpired, r, req, base, now, reportOnly, obs)
			}
		}
	}
	req.private = req.private || !reportOnly
	return values
}

// slideFields appends what slide group cg calls for to values: a stamp's
// deletion on a log-out (loggedOut), a fresh stamp on a log-in (allSet:
// the response sets every member), or, when due (on a response that
// renews some members, anySet, whatever the stamp's age), the members the
// response leaves untouched re-issued with a fresh stamp, but not when
// the response's only fields for some member are ones Chromium and
// Firefox refuse (refused: WebKitGTK may read such a field, cut short at
// its control byte, as a deletion, which a re-issue would undo); and
// reports whether it appended (or reported) anything. Out of line, so
// that its temporaries stay out of applyWith's frame (see applySliding).
//
//go:noinline
func (c *consistency) slideFields(cg *consistencyGroup, r *rule, values []string, req *request, jar *cookieJar, state *memberStates, loggedOut, anySet, allSet, refused bool, base int64, now *clock, reportOnly bool, obs observer) ([]string, bool) {
	switch {
	case loggedOut:
		// Whether or not the request carried it: a request need not carry
		// every cookie the browser holds (a cross-site POST to a log-out
		// URL carries no SameSite=Lax cookie).
		values = c.add(values, cg.slide.stampDeletion(r, req), cg.slide.stamp, cg.rule, actionStampDeleted, reportOnly, obs)
	case unreadMember(cg, values):
		// A member's field the module does not read (over maxValueLen)
		// may log it out or in: neither a re-issue nor a new stamp is
		// written on a guess.
		return values, false
	case allSet:
		// A log-in: the stamp starts now.
		values = c.add(values, cg.slide.stampField(r, req, base, now.unix()), cg.slide.stamp, cg.rule, actionStampSet, reportOnly, obs)
	case req != nil && !refused && cg.slide.due(cg, jar, req, now.unix(), anySet):
		// The stamp says when every member was last issued. A response
		// that sets some members and not the others (an app that renews
		// its session cookie on its own) renews only those: the others
		// are re-issued beside them, whatever the stamp's age, so that
		// the group keeps one expiry, and the stamp starts again.
		// Restarting it for the renewed members alone would keep the
		// others from ever being re-issued; re-issuing them only once per
		// interval would let them run out up to an interval before the
		// renewed ones, a half log-in that the app's next renewal keeps
		// from being expired (the response sets a member).
		for k, name := range cg.members {
			if state[cg.first+k] == untouched {
				values = c.add(values, cg.slide.reissue(r, name, jar.slide.value[cg.first+k], base), name, cg.rule, actionReissued, reportOnly, obs)
			}
		}
		values = c.add(values, cg.slide.stampField(r, req, base, now.unix()), cg.slide.stamp, cg.rule, actionStampSet, reportOnly, obs)
		req.private = req.private || !reportOnly
	default:
		return values, false
	}
	return values, true
}

// unreadMember reports whether values holds a field for a member of cg
// over maxValueLen, which the module does not read.
func unreadMember(cg *consistencyGroup, values []string) bool {
	for _, v := range values {
		if len(v) > maxValueLen {
			if name, ok := cookieName(v); ok && slices.Contains(cg.members, name) {
				return true
			}
		}
	}
	return false
}

// lastField returns the index of the last field of values for cookie
// name that browsers store (one the rewrite found deleting a member, so
// there is one): a field Chromium and Firefox refuse (a name plus value
// over 4096 bytes, a control byte) sets nothing for the consistency
// rules, and its Path and Domain are not where the member was deleted.
func lastField(values []string, name string) int {
	var f setCookie
	for i := len(values) - 1; i >= 0; i-- {
		if got, ok := cookieName(values[i]); ok && got == name {
			if f.scan(values[i], 0, 0) && f.refusedForBytes() {
				continue
			}
			return i
		}
	}
	return -1
}

// add appends field, a field for cookie name, unless reportOnly, and
// reports it. It is rarely called, and kept out of line so that its five
// call sites do not each add their temporaries to applyWith's frame (see
// applySliding).
//
//go:noinline
func (c *consistency) add(values []string, field, name string, group int, act action, reportOnly bool, obs observer) []string {
	if !reportOnly {
		values = append(values, field)
	}
	if obs != nil {
		obs.observe(name, group, act)
	}
	return values
}

// hasPlace reports whether one of deletions holds d's attributes (see
// sameDeletionPlace).
func hasPlace(deletions []string, d string) bool {
	return slices.ContainsFunc(deletions, func(e string) bool { return sameDeletionPlace(e, d) })
}

// sameDeletionPlace reports whether deletions a and b (of any names)
// carry the same attributes.
func sameDeletionPlace(a, b string) bool {
	return deletionAttrsFrom(a) == deletionAttrsFrom(b)
}

// keeperDeletions returns the deletions a cascade appends for a member in
// state s where an engine that keeps its last field in values (one the
// module passes unchanged) stores it, "" for none: for a split whose
// readings are all known, where the keepers store it (see
// keptPlaceDeletions); for one with a reading not known, where each
// engine reads its place (see unreadSplitDeletions).
func keeperDeletions(s memberState, values []string, name string, r *rule, req *request, base int64, now *clock) keeperFields {
	switch s {
	case memberUnreadSplit:
		kept, _ := keptPlaceDeletions(values, name, r, req, base, now)
		return keeperFields(kept[1:])
	case memberDeletedSplit:
		unread, _ := unreadSplitDeletions(values, name, r, req)
		return unread
	}
	return keeperFields{}
}

// addKeeper is add for a deletion d ("" for none), counted as act, of a
// member where an engine that keeps a field the module passes unchanged
// (or one only WebKitGTK stores) stores it: at a place the policies do
// not give, so the request records its position, and a later pass over
// the same response leaves it there (see request.keepFrom).
func (c *consistency) addKeeper(values []string, d, name string, group int, act action, req *request, reportOnly bool, obs observer) []string {
	if d == "" {
		return values
	}
	values = c.add(values, d, name, group, act, reportOnly, obs)
	if !reportOnly && req != nil {
		if req.keepTo == 0 {
			req.keepFrom = int32(len(values) - 1)
		}
		req.keepTo = int32(len(values))
	}
	return values
}

// withPolicies applies the group's attribute policies to a field the
// module adds, as the rewrite would on a later pass (so that pass finds
// nothing to change).
func (r *rule) withPolicies(field string) string {
	var f setCookie
	if !r.hasAttrs || !f.scan(field, attributeKinds, 0) {
		return field
	}
	tail, _ := r.attrs.attrEdits(&f, f.tailBuf[:0])
	return f.rebuild(tail, &r.attrs)
}

// cookieJar is what the request's Cookie header says of the members and
// the stamps: how often each member appears, the value of its first
// occurrence, and each stamp's value. It lives on the stack, and reading
// it allocates nothing.
type cookieJar struct {
	count [maxConsistencyMembers]uint8
	// slide is what only slide groups read; nil without them, so that a
	// config without slide does not clear two kilobytes per response.
	slide *slideJar
}

// slideJar is the part of cookieJar that slide reads: the members' values
// and the stamps.
type slideJar struct {
	value [maxConsistencyMembers]string
	stamp [maxConsistencyMembers]string // by group index in consistency.groups
	// stampCount counts each stamp's occurrences.
	stampCount [maxConsistencyMembers]uint8
	// stampSent marks the stamps the response itself carries.
	stampSent [maxConsistencyMembers]bool
}

// read parses every Cookie field: "name=value" pairs separated by ';'
// (RFC 6265bis §5.7.4 serialises them with "; "). A pair without '=' is
// a cookie without a name, which a browser sends as its value alone (RFC
// 6265bis §5.6 stores `Set-Cookie: abc` as a nameless cookie with value
// "abc"): "session_id" alone is not the cookie session_id, and counts for
// no member or stamp.
//
// When the members and stamps are few and plain (searchNames), it only
// compares the start of each pair with their names (see pairNamed),
// instead of cutting every pair into a trimmed name and value and looking
// the name up: a vectorised search for each ';' and, mostly, a byte
// compared per name.
func (j *cookieJar) read(c *consistency, cookies []string) {
	// Without slide, a member's count says only whether the jar holds it
	// (on_partial reads no more), so once every member has been seen the
	// rest of the header can change nothing; with slide, duplicates and
	// stamps count, and every pair is read (unseen stays below 0).
	unseen := -1
	if j.slide == nil {
		unseen = len(c.owner)
	}
	for _, h := range cookies {
		for len(h) > 0 {
			if !c.searchNames {
				var (
					name, value string
					named       bool
				)
				name, value, h, named = splitItem(h, ';')
				if named {
					j.count1(c, name, value)
				}
				continue
			}
			// splitItem's split and trimLeftSpace, written out: a call per
			// pair costs more than the rest of a pair that names no one.
			item := h
			h = ""
			if i := strings.IndexByte(item, ';'); i >= 0 {
				item, h = item[:i], item[i+1:]
			}
			k := 0
			for k < len(item) && (item[k] == ' ' || item[k] == '\t') {
				k++
			}
			// Most pairs: no name starts with this byte.
			if k < len(item) && c.firstBytes[item[k]>>6]&(1<<(item[k]&63)) != 0 && j.readPair(c, item[k:]) {
				if unseen--; unseen == 0 {
					return
				}
			}
		}
	}
}

// readPair counts item, one pair of a Cookie field without its leading
// spaces and tabs, if it names a member or a stamp: it compares the
// pair's start with each name (all plain). It reports whether the pair
// was a member's first.
func (j *cookieJar) readPair(c *consistency, item string) bool {
	for _, e := range c.member.few {
		if value, ok := pairNamed(item, e.name); ok {
			first := j.count[e.v] == 0
			j.countMember(e.v, value)
			return first
		}
	}
	if j.slide != nil {
		for _, e := range c.stamps.few {
			if value, ok := pairNamed(item, e.name); ok {
				j.countStamp(e.v, value)
				return false
			}
		}
	}
	return false
}

// pairNamed reports whether item, a Cookie pair without its leading
// spaces and tabs, is named name (a plain name) as splitItem would read
// it: name, then only spaces and tabs up to the pair's '='. It returns the
// pair's value, trimmed. A pair without '=' is named by no one (see
// cookieJar.read).
func pairNamed(item, name string) (string, bool) {
	if len(item) < len(name) || item[0] != name[0] || item[:len(name)] != name {
		return "", false
	}
	if rest := trimLeftSpace(item[len(name):]); rest != "" && rest[0] == '=' {
		return trimSpace(rest[1:]), true
	}
	return "", false
}

// count1 counts the pair name=value (both trimmed) if name is a member's
// or a stamp's.
func (j *cookieJar) count1(c *consistency, name, value string) {
	if m, ok := c.member.lookup(name); ok {
		j.countMember(m, value)
	} else if g, ok := c.stamps.lookup(name); ok && j.slide != nil {
		j.countStamp(g, value)
	}
}

// countMember counts an occurrence of member m, keeping the first value
// for slide.
func (j *cookieJar) countMember(m int, value string) {
	if j.count[m] == 0 && j.slide != nil {
		j.slide.value[m] = value
	}
	j.count[m] = min(j.count[m]+1, 2)
}

// countStamp counts an occurrence of stamp g, keeping the first value
// (slide reads it only when there is one).
func (j *cookieJar) countStamp(g int, value string) {
	if j.slide.stampCount[g] == 0 {
		j.slide.stamp[g] = value
	}
	j.slide.stampCount[g] = min(j.slide.stampCount[g]+1, 2)
}

// compileSearch sets searchNames and firstBytes, once the names are
// frozen.
func (c *consistency) compileSearch() {
	c.searchNames = c.searchable()
	c.firstBytes = [4]uint64{}
	for _, names := range []*nameIndex{&c.member, &c.stamps} {
		for _, e := range names.few {
			c.firstBytes[e.name[0]>>6] |= 1 << (e.name[0] & 63)
		}
	}
}

// searchable reports whether cookieJar.read may compare each pair's
// start with the names instead of parsing it: the members are few, and so
// are the stamps, all plain, and no stamp is a member (the parse takes
// such a name for the member).
func (c *consistency) searchable() bool {
	if len(c.member.few) == 0 || len(c.stamps.m) > maxFewNames {
		return false
	}
	for _, e := range c.member.few {
		if !plainName(e.name) {
			return false
		}
	}
	for _, e := range c.stamps.few {
		if !plainName(e.name) || c.member.has(e.name) {
			return false
		}
	}
	return true
}

// plainName reports whether pairNamed can compare a pair's start with
// name: not empty, and without a ';', an '=', a space or a tab, which the
// parse would cut or trim.
func plainName(name string) bool {
	return name != "" && !strings.ContainsAny(name, ";= \t")
}

// splitItem splits the first item off a header field whose items are
// separated by sep (a Cookie header's "name=value" pairs, a Cache-Control
// header's directives): it returns the item's name and value, split at
// its first '=' and trimmed of spaces and tabs (value "" without '='), the
// rest of the field after sep, and whether the item has an '='.
func splitItem(h string, sep byte) (name, value, rest string, hasEquals bool) {
	item := h
	if i := strings.IndexByte(h, sep); i >= 0 {
		item, rest = h[:i], h[i+1:]
	}
	name, value, hasEquals = strings.Cut(item, "=")
	return trimSpace(name), trimSpace(value), rest, hasEquals
}

// missesRefused reports whether some member of cg whose fields in the
// response Chromium and Firefox refuse (memberRefused) is one the jar
// does not hold, or one whose place in WebKitGTK no deletion can be
// written for (see refusedPlaces): a partial expiry appends nothing for
// the first, and WebKitGTK, which stores such a field, would hold it
// beside the deletions of the others. (For a member the jar holds, the
// deletion appended after its field decides in Chromium and Firefox, and
// one at its place in WebKitGTK there.) Out of line: rare work, kept out
// of applyWith's frame.
//
//go:noinline
func (j *cookieJar) missesRefused(cg *consistencyGroup, r *rule, values []string, state *memberStates, req *request, base int64, now *clock) bool {
	for k, name := range cg.members {
		if state[cg.first+k] != memberRefused {
			continue
		}
		if j.count[cg.first+k] == 0 {
			return true
		}
		if _, ok := refusedPlaces(values, name, r, req, base, now); !ok {
			return true
		}
	}
	return false
}

// partial reports whether the jar holds some but not all members of cg.
func (j *cookieJar) partial(cg *consistencyGroup) bool {
	some, all := false, true
	for k := range cg.members {
		if j.count[cg.first+k] > 0 {
			some = true
		} else {
			all = false
		}
	}
	return some && !all
}

// deletionAttrs are the attributes a deletion needs to match the cookie it
// removes: browsers delete the cookie with the same name, Domain and Path
// (RFC 6265bis §5.7), and a Secure or Partitioned one only from a field
// that says so. sameSite, for a cascade, is the deleted member's: a
// browser refuses a field without SameSite=None (Lax by default) in a
// cross-site response, such as one inside a third-party frame, where the
// app's own deletion with SameSite=None was taken.
type deletionAttrs struct {
	path, domain, sameSite string
	secure, partitioned    bool
}

// deletionAttrsFrom reads the attributes of a deleted member's field, v
// (already rewritten by the group's attribute policies).
func deletionAttrsFrom(v string) deletionAttrs {
	var (
		d deletionAttrs
		f setCookie
	)
	f.scan(v, attributeKinds, 0)
	attrs := f.attrs()
	for i := range attrs {
		a := &attrs[i]
		switch {
		case a.oversized(), hasOddByte(f.value(a)):
			// Not copied: browsers ignore the first, and the second would
			// put an odd byte (a tab, or a byte over 0x7f, where libsoup
			// stops) in ours.
		case a.kind == attrPath:
			d.path = f.value(a)
		case a.kind == attrDomain:
			d.domain = f.value(a)
		case a.kind == attrSameSite:
			d.sameSite = f.value(a)
		case a.kind == attrSecure:
			d.secure = true
		case a.kind == attrPartitioned:
			d.partitioned = true
		}
	}
	return d
}

// deletionAttrs are the attributes of a deletion for a cookie the request
// carried: the request does not say where it was set, so the group's path
// and domain policies when set, else Path=/ and no Domain; Secure from the
// group's policy, else on HTTPS requests.
func (p *attrPolicy) deletionAttrs(https bool) deletionAttrs {
	d := deletionAttrs{path: "/", secure: https}
	if p.path.set {
		d.path = p.path.value
	}
	if p.domain.set {
		d.domain = p.domain.value
	}
	switch p.secure {
	case flagOn:
		d.secure = true
	case flagOff:
		d.secure = false
	}
	d.partitioned = p.partitioned == flagOn
	return d
}

// field writes the deletion of name. A __Host- name always gets Path=/ and
// Secure and no Domain, a __Secure- name always Secure, an __Http- or
// __Host-Http- name Secure and HttpOnly, or browsers would reject the
// deletion (RFC 6265bis §4.1.3; draft-ietf-httpbis-layered-cookies).
func (d deletionAttrs) field(name string) string {
	switch {
	case hasPrefixFold(name, prefixHost):
		d.path, d.domain, d.secure = "/", "", true
	case securePrefixed(name):
		d.secure = true
	}
	return d.write(name, httpPrefixed(name))
}

// write writes the deletion of name with d's attributes as they are, and
// HttpOnly when httpOnly.
func (d deletionAttrs) write(name string, httpOnly bool) string {
	var b strings.Builder
	b.Grow(len(name) + len(deletionSuffix) + len(d.path) + len(d.domain) + len(d.sameSite) + 50)
	b.WriteString(name)
	b.WriteString(deletionSuffix)
	if d.path != "" {
		b.WriteString("; Path=")
		b.WriteString(d.path)
	}
	if d.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(d.domain)
	}
	if d.secure {
		b.WriteString("; Secure")
	}
	if httpOnly {
		b.WriteString("; HttpOnly")
	}
	if d.sameSite != "" {
		b.WriteString("; SameSite=")
		b.WriteString(d.sameSite)
	}
	if d.partitioned {
		b.WriteString("; Partitioned")
	}
	return b.String()
}
