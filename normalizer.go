package cookienormalizer

import (
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// This file holds the compiled rules and the per-response driver: which
// group a cookie belongs to, in which pass it is rewritten, and which field
// leads a `like` group. It knows nothing of Caddy or net/http; one field is
// scanned and rebuilt in setcookie.go, its lifetime read in expiry.go.

// expiryKind is the expiry policy of a group.
type expiryKind uint8

const (
	expireNone    expiryKind = iota // no expiry policy
	expireSession                   // remove Max-Age and Expires
	expireFixed                     // set Max-Age and Expires to a lifetime
	expireMax                       // cap the lifetime
	expireLike                      // copy the expiry of a leader cookie
)

// action is what the rewrite did with one matched Set-Cookie value; the
// handler logs it.
type action uint8

const (
	actionRewritten       action = iota // the value was changed
	actionUnchanged                     // the value already complied, or had no leader
	actionDeletionKept                  // a deletion, which expiry policies never touch
	actionPassedInvalid                 // not rewritable (control bytes, too long)
	actionEditSkipped                   // an attribute edit left out: it would break a __Host-/__Secure- name, or make browsers refuse the cookie
	actionCascaded                      // a deletion added: another member was deleted (on_delete cascade)
	actionPartialExpired                // a deletion added: the request held only part of the group (on_partial expire)
	actionReissued                      // a field added: the cookie re-issued with a fresh lifetime (slide)
	actionStampSet                      // the slide stamp set (a log-in or a re-issue)
	actionStampDeleted                  // the slide stamp deleted (a log-out)
	actionDeletionPlaced                // a deletion added at a path or domain policy's place, after one the module cannot rewrite
	actionCascadeWithheld               // nothing added: a member was deleted, but a cascade could leave some engine holding a member alone (on_delete cascade)
	numActions
)

var actionNames = [...]string{
	actionRewritten:       "rewritten",
	actionUnchanged:       "unchanged",
	actionDeletionKept:    "deletion kept",
	actionPassedInvalid:   "passed invalid",
	actionEditSkipped:     "edit skipped",
	actionCascaded:        "cascaded",
	actionPartialExpired:  "partial expired",
	actionReissued:        "reissued",
	actionStampSet:        "stamp set",
	actionStampDeleted:    "stamp deleted",
	actionDeletionPlaced:  "deletion placed",
	actionCascadeWithheld: "cascade withheld",
}

// changes reports whether the action changes the response (what report_only
// logs at info).
func (a action) changes() bool {
	return a != actionUnchanged && a != actionDeletionKept && a != actionPassedInvalid && a != actionEditSkipped && a != actionCascadeWithheld
}

func (a action) String() string { return actionNames[a] }

// observer is told about every matched Set-Cookie value. It receives the
// cookie name, never its value.
type observer interface {
	observe(name string, group int, act action)
}

// rule is one compiled group. The fields every matched field reads come
// first, so that they share the struct's first cache line.
type rule struct {
	// depth orders the passes: groups without `like` run first (0), a
	// `like` group runs one pass after the group of its leader, so that it
	// copies the leader's expiry as sent to the client.
	depth   int
	expiry  expiryKind
	seconds int64 // for expireFixed and expireMax
	// consistent is true for a group with cascade, partial or slide: the
	// rewrite records what the response does to its members.
	consistent bool
	hasAttrs   bool     // attrs sets any policy (filled in by newNormalizer)
	placed     bool     // attrs sets a path or domain policy (likewise)
	kinds      kindMask // the attribute kinds the rule reads (likewise)
	noted      kindMask // the kinds it needs to know are present, no more
	cascade    bool     // on_delete cascade
	partial    bool     // on_partial expire
	slide      int64    // slide interval in seconds; 0 without slide

	label    string
	patterns []string
	like     string // for expireLike: the leader's exact name
	attrs    attrPolicy
	stamp    string // the slide stamp cookie's name
}

// normalizer rewrites Set-Cookie values according to its rules.
type normalizer struct {
	rules       []rule
	matcher     *cookieMatcher
	maxDepth    int
	now         func() time.Time // a fixed clock for tests; nil: wall
	consistency *consistency     // nil without on_delete or on_partial
	// reportOnly computes every decision and changes nothing.
	reportOnly bool

	lastDate atomic.Pointer[parsedDate] // see responseTime
	memos    []tailMemo                 // by rule
	wall     wallClock                  // the proxy's clock, unless now is set
}

// newNormalizer compiles rules. It fails on a `like` chain that loops (a
// likeLoopError), and with a groupError on an invalid pattern, a label two
// groups share (logs and metrics would count them as one) or what
// newConsistency rejects.
func newNormalizer(rules []rule) (*normalizer, error) {
	patterns := make([][]string, len(rules))
	names := make(map[string]int, len(rules)) // what logs and metrics call each group
	for i, r := range rules {
		patterns[i] = r.patterns
		name := logName(r.label, r.patterns, i)
		j, taken := names[name]
		switch {
		case !taken:
			names[name] = i
		case r.label != "" && rules[j].label != "":
			return nil, groupErrorf(i, "group %q: another group has this label too, and logs and metrics would count the two as one", r.label)
		default:
			return nil, groupErrorf(i, "group %s: logs and metrics would name it %q, as they name group %s, and count the two as one: give one of them a label of its own", groupName(r.label, i), name, groupName(rules[j].label, j))
		}
	}
	m, err := newCookieMatcher(patterns)
	if pe, ok := err.(patternError); ok {
		return nil, groupErrorf(pe.group, "group %s: %v", groupName(rules[pe.group].label, pe.group), pe.err)
	}
	for i := range rules {
		r := &rules[i]
		r.hasAttrs = r.attrs.any()
		r.placed = r.attrs.path.set || r.attrs.path.remove || r.attrs.domain.set || r.attrs.domain.remove
		r.consistent = r.cascade || r.partial || r.slide > 0
		// Attribute policies read the lifetime attributes too: a field
		// they rewrite loses its duplicate Max-Age and Expires attributes
		// (see dropLifetimeDuplicates).
		if r.expiry != expireNone || r.consistent || r.hasAttrs {
			r.kinds |= lifetimeKinds
		}
		record, note := r.attrs.kinds()
		r.kinds |= record
		r.noted = note
	}
	n := &normalizer{rules: rules, matcher: m, memos: make([]tailMemo, len(rules))}
	if loop := n.computeDepths(); loop >= 0 {
		return nil, likeLoopError{group: loop, rules: rules}
	}
	if n.consistency, err = newConsistency(rules, m); err != nil {
		return nil, err
	}
	return n, nil
}

// clock returns a response's clock: the tests' fixed one, else the
// proxy's.
func (n *normalizer) clock() clock {
	return clock{now: n.now, wall: &n.wall}
}

// groupError is a configuration error about one group that shows only
// once every group is known: the Caddyfile parser reports it at that
// group's line. Its message names the group, for JSON configs.
type groupError struct {
	group int
	msg   string
}

func (e groupError) Error() string { return e.msg }

// groupErrorf returns a groupError about group i.
func groupErrorf(i int, format string, args ...any) error {
	return groupError{group: i, msg: fmt.Sprintf(format, args...)}
}

// likeLoopError reports a `like` chain that comes back to where it started.
type likeLoopError struct {
	group int
	rules []rule
}

func (e likeLoopError) Error() string {
	r := e.rules[e.group]
	return fmt.Sprintf("expire like %q: the chain of like leaders loops back to group %s", r.like, groupName(r.label, e.group))
}

// logName is what logs and metrics call group i: its label, else its
// first cookie pattern (what a reader of the config recognises), else its
// position.
func logName(label string, patterns []string, i int) string {
	switch {
	case label != "":
		return label
	case len(patterns) > 0:
		return patterns[0]
	}
	return "#" + strconv.Itoa(i+1)
}

// groupName names a group in messages: its label, or its position.
func groupName(label string, i int) string {
	if label != "" {
		return strconv.Quote(label)
	}
	return "#" + strconv.Itoa(i+1)
}

// computeDepths fills in rule.depth and maxDepth, and returns the index of
// a group in a `like` loop, or -1: the first group of the loop that the
// search reached, not a group whose chain only leads into the loop. A
// group whose leader it matches itself is not a loop: the leader keeps its
// own expiry and the others follow it.
func (n *normalizer) computeDepths() int {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(n.rules))
	loop := -1
	var visit func(i int) bool
	visit = func(i int) bool {
		r := &n.rules[i]
		switch {
		case state[i] == done:
			return true
		case state[i] == visiting:
			loop = i // the chain came back to a group it holds
			return false
		case r.expiry != expireLike:
			r.depth, state[i] = 0, done
			return true
		}
		state[i] = visiting
		r.depth = 1
		if leader := n.matcher.match(r.like); leader >= 0 && leader != i {
			if !visit(leader) {
				return false
			}
			r.depth = n.rules[leader].depth + 1
		}
		state[i] = done
		n.maxDepth = max(n.maxDepth, r.depth)
		return true
	}
	for i := range n.rules {
		if !visit(i) {
			return loop
		}
	}
	return -1
}

