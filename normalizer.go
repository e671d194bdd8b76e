package cookienormalizer

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// This file is the pure rewrite: it knows Set-Cookie field values, patterns
// and expiry policies, and nothing of Caddy or net/http. A value is handled
// as a string of bytes, split on ';' exactly as browsers split it (RFC
// 6265bis §5.6), and rebuilt only when a policy changes it: the name=value
// pair and every attribute no policy touches keep their exact bytes.

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
	actionRewritten     action = iota // the value was changed
	actionUnchanged                   // the value already complied, or had no leader
	actionDeletionKept                // a deletion, which expiry policies never touch
	actionPassedInvalid               // not rewritable (control bytes, too long)
)

var actionNames = [...]string{
	actionRewritten:     "rewritten",
	actionUnchanged:     "unchanged",
	actionDeletionKept:  "deletion kept",
	actionPassedInvalid: "passed invalid",
}

func (a action) String() string { return actionNames[a] }

// observer is told about every matched Set-Cookie value. It receives the
// cookie name, never its value.
type observer interface {
	observe(name string, group int, act action)
}

// rule is one compiled group.
type rule struct {
	label    string
	patterns []string
	expiry   expiryKind
	seconds  int64  // for expireFixed and expireMax
	like     string // for expireLike: the leader's exact name

	// depth orders the passes: groups without `like` run first (0), a
	// `like` group runs one pass after the group of its leader, so that it
	// copies the leader's expiry as sent to the client.
	depth int
}

// maxValueLen bounds the Set-Cookie values we rewrite; browsers ignore
// longer cookies anyway (RFC 6265bis §5.6 step 4 limits name plus value to
// 4096 bytes), and a bound keeps the work per response linear and small.
const maxValueLen = 8 << 10

// normalizer rewrites Set-Cookie values according to its rules.
type normalizer struct {
	rules    []rule
	matcher  *cookieMatcher
	maxDepth int
	now      func() time.Time

	lastDate atomic.Pointer[parsedDate] // see responseTime
}

// newNormalizer compiles rules. It fails on an invalid pattern or a `like`
// chain that loops (a likeLoopError).
func newNormalizer(rules []rule) (*normalizer, error) {
	patterns := make([][]string, len(rules))
	for i, r := range rules {
		patterns[i] = r.patterns
	}
	m, err := newCookieMatcher(patterns)
	if pe, ok := err.(patternError); ok {
		return nil, fmt.Errorf("group %s: %v", groupName(rules[pe.group].label, pe.group), pe.err)
	}
	n := &normalizer{rules: rules, matcher: m, now: time.Now}
	if loop := n.computeDepths(); loop >= 0 {
		return nil, likeLoopError{group: loop, rules: rules}
	}
	return n, nil
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

// groupName names a group in messages: its label, or its position.
func groupName(label string, i int) string {
	if label != "" {
		return strconv.Quote(label)
	}
	return "#" + strconv.Itoa(i+1)
}

// computeDepths fills in rule.depth and maxDepth, and returns the index of
// a group in a `like` loop, or -1. A group whose leader it matches itself is
// not a loop: the leader keeps its own expiry and the others follow it.
func (n *normalizer) computeDepths() int {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(n.rules))
	var visit func(i int) bool
	visit = func(i int) bool {
		r := &n.rules[i]
		switch {
		case state[i] == done:
			return true
		case state[i] == visiting:
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
			return i
		}
	}
	return -1
}