// rewrite applies the expiry policies to the Set-Cookie field values in
// place and returns the slice. date is the response's Date header, the base
// time for Expires; obs, if not nil, is told about every matched value;
// state, if not nil, is filled in with what the response does to each
// member of a consistency group (read as the fields came, which is what
// the browser would make of them: a rewrite never turns a deletion into a
// cookie, nor a cookie into a deletion).
//
// A response whose cookies match no group costs a name scan and a map
// lookup per value and allocates nothing. The work is linear in the number
// of values: one pass per `like` depth (a constant of the config), and each
// leader is looked up once per pass, not once per follower.
func (n *normalizer) rewrite(values []string, date string, obs observer, state *memberStates) []string {
	return n.rewriteJoins(values, date, obs, state, nil, nil)
}

// rewriteJoins is rewrite, but for the fields the memo answers for, which
// it records in joins (if not nil) for the caller to build with
// joins.flush (see fieldJoins), and for the `like` followers it changes,
// which it records in follow (if not nil; see followerLog).
func (n *normalizer) rewriteJoins(values []string, date string, obs observer, state *memberStates, joins *fieldJoins, follow *followerLog) []string {
	if len(values) == 0 {
		return values
	}
	var p rewritePass
	p.start(n, values, date, obs, joins, follow)
	p.runAll(state)
	return values
}