// rewrite applies the expiry policies to the Set-Cookie field values in
// place. date is the response's Date header, the base time for Expires;
// obs, if not nil, is told about every matched value.
//
// A response whose cookies match no group costs a name scan and a map
// lookup per value and allocates nothing. The work is linear in the number
// of values: one pass per `like` depth (a constant of the config), and each
// leader is looked up once per pass, not once per follower.
func (n *normalizer) rewrite(values []string, date string, obs observer) {
	var (
		// The response's base time (computed on the first match only) and
		// the lifetime attributes it appends.
		tail lifetimeTail

		// The leaders found in this pass; a config rarely has more `like`
		// groups than this array holds, so it stays on the stack.
		leaderBuf [8]leader
	)
	for depth := 0; depth <= n.maxDepth; depth++ {
		leaders := leaderBuf[:0]
		for i, v := range values {
			name, ok := cookieName(v)
			if !ok {
				continue // not a cookie: passes unchanged
			}
			g := n.matcher.match(name)
			if g < 0 || n.rules[g].depth != depth {
				continue
			}
			if tail.base.IsZero() {
				tail.base = n.responseTime(date)
			}
			r := &n.rules[g]
			var l leader
			if r.expiry == expireLike {
				// Leaders sit in groups of lower depth (or in this very
				// group, where they are skipped), so no value this pass
				// rewrites can change which one leads.
				l, leaders = findLeader(leaders, g, r.like, values, tail.base)
			}
			out, act := apply(r, v, i, l, &tail)
			values[i] = out
			if obs != nil {
				obs.observe(name, g, act)
			}
		}
	}
}

// leader is the cookie a `like` group copies its expiry from.
type leader struct {
	group  int    // the `like` group
	index  int    // index of the leader's value, or -1 if there is none
	expiry expiry // the leader's expiry as sent
}

// findLeader returns the leader for group g, from leaders if this pass has
// looked it up already, else by finding the last non-deletion value named
// exactly name, and adds it to leaders.
func findLeader(leaders []leader, g int, name string, values []string, base time.Time) (leader, []leader) {
	for _, l := range leaders {
		if l.group == g {
			return l, leaders
		}
	}
	l := leader{group: g, index: -1}
	for i := len(values) - 1; i >= 0; i-- {
		if got, ok := cookieName(values[i]); ok && got == name {
			// A leader the browser would reject does not lead.
			if e, ok := parseRewritable(values[i], base); ok && !e.deletion() {
				l.index, l.expiry = i, e
				break
			}
		}
	}
	return l, append(leaders, l)
}

// apply returns the value v (values[self]) after rule r; l is the leader
// for a `like` rule, tail the response's base time and appended bytes.
func apply(r *rule, v string, self int, l leader, tail *lifetimeTail) (string, action) {
	e, ok := parseRewritable(v, tail.base)
	if !ok {
		return v, actionPassedInvalid
	}
	if e.deletion() {
		return v, actionDeletionKept
	}
	switch r.expiry {
	case expireSession:
		return rebuild(v, &e, 0, tail)
	case expireFixed:
		return rebuild(v, &e, r.seconds, tail)
	case expireMax:
		if e.session || e.lifetime <= r.seconds {
			return v, actionUnchanged
		}
		return rebuild(v, &e, r.seconds, tail)
	case expireLike:
		if l.index < 0 || l.index == self {
			return v, actionUnchanged
		}
		if l.expiry.session {
			return rebuild(v, &e, 0, tail)
		}
		return rebuild(v, &e, l.expiry.lifetime, tail)
	}
	return v, actionUnchanged
}

// cookieName returns the trimmed name of a Set-Cookie value, and false when
// the value is not a cookie: no '=' before the first ';', or an empty name.
// (RFC 6265bis accepts nameless cookies; we leave them alone, since no
// pattern can name them.)
func cookieName(v string) (string, bool) {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '=':
			name := trimSpace(v[:i])
			return name, name != ""
		case ';':
			return "", false
		}
	}
	return "", false
}

// isControl reports whether c is a control byte other than HTAB; browsers
// reject cookies holding one (RFC 6265bis §5.6 step 1), so we pass such
// values through rather than guess.
func isControl(c byte) bool {
	return (c < 0x20 && c != '\t') || c == 0x7f
}

// expiry is what a Set-Cookie value says about its lifetime, following RFC
// 6265bis §5.6.1 and §5.6.2: the last valid Max-Age wins over the last valid
// Expires; neither makes a session cookie. It also records where the
// Max-Age and Expires attributes stand, so that rebuild need not look for
// them again.
type expiry struct {
	invalid  bool  // the value holds a control byte (see isControl)
	session  bool  // no valid Max-Age or Expires
	lifetime int64 // seconds from the base time, when !session

	// n counts the Max-Age and Expires attributes, valid or not; spans
	// holds the first len(spans) of them as [start, end) byte ranges that
	// include their leading ';'.
	n     int
	spans [4][2]int
}

// parseRewritable parses v with parseExpiry, unless a browser would reject
// the cookie: longer than maxValueLen, or holding a control byte. Then ok
// is false, and v passes unchanged and leads no `like` group.
func parseRewritable(v string, base time.Time) (e expiry, ok bool) {
	if len(v) > maxValueLen {
		return expiry{}, false // not even scanned: the work stays bounded
	}
	e = parseExpiry(v, base)
	return e, !e.invalid
}

// deletion reports whether the cookie removes itself: lifetime ≤ 0.
func (e expiry) deletion() bool { return !e.session && e.lifetime <= 0 }

// maxLifetime saturates parsed lifetimes (about 34,000 years) so that
// arithmetic on them cannot overflow; browsers cap at 400 days anyway.
const maxLifetime = 1 << 40

func parseExpiry(v string, base time.Time) expiry {
	var (
		e          expiry
		maxAge     int64
		hasMaxAge  bool
		expires    time.Time
		hasExpires bool
	)
	// Each byte is read once: the name=value pair here, the attributes in
	// nextAttribute, looking for control bytes on the way.
	pos := 0
	for ; pos < len(v) && v[pos] != ';'; pos++ {
		if isControl(v[pos]) {
			e.invalid = true
		}
	}
	for pos < len(v) {
		start, end, name, val, ctl := nextAttribute(v, pos)
		pos = end
		e.invalid = e.invalid || ctl
		switch {
		case isAttr(name, "max-age"):
			if n, ok := parseMaxAge(val); ok {
				maxAge, hasMaxAge = n, true
			}
		case isAttr(name, "expires"):
			if t, ok := parseCookieDate(val); ok {
				expires, hasExpires = t, true
			}
		default:
			continue
		}
		if e.n < len(e.spans) {
			e.spans[e.n] = [2]int{start, end}
		}
		e.n++
	}
	switch {
	case hasMaxAge:
		e.lifetime = maxAge
	case hasExpires:
		e.lifetime = expires.Unix() - base.Unix() // both within years 1601–9999
	default:
		e.session = true
	}
	return e
}

// parseMaxAge accepts an optional '-' followed by one or more digits (RFC
// 6265bis §5.6.2); anything else makes the attribute ignored.
func parseMaxAge(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxLifetime {
			n = n*10 + int64(c-'0')
		}
	}
	n = min(n, maxLifetime)
	if neg {
		n = -n
	}
	return n, true
}

// attrStart returns the index of the ';' that starts the attributes, or
// len(v).
func attrStart(v string) int {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		return i
	}
	return len(v)
}

// nextAttribute parses the attribute starting at the ';' at v[pos]. The
// segment v[pos:end] includes that ';', so dropping it removes the
// separator too. name and val are trimmed of spaces and tabs; ctl reports a
// control byte in the segment.
func nextAttribute(v string, pos int) (start, end int, name, val string, ctl bool) {
	// One loop for all three: attributes are short, and strings.IndexByte
	// costs more in setup than it saves.
	eq := -1
	end = len(v)
	for i := pos + 1; i < len(v); i++ {
		c := v[i]
		if c == ';' {
			end = i
			break
		}
		if c == '=' && eq < 0 {
			eq = i
		} else if isControl(c) {
			ctl = true
		}
	}
	if eq >= 0 {
		return pos, end, trimSpace(v[pos+1 : eq]), trimSpace(v[eq+1 : end]), ctl
	}
	return pos, end, trimSpace(v[pos+1 : end]), "", ctl
}

// trimSpace trims spaces and tabs. A loop, not strings.Trim with a cutset,
// which builds its set on every call.
func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isAttr reports whether the attribute name equals want, a lower-case
// ASCII name, ignoring case. The length check first makes the common
// mismatch (Path, Secure, SameSite) cost one comparison.
func isAttr(name, want string) bool {
	return len(name) == len(want) && strings.EqualFold(name, want)
}