// start sets p up for the passes over a response's fields. Field by
// field, on a zero p: a composite literal is built in a temporary and
// copied, which doubles the struct's room in the caller's frame, and
// rewriteResponseJoins runs on the deepest stack of a request (see
// fieldJoins).
func (p *rewritePass) start(n *normalizer, values []string, date string, obs observer, joins *fieldJoins, follow *followerLog) {
	p.n, p.values, p.date, p.obs, p.joins, p.follow = n, values, date, obs, joins, follow
	p.now = n.clock()
}

// runAll runs every pass: the groups without `like`, then each depth of
// `like` groups.
func (p *rewritePass) runAll(state *memberStates) {
	p.run(0, nil, state)
	if p.n.maxDepth > 0 {
		p.runLikes(state)
	}
}

// runLikes runs the passes of `like` groups, out of line (see runLike).
//
//go:noinline
func (p *rewritePass) runLikes(state *memberStates) {
	// The `like` passes read their leaders' fields as rewritten.
	p.joins.flush(p.values)
	p.joins = nil
	for depth := 1; depth <= p.n.maxDepth; depth++ {
		p.runLike(depth, state)
	}
}

// rewritePass is what the passes of one rewrite share. (The member
// states are passed apart: they live on the caller's stack, and a pointer
// in this struct would make them escape with whatever the observer
// keeps.)
type rewritePass struct {
	n        *normalizer
	values   []string
	date     string
	obs      observer
	now      clock
	base     int64
	haveBase bool
	joins    *fieldJoins // where the memo records fields; nil: join at once
	// follow records the `like` followers the passes change (nil: not
	// recorded; see followerLog).
	follow *followerLog
	// shadow is set once values is a copy of the response's fields that
	// a report_only rewrite writes into (see shadowWrite).
	shadow bool
	// changesOnly is set for a pass over fields the passes before have
	// told obs about: it is told only of what this pass changes.
	changesOnly bool
	// placing is set when a field passed unchanged under a group with a
	// path or domain policy (see placeDeletions).
	placing bool
}

// isStamp reports whether name is a slide group's stamp: the module's own
// cookie, which no group's pattern rewrites (a glob such as `*` would
// otherwise make a later pass over the response, or the next response
// that carries it, apply that group's policies to the stamp the module
// wrote). An exact name cannot claim it (a config error).
func (n *normalizer) isStamp(name string) bool {
	if n.consistency == nil || !n.consistency.slides {
		return false
	}
	_, ok := n.consistency.stamps.lookup(name)
	return ok
}

// shadowWrite records out as the rewrite of values[i] under report_only,
// in a copy of the fields made at the first such write, so that a `like`
// group reads its leader as the rewrite would have sent it while the
// response's own fields stay as they came. Only configs with `like`
// groups need it.
//
//go:noinline
func (p *rewritePass) shadowWrite(i int, out string) {
	if !p.shadow {
		p.values, p.shadow = slices.Clone(p.values), true
	}
	p.values[i] = out
}

// runLike runs the pass of depth, whose groups are `like` groups, with
// room for their leaders. Out of line, so that the array is not in the
// frame of the first pass, which every response runs at the deepest point
// of a request's stack.
//
//go:noinline
func (p *rewritePass) runLike(depth int, state *memberStates) {
	// A config rarely has more `like` groups than this array holds.
	var leaderBuf [4]leader
	p.run(depth, leaderBuf[:0], state)
}

// run rewrites the values matched by groups of depth and records what
// they do to consistency members in state (if not nil); leaders is the
// room for the leaders that pass finds (nil at depth 0, which has no
// `like` group).
func (p *rewritePass) run(depth int, leaders []leader, state *memberStates) {
	n, values := p.n, p.values
	for i, v := range values {
		name, ok := cookieName(v)
		if !ok || len(name) > maxNameValueLen {
			// Not a cookie, or one no browser stores (its name alone is
			// over the name-plus-value limit): it passes unchanged, and is
			// not even matched, which keeps a hostile name from costing a
			// regular expression's time over kilobytes.
			continue
		}
		g, member := n.matcher.matchMember(name)
		if g < 0 || n.rules[g].depth != depth || member < 0 && n.isStamp(name) || p.follow != nil && len(p.follow.keepers) > 0 && p.follow.keeper(v) {
			continue
		}
		if !p.haveBase {
			p.base, p.haveBase = n.responseTime(p.date, &p.now), true
		}
		r := &n.rules[g]
		var (
			out     string
			act     action
			skipped bool
			effect  memberState
		)
		if r.expiry == expireLike {
			out, act, skipped, effect = p.applyLike(g, r, v, name, i, &leaders)
		} else {
			out, act, skipped, effect = n.applyMemo(g, r, v, name, i, nil, p)
		}
		if act == actionPassedInvalid && n.rules[g].placed {
			p.placing = true
		}
		if !n.reportOnly {
			if depth > 0 && out != v && p.follow != nil {
				p.follow.note(i, v, out)
			}
			values[i] = out
		} else if n.maxDepth > 0 && out != v {
			p.shadowWrite(i, out)
		}
		if state != nil && member >= 0 && effect != untouched && (effect != memberRefused || state[member] == untouched) {
			// The last field of a name that browsers store is the state
			// the browser ends in, and one pass sees all fields of a
			// name, in order; a field Chromium and Firefox refuse
			// changes nothing (but is noted when no other field of the
			// member is there: see memberRefused).
			state[member] = effect
		}
		if p.obs != nil && (!p.changesOnly || act.changes()) {
			p.obs.observe(name, g, act)
			if skipped && !p.changesOnly {
				p.obs.observe(name, g, actionEditSkipped)
			}
		}
	}
}

// applyLike is applyMemo for a `like` group: it finds the group's
// leader first (in *leaders if this pass has already). Out of line, so
// that the leader takes no room in run's frame, which every response
// runs at the deepest point of a request's stack.
//
//go:noinline
func (p *rewritePass) applyLike(g int, r *rule, v, name string, self int, leaders *[]leader) (string, action, bool, memberState) {
	if p.changesOnly {
		// Run again over what the consistency rules appended (see
		// relead): a deletion takes no lifetime, and the first pass gave
		// the app's their attributes; the cascade's deletions where the
		// engines that keep a field the module passes unchanged store it
		// are at a place the policies do not give, and must stay there
		// (see keptPlaceDeletions).
		var f setCookie
		if f.scan(v, lifetimeKinds, 0) && !f.rejected && readExpiry(&f, p.base, &p.now).deletion {
			return v, actionUnchanged, false, untouched
		}
	}
	// Leaders sit in groups of lower depth (or in this very group, where
	// they are skipped), so no value this pass rewrites can change which
	// one leads.
	var l leader
	l, *leaders = findLeader(*leaders, g, r, p.n.matcher, p.values, p.base, &p.now)
	return p.n.applyMemo(g, r, v, name, self, &l, p)
}