// latestExpires is the last instant a four-digit year can write.
var latestExpires = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// rebuild returns v without its Max-Age and Expires attributes (e, from
// parseExpiry(v)) and, if seconds > 0, with "; Max-Age=<seconds>;
// Expires=<base+seconds>" appended: both, because old clients ignore
// Max-Age. When the result equals v, v itself is returned and nothing is
// allocated.
func rebuild(v string, e *expiry, seconds int64, tail *lifetimeTail) (string, action) {
	if e.n == 0 && seconds <= 0 {
		return v, actionUnchanged
	}
	// Most cookies fit in this stack buffer; the only allocation is the
	// final string, and only when it differs from v.
	var stack [256]byte
	buf := stack[:0]
	if e.n <= len(e.spans) {
		// Copy what lies between the recorded attributes.
		from := 0
		for _, sp := range e.spans[:e.n] {
			buf = append(buf, v[from:sp[0]]...)
			from = sp[1]
		}
		buf = append(buf, v[from:]...)
	} else {
		// More than len(e.spans) of them: find them again.
		buf = append(buf, v[:attrStart(v)]...)
		for pos := attrStart(v); pos < len(v); {
			start, end, name, _, _ := nextAttribute(v, pos)
			pos = end
			if !isAttr(name, "max-age") && !isAttr(name, "expires") {
				buf = append(buf, v[start:end]...)
			}
		}
	}
	if seconds > 0 {
		// Drop trailing whitespace and empty attributes ("a=1; Path=/;"),
		// so that the appended pair follows one "; " and a second rewrite
		// finds exactly what the first one wrote (idempotence).
		for len(buf) > 0 && (buf[len(buf)-1] == ' ' || buf[len(buf)-1] == '\t' || buf[len(buf)-1] == ';') {
			buf = buf[:len(buf)-1]
		}
		buf = append(buf, tail.bytes(seconds)...)
	}
	if string(buf) == v {
		return v, actionUnchanged
	}
	return string(buf), actionRewritten
}

// lifetimeTail holds a response's base time and caches the
// "; Max-Age=<seconds>; Expires=<date>" its rewrites append: every cookie
// of a group with a fixed lifetime gets the same bytes, formatted once.
type lifetimeTail struct {
	base    time.Time
	seconds int64 // what buf[:n] was formatted for; n == 0: nothing yet
	n       int
	buf     [72]byte // "; Max-Age=" + 13 digits + "; Expires=" + 29 bytes fit
}

func (t *lifetimeTail) bytes(seconds int64) []byte {
	if t.n == 0 || t.seconds != seconds {
		b := append(t.buf[:0], "; Max-Age="...)
		b = strconv.AppendInt(b, seconds, 10)
		b = append(b, "; Expires="...)
		// Unix seconds cannot overflow here (seconds ≤ maxLifetime), while a
		// time.Duration would beyond 292 years.
		b = appendIMFFixdate(b, min(t.base.Unix()+seconds, latestExpires.Unix()))
		t.seconds, t.n = seconds, len(b)
	}
	return t.buf[:t.n]
}

// obsoleteHTTPDateLayouts are the two obsolete formats a Date header may
// still use (RFC 9110 §5.6.7); IMF-fixdate has its own fast parser.
var obsoleteHTTPDateLayouts = [...]string{
	"Monday, 02-Jan-06 15:04:05 GMT",
	"Mon Jan _2 15:04:05 2006",
}

// parseHTTPDate parses a Date header in any of the HTTP date formats, as
// net/http.ParseTime does.
func parseHTTPDate(date string) (time.Time, bool) {
	if t, ok := parseIMFFixdate(date); ok {
		return t, true
	}
	if date != "" {
		for _, layout := range obsoleteHTTPDateLayouts {
			if t, err := time.Parse(layout, date); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// parsedDate is a Date header and the instant it names.
type parsedDate struct {
	date string
	at   time.Time
}

// responseTime is the instant Max-Age counts from: the response's Date
// header if it parses as an HTTP date, else the proxy's clock, in whole
// seconds. It keeps a one-entry cache: a server sends the same Date for a
// whole second, and parsing it was a tenth of the cost of a rewrite (see
// BENCHMARKS.md). The cache allocates once per new Date.
func (n *normalizer) responseTime(date string) time.Time {
	if c := n.lastDate.Load(); c != nil && c.date == date {
		return c.at
	}
	at, ok := parseHTTPDate(date)
	if !ok {
		return n.now().UTC().Truncate(time.Second)
	}
	n.lastDate.Store(&parsedDate{date: strings.Clone(date), at: at})
	return at
}