// rewriteResponseJoins rewrites the Set-Cookie fields of a final response
// and appends the deletions the consistency rules call for; req is what
// the request says (nil when unknown). It returns the new fields, but for
// the fields the memo answers for, which it records in joins (if not nil)
// for the caller to build with joins.flush (see fieldJoins), and for the
// `like` followers it changes, which it records in follow (if not nil;
// see followerLog).
// (follow is not a field of req: the pass keeps it, and escape analysis,
// which does not tell one field from another, would then move everything
// req points to to the heap.)
func (n *normalizer) rewriteResponseJoins(values []string, date string, req *request, obs observer, joins *fieldJoins, follow *followerLog) []string {
	var p rewritePass
	p.start(n, values, date, obs, joins, follow)
	if n.consistency == nil {
		if len(values) > 0 {
			p.runAll(nil)
		}
		if p.placing {
			values = p.placeDeletions(values, nil, req)
		}
		return values
	}
	var state memberStates
	if len(values) > 0 {
		p.runAll(&state)
	} else if !n.consistency.partial || req == nil {
		return values
	}
	// Consistency reads the fields' lifetimes and slide's stamps against
	// the rewrite's base time and clock, even when no field matched;
	// without either, it needs no base time.
	if !p.haveBase && (len(values) > 0 || n.consistency.slides) {
		p.base, p.haveBase = n.responseTime(date, &p.now), true
	}
	if p.placing {
		values = p.placeDeletions(values, &state, req)
	}
	return p.releadAfter(len(values), n.consistency.apply(n, values, req, &state, p.base, &p.now, n.reportOnly, obs))
}

// releadAfter returns out: the response's had fields, then what the
// consistency rules appended to them. When they appended a field to a
// response that had some, and the config has `like` groups, it first
// runs the `like` passes again over out (see relead). Out of line:
// written in rewriteResponseJoins, the check grew that frame, on the
// deepest stack of every request.
//
//go:noinline
func (p *rewritePass) releadAfter(had int, out []string) []string {
	if len(out) > had && had > 0 && p.n.maxDepth > 0 {
		p.relead(out)
	}
	return out
}

// relead runs the `like` passes again over out, the response's fields
// and what the consistency rules appended to them. A field they append
// is the last of its name, the one the browser keeps: a `slide`
// re-issue of a leader gives its followers its lifetime, as a leader the
// app sent would (a deletion they append leads nothing, as any
// deletion). The followers were counted by the first pass; of this one
// only those it rewrites count, as rewritten.
//
//go:noinline
func (p *rewritePass) relead(out []string) {
	p.values, p.joins, p.changesOnly = out, nil, true
	p.runLikes(nil)
}

// leader is the cookie a `like` group copies its expiry from.
type leader struct {
	group  int    // the `like` group
	index  int    // index of the leader's value, or -1 if it leads nothing
	expiry expiry // the leader's expiry as sent
}

// findLeader returns the leader for group g, from leaders if this pass has
// looked it up already, else from the last value named exactly name: that
// is the state the browser ends in. If that last value is a deletion, is
// rejected by browsers (also for its attributes: SameSite=None,
// Partitioned or a __Secure- or __Host- name without Secure, a __Host-
// name without Path=/ or with a Domain, which Chromium and Firefox
// refuse), or is read differently by different engines, there is no
// leader (followers are left alone). r is group g's rule, and its leader
// r.like; a leader in g itself is read as g's policies send it (its field
// may come after the follower's, not rewritten yet); one in another
// group, of a lower depth, has been rewritten already.
func findLeader(leaders []leader, g int, r *rule, m *cookieMatcher, values []string, base int64, now *clock) (leader, []leader) {
	for _, l := range leaders {
		if l.group == g {
			return l, leaders
		}
	}
	name, policy := r.like, &attrPolicy{}
	if lg, _ := m.matchMember(name); lg == g {
		policy = &r.attrs
	}
	l := leader{group: g, index: -1}
	for i := len(values) - 1; i >= 0; i-- {
		if got, ok := cookieName(values[i]); !ok || got != name {
			continue
		}
		var f setCookie
		ok := f.scan(values[i], lifetimeKinds|attributeKinds, 0) && !f.rejected
		if ok && policy == &r.attrs && hasPrefixFold(name, prefixHost) {
			// A __Host- leader's place as its own group sends it (a
			// field passed unchanged is sent as it is): a path or domain
			// policy may give it the Path=/ and no Domain its prefix
			// needs.
			ok = f.scan(r.withPolicies(values[i]), lifetimeKinds|attributeKinds, 0)
		}
		// A flag with a value over 1024 bytes, as the leader is sent, is
		// read by Firefox and libsoup, not by Chromium: such a leader may
		// be stored by one and refused by the other (see longFlags), and
		// leads nothing.
		if ok && f.longFlags != 0 {
			ok = policy == &r.attrs && !sentWithLongFlag(r.withPolicies(values[i]))
		}
		if ok && storedWithPolicies(&f, policy, securePrefixed(name), false) && !hostPrefixRefused(&f, name) {
			if e := readExpiry(&f, base, now); !e.deletion && e.agreed {
				l.index, l.expiry = i, e
			}
		}
		break
	}
	return l, append(leaders, l)
}

// apply returns the value v (values[self]) after rule r; l is the leader
// for a `like` rule (nil for others), base the response's base time (Unix
// seconds), now the proxy's clock. skipped reports an attribute edit left
// out to keep a cookie name prefix valid; effect, for a rule with an
// expiry policy or consistency rules, what v does to its cookie in the
// browser: memberDeleted for a deletion, memberRefused for a field
// Chromium and Firefox refuse (they keep what they had; for its bytes,
// its length or, as sent, its attributes), else memberSet.
func apply(r *rule, v string, self int, l *leader, base int64, now *clock) (out string, act action, skipped bool, effect memberState) {
	var scratch setCookie
	f := &scratch
	if !f.scan(v, r.kinds, r.noted) {
		return v, actionPassedInvalid, false, untouched
	}
	if f.rejected {
		// Passed unchanged; but a log-out every engine reads as one is
		// still a deletion for the consistency rules (on_delete cascade).
		// Chromium and Firefox refuse a field with a control byte other
		// than HTAB (Chromium one inside a name or value too: see
		// rejectedEffect), or with a name plus value over 4096 bytes, and
		// keep the cookie they had; WebKitGTK stores it, cut short at the control byte
		// or whole. Either way a field the consistency rules append
		// after it decides in every engine, so it counts as setting
		// nothing (memberRefused), but for on_partial. A field over
		// maxValueLen, which every engine stores, was not read: it
		// counts as set, and nothing is appended on a guess.
		effect = memberSet
		switch {
		case f.refusedForBytes():
			effect = memberRefused
		case r.consistent && !f.refused:
			effect = rejectedEffect(f, base, now)
		}
		return v, actionPassedInvalid, false, effect
	}
	// What the policies append; attributes first, the lifetime last.
	appended := f.tailBuf[:0]
	if r.hasAttrs {
		appended, skipped = r.attrs.attrEdits(f, appended)
	}
	lifetimeSet, unsure, deletion, split := false, false, false, false
	if r.expiry != expireNone || r.consistent {
		e := readExpiry(f, base, now)
		deletion, unsure, split = e.deletion, e.unsure, e.split
		if seconds, ok := lifetimeFor(r, &e, self, l); ok && !deletion && !unsure {
			appended = setLifetime(f, &e, seconds, base, appended)
			lifetimeSet = true
		}
	}
	out = f.rebuild(appended, &r.attrs)
	if out != v && !lifetimeSet && dropLifetimeDuplicates(f, base, now) {
		out = f.rebuild(appended, &r.attrs)
	}
	effect = memberSet
	switch {
	case split, deletion && unsure && !now.dateUnread:
		// Some engine keeps it, or may: an engine whose reading is not
		// known (an Expires in a form it may not read, where RFC 6265bis
		// falls back on an earlier one in the past) may keep a session
		// cookie. A cascade deletes it in every engine. (Under a Date
		// the module cannot read, every Expires reading of Chromium and
		// Firefox is not known, but they count it from their own clock
		// then, as the deletion was read on the proxy's.)
		effect = memberDeletedSplit
	case deletion:
		effect = memberDeleted
	case r.consistent && f.scan(out, attributeKinds, 0) && refusedForAttrs(f, f.name):
		// Chromium and Firefox refuse it for its attributes as sent, and
		// WebKitGTK may store it (see webkitOnly): as a field with a
		// control byte, it sets nothing that every engine keeps.
		effect = memberRefused
	}
	switch {
	case out != v:
		return out, actionRewritten, skipped, effect
	case deletion && r.expiry != expireNone:
		return v, actionDeletionKept, skipped, effect
	case unsure && r.expiry != expireNone:
		// An engine's reading of the lifetime is not known: left alone.
		return v, actionPassedInvalid, skipped, effect
	}
	return v, actionUnchanged, skipped, effect
}

// rejectedEffect is what f, a field the scan rejected that browsers do
// not refuse for its bytes, does to a consistency member. One Chromium
// and Firefox refuse for its attributes sets nothing they keep, unless
// WebKitGTK reads it as a deletion (see refusedAsRead). Where every engine's reading
// is known (see unreadReadings): when some engine reads a deletion, an
// unread one (a cascade then deletes the member where the engines read
// the field's place apart, where those that keep it store it, and, when
// Chromium refuses it and keeps the member, where the others are
// deleted: see keptPlaceDeletions); else a set. Where some reading is not known: when
// libsoup 3.2 stops after its last Max-Age or Expires and some reading
// deletes, a split deletion (a cascade deletes the member at the field's
// place too), else a set. Out of line: its scratch space stays out of
// apply's frame, on the deepest stack of a request.
//
//go:noinline
func rejectedEffect(f *setCookie, base int64, now *clock) memberState {
	keeps, refuses, known := unreadReadings(f, base, now)
	// refusedAsRead reads WebKitGTK as libsoup 3.2 does: not where a later
	// release reads a deletion.
	if !(known && laterReleaseDeletes(keeps, refuses)) && refusedAsRead(f.v, f.name, base, now) {
		return memberRefused
	}
	if known {
		switch {
		case allEngines&^refuses == 0:
			// Every engine refuses it (libsoup for a Domain over 1024
			// bytes or its attributes, the others for its attributes):
			// it sets nothing. (A release that may refuse it or not,
			// in both keeps and refuses, leaves the readings known
			// only where another engine deletes it: see
			// unreadReadings.)
			return memberRefused
		case allEngines&^(keeps|refuses) == 0:
			return memberSet
		}
		return memberUnreadSplit
	}
	lastLifetime := -1
	for _, a := range f.attrs() {
		if a.kind == attrMaxAge || a.kind == attrExpires {
			lastLifetime = int(a.end)
		}
	}
	e := readExpiry(f, base, now)
	if refuses := refusingEngines(f); refuses != 0 && everyReading&^refuses&^(e.kept|e.unknown) == 0 {
		// Only the readings of engines that refuse the field delete:
		// no engine logs the member out.
		return memberSet
	}
	if lastLifetime >= 0 && f.stop >= lastLifetime && e.deletion {
		return memberDeletedSplit
	}
	return memberSet
}

// sentWithLongFlag reports whether v, a field as sent, has a flag with a
// value over 1024 bytes (see longFlags). Out of line: only such leaders
// get here.
//
//go:noinline
func sentWithLongFlag(v string) bool {
	var f setCookie
	return f.scan(v, 0, 0) && f.longFlags != 0
}

// refusedAsRead reports whether v, a field for name that the scan
// rejects but browsers do not refuse for its bytes, is one Chromium and
// Firefox refuse for its attributes as they read it (all of it) and that
// WebKitGTK may store, as webkitOnly reads it without a request (a
// __Host- field without Path counts as set at the root): their readings
// of its lifetime do not count, they keep what they had, so it deletes
// nothing every engine keeps (memberRefused). Out of line, for
// rejectedEffect's frame.
//
//go:noinline
func refusedAsRead(v, name string, base int64, now *clock) bool {
	var f setCookie
	_, stores, _ := webkitOnly(&f, v, name, nil, nil, base, now)
	return stores
}

// applyMemo is apply through the memo of group g (see tailMemo): a field
// whose attributes the group has rewritten before, at the same base time,
// costs a comparison, and the new field is recorded in the pass's joins
// (or built at once without them). The scan's scratch space lives in
// apply's frame, so that a field the memo answers for does not take its
// room on the stack: this runs at the deepest point of a request's stack,
// where Go would otherwise grow (copy) the stack of a goroutine that the
// garbage collector shrank.
func (n *normalizer) applyMemo(g int, r *rule, v, name string, self int, l *leader, pass *rewritePass) (out string, act action, skipped bool, effect memberState) {
	base, now := pass.base, &pass.now
	p, ok := memoSplit(r, v, name)
	if !ok || now.dateUnread {
		// A Date the module cannot read makes the field's reading depend
		// on more than its base time, which is all an entry is keyed by.
		return apply(r, v, self, l, base, now)
	}
	m := &n.memos[g]
	if e := m.lookup(v[p:], base); e != nil {
		// A report changes no field, but for a config with `like` groups
		// the rewrite goes to the pass's copy (see shadowWrite); a field
		// that deletes its cookie is joined at once (see fieldJoins).
		if e.out == e.tail || n.reportOnly && n.maxDepth == 0 || !n.reportOnly && !e.effect.deletes() && pass.joins.add(self, p, e.out) {
			return v, e.act, false, e.effect
		}
		return v[:p] + e.out, e.act, false, e.effect
	}
	now.used = false
	out, act, skipped, effect = apply(r, v, self, l, base, now)
	if !now.used && act != actionPassedInvalid && !skipped && len(out) >= p && out[:p] == v[:p] {
		m.store(v[p:], out[p:], base, act, effect)
	}
	return out, act, skipped, effect
}

// lifetimeFor returns the lifetime rule r gives a cookie whose expiry is e
// (0 for a session cookie), and false when the rule leaves its expiry as
// it is.
func lifetimeFor(r *rule, e *expiry, self int, l *leader) (int64, bool) {
	switch r.expiry {
	case expireSession:
		return 0, true
	case expireFixed:
		return r.seconds, true
	case expireMax:
		// Cap only when every reading gives a lifetime longer than the cap:
		// capping a field some engine keeps for the session, or for less
		// than the cap, would lengthen its life there.
		if e.anySession || e.shortest <= r.seconds {
			return 0, false
		}
		return r.seconds, true
	case expireLike:
		if l == nil || l.index < 0 || l.index == self {
			return 0, false
		}
		if l.expiry.session {
			return 0, true
		}
		return l.expiry.lifetime, true
	}
	return 0, false
}

// setLifetime marks every Max-Age and Expires attribute of f for removal
// and, if seconds > 0, appends the pair for that lifetime from base to
// appended.
func setLifetime(f *setCookie, e *expiry, seconds, base int64, appended []byte) []byte {
	if e.lifetimeAttrs > 0 {
		attrs := f.attrs()
		for i := range attrs {
			if a := &attrs[i]; a.kind == attrMaxAge || a.kind == attrExpires {
				a.drop = true
			}
		}
	}
	if seconds > 0 {
		appended = appendLifetime(appended, base, seconds)
	}
	return appended
}

// readsAcross reports whether any of values is a field that rules which
// read across the response's fields care about: a member of a
// consistency group, the leader or a follower of an `expire like` group
// (rewritten alone, a follower would find no leader), or a field of
// a group with a path or domain policy that the module passes unchanged,
// after which it may place a deletion (see placeDeletions). Rare work
// (see responseWriter.rewriteAdded).
func (n *normalizer) readsAcross(values []string) bool {
	for _, v := range values {
		name, ok := cookieName(v)
		if !ok {
			continue
		}
		if c := n.consistency; c != nil {
			if _, ok := c.member.lookup(name); ok {
				return true
			}
		}
		if g, _ := n.matcher.matchMember(name); g >= 0 {
			if n.rules[g].expiry == expireLike {
				return true // a follower: see its leader
			}
			var f setCookie
			if n.rules[g].placed && f.scan(v, 0, 0) && f.rejected {
				return true
			}
		}
		for i := range n.rules {
			if n.rules[i].expiry == expireLike && n.rules[i].like == name {
				return true
			}
		}
	}
	return false
}
