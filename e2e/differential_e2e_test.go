package e2e

// TestRandomDifferential sends random, odd Set-Cookie fields to every
// browser engine twice, once through Caddy's reverse_proxy alone (raw) and
// once through cookie_normalizer, and compares the two jars case by case.
// The fields come from a grammar of the forms engines read differently
// (RFC 6265bis §5.6 and §5.7, and where Chromium, Firefox and libsoup
// depart from it); each case is one field for a cookie of its own, so a
// case's two jar entries can be told apart from every other case's. The
// upstream's Date header changes from batch to batch (right, 8 hours slow
// or fast, none): RFC 6265bis §5.6.1 reads an Expires as an absolute
// date, but Chromium and Firefox shift it by the difference between the
// response's Date and their own clock, and libsoup does not.
//
// The invariants, per engine and case:
//
//   - (a) No resurrection: a field the engine does not store raw is not
//     stored through the module either. The engine read it as a deletion
//     (a Max-Age ≤ 0 or an Expires not in the future gives an expiry in
//     the past, RFC 6265bis §5.6.1 and §5.6.2, and the storage model of
//     §5.7 then removes the cookie), or refused it (SameSite=None without
//     Secure, §5.7). A log-out through the module must keep working in
//     every engine, whatever that engine's parser makes of the field.
//   - (b) max never lengthens: under expire max D, the module's cookie
//     never outlives the raw one in that engine; a raw session cookie stays
//     a session cookie and a raw persistent one stays persistent; and a
//     field the module rewrote expires D after its arrival. A field it left
//     unchanged may outlive D in some engine: then the engines disagree on
//     it and the module does not guess (the two jars must agree, see c).
//   - (c) the policy's lifetime: where the engine stores the field raw, it
//     stores the module's field too, under expire session as a session
//     cookie and under expire <d> expiring d after its arrival, unless the
//     module left the field byte for byte as it was; then the two jars hold
//     the same cookie (session or not, the same expiry give or take the
//     time between the two requests).
//   - (d) Only the lifetime changes: the value, the scope (domain, path,
//     host-only) and the Secure, HttpOnly and SameSite flags are the same
//     in both jars.
//
// A cookie the engine lists with an expiry within diffExpiringSoon of the
// read counts as not stored: Firefox, reporting whole seconds, may list a
// Max-Age=0 cookie until its second ends. The generator never sends a
// lifetime that short (no positive Max-Age or future Expires under a
// minute in any engine's reading), nor an Expires within minutes of the
// max policies' limits, so that the module's decision does not depend on
// when the field is fetched.
//
// The fields' paths are prefixes of the route's, or fall back on its
// default path: WebDriver lists only the cookies the current page
// receives in WebKit. A Path over 1024 bytes, which Chromium and Firefox
// ignore and libsoup does not, hides the cookie from WebKit's list both
// raw and through the module, so such cases are vacuous in WebKit.
//
// After the checks the test logs the cases every engine stores alike with
// a lifetime other than their group's policy, which the module left
// unchanged: date forms and fields it does not model, where it keeps to
// "when unsure, leave the field alone". That list is information, not a
// failure.
//
// The seed is fixed (DIFF_SEED overrides it, DIFF_CASES the number of
// cases per engine) and printed with every failure.
//
//	DIFF_SEED=7 go test -run TestRandomDifferential -v ./e2e/

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// diffDefaultSeed and diffDefaultCases are what a plain run uses.
const (
	diffDefaultSeed  = 1
	diffDefaultCases = 240
)

// diffBatch is how many cases one response carries. Every batch gets an
// empty jar holding at most 2×diffBatch cookies, under the 180 per host
// that Chromium and Firefox keep before evicting.
const diffBatch = 48

// diffExpiringSoon: see the file comment.
const diffExpiringSoon = 5 * time.Second

// diffPolicyKind is the expiry policy of a group.
type diffPolicyKind int

const (
	diffSession diffPolicyKind = iota
	diffFixed
	diffMax
	diffKeep // no expiry policy: the lifetime is the field's own
	diffLike // expire like <leader>
)

// diffAttrs are a group's attribute policies, and the flags and path they
// give a cookie the module rewrites.
type diffAttrs struct {
	lines            []string // the policy lines
	secure, httpOnly bool     // turned on
	sameSite         string   // set, as the drivers report it ("Lax")
	path             string   // set
}

// diffGroup is one group of the module's config: its cookies are named
// prefix_N, some behind a __Host- or __Secure- name prefix.
type diffGroup struct {
	prefix string
	kind   diffPolicyKind
	d      time.Duration // lifetime of expire <d> and expire max <d>
	expire string        // the expiry policy line, if any
	attrs  *diffAttrs    // the attribute policies, if any
	leader string        // the leader of expire like
	// prefixed: cases also get a __Host- or __Secure- name now and then
	// (as in the attribute groups).
	prefixed bool
}

// policy describes the group's config in one line, for reports.
func (g *diffGroup) policy() string {
	var lines []string
	if g.expire != "" {
		lines = append(lines, g.expire)
	}
	if g.attrs != nil {
		lines = append(lines, g.attrs.lines...)
	}
	return strings.Join(lines, ", ")
}

// diffLockDown is the attribute policy of the att_ and atk_ groups.
var diffLockDown = &diffAttrs{
	lines:  []string{"secure on", "httponly on", "samesite lax"},
	secure: true, httpOnly: true, sameSite: "Lax",
}

// diffLeaders is the number of expire like groups (fl0_ follows ldr0, and
// so on): like takes one exact leader name, so each batch sends every
// leader once, drawn like any case, and its followers are the cases of
// its group.
const diffLeaders = 6

// diffGroups: the expiry groups, the attribute groups (whose cases also
// get a __Host- or __Secure- name now and then), then the like groups.
var diffGroups = append([]diffGroup{
	{prefix: "max", kind: diffMax, d: time.Hour, expire: "expire max 1h"},
	{prefix: "cap", kind: diffMax, d: 30 * time.Second, expire: "expire max 30s"},
	{prefix: "ses", kind: diffSession, expire: "expire session"},
	{prefix: "fix", kind: diffFixed, d: 2 * time.Hour, expire: "expire 2h"},
	{prefix: "att", kind: diffFixed, d: 2 * time.Hour, expire: "expire 2h", attrs: diffLockDown},
	{prefix: "atk", kind: diffKeep, attrs: diffLockDown},
	// A prefix of the route's path, so the page receives the cookie.
	{prefix: "pth", kind: diffKeep, attrs: &diffAttrs{lines: []string{"path /rd"}, path: "/rd"}},
}, diffLikeGroups()...)

// diffPlainGroups is the number of groups before the like groups.
const diffPlainGroups = 7

func diffLikeGroups() []diffGroup {
	gs := make([]diffGroup, diffLeaders)
	for k := range gs {
		leader := "ldr" + strconv.Itoa(k)
		gs[k] = diffGroup{prefix: "fl" + strconv.Itoa(k), kind: diffLike, leader: leader, expire: "expire like " + leader}
	}
	return gs
}

// diffNamePrefixes are the name prefixes of RFC 6265bis §4.1.3 the
// attribute groups' cases draw, in the spellings their patterns list:
// Chromium compares them without regard to case, and so does the module.
var diffNamePrefixes = []string{"__Host-", "__Secure-", "__host-", "__SECURE-"}

// diffRawPrefix marks the names of the raw route's cookies, so that both
// routes' cookies of a batch share one jar. It goes after a __Host- or
// __Secure- prefix, which the name keeps.
const diffRawPrefix = "raw_"

// diffPriorValue is the value of the prior cookies: see runDiffBatch.
const diffPriorValue = "old"

// diffDirectives is the module's config: one group per prefix, applied to
// the requests of the module route (?via=mod).
func diffDirectives() string {
	var b strings.Builder
	b.WriteString("\t@mod query via=mod\n\tcookie_normalizer @mod {\n")
	for _, g := range diffGroups {
		patterns := g.prefix + "_*"
		if g.attrs != nil {
			for _, np := range diffNamePrefixes {
				patterns += " " + np + g.prefix + "_*"
			}
		}
		fmt.Fprintf(&b, "\t\tgroup %s {\n\t\t\tcookies %s\n", g.prefix, patterns)
		if g.expire != "" {
			fmt.Fprintf(&b, "\t\t\t%s\n", g.expire)
		}
		if g.attrs != nil {
			for _, l := range g.attrs.lines {
				fmt.Fprintf(&b, "\t\t\t%s\n", l)
			}
		}
		b.WriteString("\t\t}\n")
	}
	b.WriteString("\t}\n")
	return b.String()
}

// diffCase is one random field.
type diffCase struct {
	index int
	group *diffGroup // nil for a leader
	// namePrefix is a __Host- or __Secure- prefix, or "".
	namePrefix string
	name       string // prefix_index (ldrK for a leader)
	// trail is whitespace between the name and '=', which RFC 6265bis
	// §5.6 trims (whitespace before the name is the field's own, which
	// HTTP trims on the way).
	trail string
	value string
	attrs string // everything after the value, separators included
	// priorAttrs are attrs without their Max-Age and Expires: the prior
	// cookie of an attribute group's case (see runDiffBatch) has the
	// case's scope and flags.
	priorAttrs string
	longPath   bool // a Path over 1024 bytes
}

// cookie is the case's cookie name, marked with the raw route's marker
// after its name prefix when raw is set.
func (c diffCase) cookie(raw bool) string {
	if raw {
		return c.namePrefix + diffRawPrefix + c.name
	}
	return c.namePrefix + c.name
}

// field is the case's Set-Cookie field, raw or for the module route.
func (c diffCase) field(raw bool) string {
	return c.cookie(raw) + c.trail + "=" + c.value + c.attrs
}

// prior is the field that sets the case's cookie before the case: the
// case's scope and flags, a lifetime of an hour.
func (c diffCase) prior(raw bool) string {
	return c.cookie(raw) + c.trail + "=" + diffPriorValue + c.priorAttrs + "; Max-Age=3600"
}

// hasPrior reports whether the case's cookie is set before the case: in
// the attribute groups, whose deletions must delete what the module set.
func (c diffCase) hasPrior() bool { return c.group != nil && c.group.attrs != nil }

// diffGen draws fields. now is the upstream's clock when the cases are
// made; the Expires values are fixed then, so the raw and the module route
// send the same bytes.
type diffGen struct {
	r   *rand.Rand
	now time.Time
	// valueTabs: some values get a tab inside, which Chromium refuses,
	// Firefox reads whole and libsoup up to the tab, storing the cookie
	// at the default path whatever Path follows. Only for the cascade
	// differential: the randomized differential compares one cookie per
	// name and engine, and WebKitGTK would then hold two.
	valueTabs bool
}

func (g *diffGen) pick(choices ...string) string { return choices[g.r.Intn(len(choices))] }

func (g *diffGen) chance(percent int) bool { return g.r.Intn(100) < percent }

// attrName spells an attribute name in a random case, as RFC 6265bis
// §5.6 compares them case-insensitively.
func (g *diffGen) attrName(name string) string {
	switch g.r.Intn(6) {
	case 0:
		return strings.ToLower(name)
	case 1:
		return strings.ToUpper(name)
	case 2:
		b := []byte(name)
		for i := range b {
			if isLetter(b[i]) && g.chance(50) {
				b[i] ^= 0x20 // the other case
			}
		}
		return string(b)
	}
	return name
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// attr writes name=value with the odd spacing RFC 6265bis §5.6 trims.
func (g *diffGen) attr(name, value string) string {
	eq := "="
	switch g.r.Intn(10) {
	case 0:
		eq = " = "
	case 1:
		eq = "= "
	}
	return g.attrName(name) + eq + value
}

// Max-Age values. Positive ones are at least a minute in every engine's
// reading, libsoup's cut to a C int included (2^32+60 is 60 s there).
var (
	maxAge1024   = strings.Repeat("0", 1020) + "3600" // 1024 bytes: read
	maxAge1100   = strings.Repeat("0", 1096) + "3600" // over 1024: ignored
	diffPadValue = strings.Repeat("a", 1100)
	// A Domain over 1024 bytes, which matches no host.
	diffPadDomain = strings.Repeat("a", 1092) + ".example"
	// Whitespace, which RFC 6265bis §5.6 trims from a value before its
	// length counts, around a short value.
	diffPadSpaces = strings.Repeat(" ", 1100)
)

func (g *diffGen) maxAgeValue() string {
	switch g.r.Intn(4) {
	case 0: // plain lifetimes, on both sides of the groups' limits
		return g.pick("60", "120", "600", "1800", "3599", "3600", "3601", "7200", "86400", "31536000", "999999999", "0003600")
	case 1: // deletions
		return g.pick("0", "-1", "-0", "00", "-3600", "000", "-99999999999999999999")
	case 2: // signs, spaces, exponents, junk
		if g.valueTabs && g.chance(10) {
			// A byte over 0x7f, where libsoup stops: "" (0, a deletion
			// there) or 3600; or a tab after a 0, where libsoup 3.2
			// stops. Only for the cascade differential: beside an
			// Expires the module's readings do not know, or a later
			// Max-Age that Chromium keeps at a place the module does
			// not read (an empty Path), under a path policy, no
			// deletion is placed after such a log-out, and the field
			// sets its cookie at its own place beside the one the
			// policy moved (docs/edge-cases.md, deletions under a path
			// policy), which the other differential would report.
			return g.pick("\u00e9", "3600\u00e9", "0\t")
		}
		return g.pick("+0", "+00", "+3600", "+60", "1e3", "36e2", "0x10", "abc", "", "-abc", "0abc", "3600abc",
			" 3600", "3600 ", "36 00", "3600.5", "- 1", "+-1")
	}
	// sizes: C int and int64 limits, and the 1024-byte limit of §5.6
	return g.pick("4294967296", "4294967356", "4294967295", "2147483647", "2147483648", "10000000000",
		"99999999999999999999", "99999999999999999999x", "9223372036854775807", "9223372036854775808", "000000000000003600",
		zeros1025, maxAge1024, maxAge1100, diffPadSpaces+"0", "0"+diffPadSpaces, diffPadSpaces+"3600", "7200"+diffPadSpaces)
}

// expiresValue is an Expires value: a date in one of many forms, or junk.
// Dates are offsets from now that stay clear of the max groups' limits
// (30 s, 1 h) by minutes, and of now by a minute.
func (g *diffGen) expiresValue() string {
	if g.chance(20) {
		return g.pick("garbage", "", "0", "-1",
			"Thu, 01 Jan 1970 00:00:00 GMT",
			"Thu, 01-Jan-70 00:00:01 GMT",
			"Sat, 01-Jan-50 00:00:00 GMT",
			"Thu, 31 Dec 2099 23:59:59 GMT",
			"Sat, 01 Jan 1600 00:00:00 GMT",
			"Tue, 24 Nov 5 12:00:00 GMT",
			"Tue, 24 Nov 126 12:00:00 GMT",
			"Nov 05abc 2099 12:00:00 07",
			"Wed, 09-Jun-2021 10:18:14 GMT",
			diffPadSpaces+"Thu, 01 Jan 1970 00:00:00 GMT",
			"Thu, 31 Dec 2099 23:59:59 GMT"+diffPadSpaces)
	}
	offsets := []time.Duration{
		-400 * 24 * time.Hour, -time.Hour, -10 * time.Minute, -2 * time.Minute,
		5 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 25 * time.Hour,
		30 * 24 * time.Hour, 500 * 24 * time.Hour,
	}
	t := g.now.Add(offsets[g.r.Intn(len(offsets))]).UTC()
	switch g.r.Intn(17) {
	case 0:
		return t.Format("Monday, 02-Jan-2006 15:04:05 GMT")
	case 11:
		return t.Format("Mon, 02-Jan-2006 15:04:05 GMT") // dashed, four-digit year
	case 12: // a wrong weekday, which RFC 6265bis §5.1.1 skips as a token
		return t.Add(24*time.Hour).Format("Mon") + t.Format(", 02 Jan 2006 15:04:05 GMT")
	case 13:
		return t.Format("Mon, 02 Jan 2006 15:04:05 GMT") + g.pick(";", ",", " ")
	case 1:
		return t.Format("Mon, 02-Jan-06 15:04:05 GMT") // two-digit year
	case 2:
		return t.Format("Mon Jan _2 15:04:05 2006") // asctime
	case 3:
		return t.Format("02 Jan 2006 15:04:05 GMT") // no weekday
	case 4: // the digits of UTC under another zone
		return t.Format("Mon, 02 Jan 2006 15:04:05 ") + g.pick("+0000", "-0000", "UTC", "Z", "+1200", "-0800", "PST", "GMT+2")
	case 5:
		return t.Format("Mon, 02 Jan 2006 15:04:05") // no zone
	case 6:
		return strings.ToLower(t.Format(http.TimeFormat))
	case 7:
		return t.Format("Mon, 02 Jan 2006 15:04 GMT") // no seconds
	case 8:
		return t.Format("Mon, 02 Jan 2006 GMT") // no time
	case 9:
		return t.Format("Mon, 2 Jan 2006 3:4:5 GMT") // one-digit fields
	case 10:
		return t.Format(http.TimeFormat) + " junk"
	}
	return t.Format(http.TimeFormat)
}

// lifetimeAttr is a Max-Age or an Expires, now and then without a value.
func (g *diffGen) lifetimeAttr() string {
	if g.chance(50) {
		if g.chance(4) {
			return g.attrName("Max-Age")
		}
		return g.attr("Max-Age", g.maxAgeValue())
	}
	if g.chance(3) {
		return g.attrName("Expires")
	}
	return g.attr("Expires", g.expiresValue())
}

// diffPaths are prefixes of the routes' path, /rd/x/set, or values that
// fall back on its default path /rd/x (RFC 6265bis §5.6.4): WebDriver lists
// only the cookies the current page would receive in WebKit.
var diffPaths = []string{"/", "/rd", "/rd/", "/rd/x", "/rd/x/", "/rd/x/set", "", "rel"}

// drawGroup draws a case's group: the like groups share two slots of
// nine, so each leader leads a few followers per batch.
func (g *diffGen) drawGroup() *diffGroup {
	if slot := g.r.Intn(diffPlainGroups + 2); slot < diffPlainGroups {
		return &diffGroups[slot]
	}
	return &diffGroups[diffPlainGroups+g.r.Intn(diffLeaders)]
}

// next draws case index i of group grp; a nil grp draws leader i, which
// never gets a Path over 1024 bytes (WebKit's list would not show it).
func (g *diffGen) next(i int, grp *diffGroup) diffCase {
	c := diffCase{index: i, group: grp}
	if grp == nil {
		c.name = "ldr" + strconv.Itoa(i)
	} else {
		c.name = grp.prefix + "_" + strconv.Itoa(i)
		if (grp.attrs != nil || grp.prefixed) && g.chance(30) {
			c.namePrefix = g.pick(diffNamePrefixes...)
		}
	}
	if g.chance(10) {
		c.trail = g.pick(" ", "  ")
	}
	c.value = g.pick("v"+strconv.Itoa(i), `"q;`+strconv.Itoa(i)+`"`, `"q `+strconv.Itoa(i)+`"`, "a,b"+strconv.Itoa(i), "", "x="+strconv.Itoa(i), "%20"+strconv.Itoa(i))
	if g.valueTabs && g.chance(4) {
		// A tab inside the value (see valueTabs).
		c.value = "t\tv" + strconv.Itoa(i)
	}

	type part struct {
		text     string
		lifetime bool
	}
	var parts []part
	n := []int{0, 1, 1, 1, 2, 2, 2, 3, 3, 4}[g.r.Intn(10)]
	for range n {
		parts = append(parts, part{g.lifetimeAttr(), true})
	}
	add := func(text string) { parts = append(parts, part{text: text}) }
	if g.chance(60) {
		// A __Host- name wants Path=/ (RFC 6265bis §4.1.3.2): draw it
		// often enough that such cookies are stored at all.
		if c.namePrefix != "" && g.chance(50) {
			add(g.attr("Path", "/"))
		} else {
			add(g.attr("Path", g.pick(diffPaths...)))
		}
		if g.chance(10) {
			add(g.attr("Path", g.pick(diffPaths...)))
		}
	}
	if grp != nil && g.chance(3) {
		add(g.attr("Path", "/"+diffPadValue))
		c.longPath = true
	}
	if g.chance(25) {
		add(g.attr("Domain", g.pick("127.0.0.1", ".127.0.0.1", "")))
	}
	if grp != nil && g.chance(3) {
		// Over 1024 bytes: Chromium and Firefox ignore it (host-only),
		// WebKitGTK refuses the field.
		add(g.attr("Domain", diffPadDomain))
	}
	if g.chance(85) {
		add(g.attrName("Secure"))
		// CHIPS: Partitioned needs Secure.
		if g.chance(8) {
			add(g.attrName("Partitioned"))
		}
	}
	if g.chance(40) {
		add(g.attrName("HttpOnly"))
	}
	if g.chance(50) {
		add(g.attr("SameSite", g.pick("Lax", "Strict", "None", "lax", "bogus", "")))
	}
	if g.chance(10) {
		add("Priority=High")
	}
	if g.chance(6) {
		add(g.attr("X-Pad", diffPadValue))
	}
	if g.chance(3) {
		add("a,b")
	}
	if g.chance(6) {
		// A tab inside an attribute's value or name: Chromium refuses
		// the field, libsoup stops reading there, Firefox reads it all.
		add(g.pick("X=p\tq", "F\to=1", "SameSite=La\tx"))
	}
	if g.valueTabs && g.chance(5) {
		// A byte over 0x7f (UTF-8 é): libsoup stops reading there, as
		// at a tab; Chromium and Firefox read on. Only for the cascade
		// differential, as valueTabs: a field the module passes
		// unchanged under a path policy sets its cookie at its own
		// place beside the one the policy moved, and the other
		// differential compares one cookie per name.
		add(g.pick("X=\u00e9", "X\u00e9=1", "Path=/caf\u00e9"))
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	var b, prior strings.Builder
	for _, p := range parts {
		sep := g.pick("; ", "; ", "; ", ";", " ; ", ";  ")
		b.WriteString(sep)
		b.WriteString(p.text)
		if !p.lifetime {
			prior.WriteString(sep)
			prior.WriteString(p.text)
		}
	}
	// HTTP trims a field value's trailing whitespace (RFC 9110 §5.5):
	// what the upstream sends is what the client gets.
	c.attrs = strings.TrimRight(b.String(), " \t")
	c.priorAttrs = strings.TrimRight(prior.String(), " \t")
	return c
}

// diffPlan is a run's cases, and each batch's leaders (leaders[b][k] is
// ldrK of batch b).
type diffPlan struct {
	cases   []diffCase
	leaders [][]diffCase
}

// diffCases draws n cases from seed, then the leaders of every batch.
func diffCases(seed int64, n int, now time.Time) diffPlan {
	g := &diffGen{r: rand.New(rand.NewSource(seed)), now: now}
	plan := diffPlan{cases: make([]diffCase, n)}
	for i := range plan.cases {
		plan.cases[i] = g.next(i, g.drawGroup())
	}
	for b := 0; b*diffBatch < n; b++ {
		leaders := make([]diffCase, diffLeaders)
		for k := range leaders {
			leaders[k] = g.next(k, nil)
		}
		plan.leaders = append(plan.leaders, leaders)
	}
	return plan
}

// diffEnv reads an integer environment variable, def when it is unset.
func diffEnv(t *testing.T, key string, def int64) int64 {
	t.Helper()
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}
	return n
}

// diffDateMode is the Date header the upstream sends with a batch. Chromium
// and Firefox count an Expires from the response's Date, libsoup from its
// own clock, and the module from the Date when it reads one: a wrong
// upstream clock is where their readings of one Expires part.
type diffDateMode struct {
	name string
	skew time.Duration // of the upstream's clock
	none bool          // no Date from the upstream (Caddy adds its own, after the module)
}

// diffDateModes take turns by batch, so every engine sees each case with
// the same Date. The skews keep every Expires of the generator clear of
// the max groups' limits and of zero, counted from the Date too.
var diffDateModes = []diffDateMode{
	{name: "right clock"},
	{name: "8 h slow", skew: -8 * time.Hour},
	{name: "right clock"},
	{name: "8 h fast", skew: 8 * time.Hour},
	{name: "no Date", none: true},
}

func diffDateOf(batch int) diffDateMode { return diffDateModes[batch%len(diffDateModes)] }

// diffRoute is the path both routes serve; batch and via are queries.
const diffRoute = "/rd/x/set"

// startDiffApp serves the cases batch by batch: ?batch=N&via=raw sends
// batch N's leaders and cases under raw_ names, ?via=mod under their own
// names; with &phase=pre, the prior cookies of its attribute groups'
// cases instead.
func startDiffApp(t *testing.T, plan diffPlan) string {
	t.Helper()
	cases := plan.cases
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+diffRoute, func(w http.ResponseWriter, r *http.Request) {
		b, err := strconv.Atoi(r.URL.Query().Get("batch"))
		if err != nil || b < 0 || b*diffBatch >= len(cases) {
			http.Error(w, "no such batch", http.StatusNotFound)
			return
		}
		raw := r.URL.Query().Get("via") == "raw"
		h := w.Header()
		switch dm := diffDateOf(b); {
		case dm.none:
			h["Date"] = nil // net/http sends no Date then
		case dm.skew != 0:
			h.Set("Date", time.Now().Add(dm.skew).UTC().Format(http.TimeFormat))
		}
		h.Set("Cache-Control", "no-store")
		batch := cases[b*diffBatch : min((b+1)*diffBatch, len(cases))]
		if r.URL.Query().Get("phase") == "pre" {
			for _, c := range batch {
				if c.hasPrior() {
					h.Add("Set-Cookie", c.prior(raw))
				}
			}
		} else {
			for _, c := range plan.leaders[b] {
				h.Add("Set-Cookie", c.field(raw))
			}
			for _, c := range batch {
				h.Add("Set-Cookie", c.field(raw))
			}
		}
		fmt.Fprintf(w, "batch %d\n", b)
	})
	srv := httptest.NewServer(mux) // 127.0.0.1 only
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// diffVisit is when one navigation was sent and answered.
type diffVisit struct {
	start, end time.Time
}

// TestRandomDifferential: see the file comment.
func TestRandomDifferential(t *testing.T) {
	began := time.Now()
	seed := diffEnv(t, "DIFF_SEED", diffDefaultSeed)
	n := int(diffEnv(t, "DIFF_CASES", diffDefaultCases))
	plan := diffCases(seed, n, time.Now())
	cases := plan.cases
	base := startTLSProxy(t, startDiffApp(t, plan), diffDirectives())
	t.Logf("seed %d (DIFF_SEED), %d cases per engine (DIFF_CASES), %d per response", seed, n, diffBatch)

	// raws[i][k] is what engine i made of case k raw, for the summary
	// across engines; each engine writes its own slice.
	raws := make([][]diffRaw, len(engines))
	t.Run("engines", func(t *testing.T) {
		for i, e := range engines {
			raws[i] = make([]diffRaw, len(cases))
			// Each engine is its own browser, so the engines run at the
			// same time; the batches of one engine one after another.
			t.Run(e.name, func(t *testing.T) {
				t.Parallel()
				engineBegan := time.Now()
				t.Logf("%s: %s", e.name, e.open(t))
				tally := map[string]int{}
				for b := 0; b*diffBatch < len(cases); b++ {
					batch := cases[b*diffBatch : min((b+1)*diffBatch, len(cases))]
					// A subtest per batch: its client's jar is emptied
					// when it ends (WebKit has one jar, handed out in
					// turn).
					t.Run(fmt.Sprintf("batch%d", b), func(t *testing.T) {
						runDiffBatch(t, e, seed, base, b, batch, plan.leaders[b], tally, raws[i])
					})
				}
				t.Logf("%s: %d cases in %s; %s", e.name, len(cases), time.Since(engineBegan).Round(time.Millisecond), describeTally(tally))
			})
		}
	})
	logAgreedButKept(t, cases, raws)
	t.Logf("seed %d: took %s", seed, time.Since(began).Round(time.Millisecond))
}

// diffRaw is one engine's raw reading of a case, and whether the module
// left the field unchanged.
type diffRaw struct {
	ran, stored, session, unchanged bool
	lifetime                        time.Duration // from the middle of the request
}

// logAgreedButKept logs the cases every engine that ran stores raw alike
// (all as session cookies, or all with lifetimes within diffAgreeSpan),
// whose lifetime differs from their group's policy, but which the module
// left unchanged: it reads some date form or Date header more cautiously
// than these engines do. That is the rule "when unsure, leave the field
// alone" at work, not a failure: an engine or version not measured here
// may read the field otherwise.
func logAgreedButKept(t *testing.T, cases []diffCase, raws [][]diffRaw) {
	const diffAgreeSpan = 10 * time.Second
	var kept []string
	for k, dc := range cases {
		var first *diffRaw
		agree, ran := true, 0
		for i := range raws {
			r := &raws[i][k]
			if !r.ran {
				continue
			}
			ran++
			switch {
			case !r.stored || !r.unchanged:
				agree = false
			case first == nil:
				first = r
			case r.session != first.session || !r.session && (r.lifetime-first.lifetime).Abs() > diffAgreeSpan:
				agree = false
			}
		}
		if ran < 2 || !agree || first == nil {
			continue
		}
		g := dc.group
		var off bool
		switch g.kind {
		case diffKeep, diffLike:
			continue
		case diffSession:
			off = !first.session
		case diffFixed:
			off = first.session || (first.lifetime-g.d).Abs() > diffAgreeSpan
		case diffMax:
			off = !first.session && first.lifetime > g.d+diffAgreeSpan
		}
		if off {
			life := "session"
			if !first.session {
				life = first.lifetime.Round(time.Minute).String()
			}
			kept = append(kept, fmt.Sprintf("case %d (%s, upstream Date: %s), every engine %s: %q", k, g.policy(), diffDateOf(k/diffBatch).name, life, shorten(dc.field(false))))
		}
	}
	t.Logf("%d case(s) that every engine stores alike with a lifetime other than the policy's, left unchanged by the module", len(kept))
	for _, line := range kept[:min(len(kept), 12)] {
		t.Logf("  %s", line)
	}
}

// runDiffBatch sends one batch raw and through the module into one empty
// jar, reads it, fetches the module's fields with a jarless client, and
// checks every case.
//
// When the batch has cases of attribute groups, it first sends their
// prior cookies (the case's name, scope and flags, the value "old", an
// hour's lifetime) raw and through the module, and reads the jar: then a
// case the engine reads as a deletion raw is seen deleting the cookie raw
// and must delete the module's cookie through the module, wherever the
// module's policies put it (the module's prior went through the same
// policies). A case not stored raw whose prior was not stored either was
// refused (for its attributes), not read as a deletion.
func runDiffBatch(t *testing.T, e engine, seed int64, base string, b int, batch, leaders []diffCase, tally map[string]int, raws []diffRaw) {
	c, ok := e.newClient(t).(scopedJar)
	if !ok {
		t.Fatalf("%s's client cannot list its jar with scopes", e.name)
	}
	url := func(via, phase string) string {
		return fmt.Sprintf("%s%s?batch=%d&via=%s%s", base, diffRoute, b, via, phase)
	}
	visit := func(via, phase string) diffVisit {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		v := diffVisit{start: time.Now()}
		if err := c.get(ctx, url(via, phase)); err != nil {
			t.Fatalf("seed %d, batch %d: GET %s: %v", seed, b, url(via, phase), err)
		}
		v.end = time.Now()
		return v
	}
	readJar := func() map[string]*scopedCookie {
		jar, read := diffReadJar(t, c, seed, b)
		held := map[string]*scopedCookie{}
		for i := range jar {
			ck := &jar[i]
			if !ck.expires.IsZero() && ck.expires.Before(read.Add(diffExpiringSoon)) {
				continue // expired, or expiring now: see diffExpiringSoon
			}
			if _, dup := held[ck.name]; dup {
				t.Errorf("seed %d, batch %d, %s: the jar holds %s twice: %s", seed, b, e.name, ck.name, describeScoped(jar))
			}
			held[ck.name] = ck
		}
		return held
	}
	var preHeld map[string]*scopedCookie
	if slices.ContainsFunc(batch, diffCase.hasPrior) {
		visit("raw", "&phase=pre")
		visit("mod", "&phase=pre")
		preHeld = readJar()
	}
	raw, mod := visit("raw", ""), visit("mod", "")
	held := readJar()
	// WebKit's jar outlives the client: its cookies under /rd/x are
	// deleted from this page, which receives them (the client's own
	// clearing, from "/", does not).
	diffEmptyWebKit(t, c, seed, b)

	client := jarlessClient(t)
	fields := func(via, phase string) map[string]string {
		f, err := fetchFields(client, url(via, phase))
		if err != nil {
			t.Fatalf("seed %d, batch %d: %v", seed, b, err)
		}
		return f
	}
	rawFields, modFields := fields("raw", ""), fields("mod", "")
	var modPriors map[string]string
	if preHeld != nil {
		modPriors = fields("mod", "&phase=pre")
	}
	// Leaders are in no group: the module leaves them alone.
	for _, l := range leaders {
		if got := modFields[l.cookie(false)]; got != l.field(false) {
			t.Errorf("seed %d, batch %d: the module changed leader %q to %q", seed, b, shorten(l.field(false)), shorten(got))
		}
	}

	for _, dc := range batch {
		sent := dc.field(false)
		if got := rawFields[dc.cookie(true)]; got != dc.field(true) {
			t.Logf("seed %d, case %d: Caddy alone changed %q to %q", seed, dc.index, shorten(dc.field(true)), shorten(got))
		}
		modField, ok := modFields[dc.cookie(false)]
		if !ok {
			t.Errorf("seed %d, case %d: the module's response has no field for %s", seed, dc.index, dc.cookie(false))
			continue
		}
		p := diffPair{
			engine: e.name, seed: seed, dc: dc, sent: sent, modField: modField, modPlaced: modFields[placedKey(dc.cookie(false))],
			raw: held[dc.cookie(true)], mod: held[dc.cookie(false)], rawVisit: raw, modVisit: mod,
		}
		if dc.hasPrior() {
			p.priors = true
			p.rawPrior, p.modPrior = preHeld[dc.cookie(true)], preHeld[dc.cookie(false)]
			p.modPriorField = modPriors[dc.cookie(false)]
		}
		if g := dc.group; g.kind == diffLike {
			k, _ := strconv.Atoi(strings.TrimPrefix(g.leader, "ldr"))
			p.leader = &leaders[k]
			p.leaderRaw, p.leaderMod = held[p.leader.cookie(true)], held[p.leader.cookie(false)]
		}
		tally[p.outcome()]++
		raws[dc.index] = p.rawReading()
		for _, problem := range p.check() {
			t.Errorf("%s", p.report(problem))
		}
	}
}

// diffReadJar lists c's jar for batch b, and when the list was read.
func diffReadJar(t *testing.T, c scopedJar, seed int64, b int) ([]scopedCookie, time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	jar, err := c.scopedCookies(ctx)
	if err != nil {
		t.Fatalf("seed %d, batch %d: reading the jar: %v", seed, b, err)
	}
	return jar, time.Now()
}

// diffEmptyWebKit deletes, when c is WebKit's client, the cookies of the
// batch's page: WebKit's jar outlives the client, and the client's own
// clearing, from "/", does not reach those under /rd/x.
func diffEmptyWebKit(t *testing.T, c scopedJar, seed int64, b int) {
	t.Helper()
	if wk, ok := c.(*webkitClient); ok {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		if err := wk.emptyPage(ctx); err != nil {
			t.Fatalf("seed %d, batch %d: emptying WebKit's jar: %v", seed, b, err)
		}
	}
}

// fetchFields returns the Set-Cookie fields of the response to url by
// cookie name: one per name, but for the one field the module adds for a
// case, a deletion at a path or domain policy's place after a deletion
// it passes unchanged (a tab in it), kept under placedKey(name).
func fetchFields(client *http.Client, url string) (map[string]string, error) {
	all, err := fetchAllFields(client, url)
	if err != nil {
		return nil, err
	}
	fields := make(map[string]string, len(all))
	for name, fs := range all {
		fields[name] = fs[0]
		switch {
		case len(fs) == 2 && strings.HasPrefix(fs[1], name+diffDeletion):
			fields[placedKey(name)] = fs[1]
		case len(fs) > 1:
			return nil, fmt.Errorf("GET %s: %d fields for %s: %q and %q", url, len(fs), name, shorten(fs[0]), shorten(fs[1]))
		}
	}
	return fields, nil
}

// fetchAllFields returns the Set-Cookie fields of the response to url,
// by cookie name, in order.
func fetchAllFields(client *http.Client, url string) (map[string][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	fields := map[string][]string{}
	for _, f := range resp.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		fields[name] = append(fields[name], f)
	}
	return fields, nil
}

// diffDeletion follows the name in the deletion the module places (see
// fetchFields).
const diffDeletion = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"

// placedKey is the key fetchFields keeps a placed deletion of name under.
func placedKey(name string) string { return name + " placed" }

// diffPair is one case in one engine: the field sent, the module's field,
// and the two jar entries (nil when not stored); for an attribute group's
// case, the prior cookies' entries before the case; for a follower, its
// leader's entries.
type diffPair struct {
	engine             string
	seed               int64
	dc                 diffCase
	sent, modField     string
	modPlaced          string // the deletion the module placed after modField, if any
	raw, mod           *scopedCookie
	rawVisit, modVisit diffVisit

	priors             bool
	rawPrior, modPrior *scopedCookie
	modPriorField      string

	leader               *diffCase
	leaderRaw, leaderMod *scopedCookie
}

// lifetimeKept reports whether the module left the field's lifetime as
// sent: it left the field alone, or has no expiry policy, or (an
// attribute group with expire <d>) rewrote its flags but not its
// lifetime, which ends the module's field with the policy's Max-Age.
func (p diffPair) lifetimeKept() bool {
	g := p.dc.group
	switch {
	case p.modField == p.sent || g.kind == diffKeep:
		return true
	case g.attrs != nil && g.kind == diffFixed:
		return !strings.HasSuffix(p.modField, "; Max-Age="+strconv.Itoa(int(g.d/time.Second)))
	}
	return false
}

// outcome names what the engine stored raw and what the module did, to
// show what a run covered.
func (p diffPair) outcome() string {
	raw := "not stored"
	switch {
	case p.priors && p.raw == nil && p.rawPrior != nil:
		raw = "deleted"
	case p.priors && p.raw == nil && p.mod != nil:
		raw = "refused (stored through the module)"
	case p.priors && p.raw == nil:
		raw = "refused"
	case p.raw == nil:
	case p.priors && p.raw.value == diffPriorValue && p.mod == nil && p.modPlaced != "":
		raw = "prior kept (deleted by the placed deletion)"
	case p.priors && p.raw.value == diffPriorValue:
		raw = "prior kept"
	case p.raw.expires.IsZero():
		raw = "session"
	default:
		raw = "persistent"
	}
	did := "rewritten"
	if p.modField == p.sent {
		did = "unchanged"
	}
	family := ""
	switch {
	case p.priors:
		family = "attributes: "
		if p.dc.namePrefix != "" {
			family = "attributes, prefixed: "
		}
	case p.leader != nil:
		family = "like, leader stored: "
		if p.leaderMod == nil {
			family = "like, leader not stored: "
		}
	}
	return family + raw + " raw, " + did
}

// rawReading is the pair's raw reading for logAgreedButKept.
func (p diffPair) rawReading() diffRaw {
	r := diffRaw{ran: true, stored: p.raw != nil, unchanged: p.lifetimeKept()}
	if p.raw != nil {
		r.session = p.raw.expires.IsZero()
		r.lifetime = p.raw.expires.Sub(p.rawVisit.start.Add(p.rawVisit.end.Sub(p.rawVisit.start) / 2))
	}
	return r
}

// describeTally prints the outcomes' counts in a fixed order.
func describeTally(tally map[string]int) string {
	keys := make([]string, 0, len(tally))
	for k := range tally {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, tally[k])
	}
	return strings.Join(parts, ", ")
}

// check returns every invariant the pair breaks.
func (p diffPair) check() []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if p.priors {
		p.checkAttrs(fail)
		return problems
	}
	unchanged := p.modField == p.sent
	g := p.dc.group
	switch {
	case p.raw == nil && p.mod != nil:
		fail("(a) %s does not store the field raw (a deletion or a refusal), but stores the module's", p.engine)
		return problems
	case p.raw == nil:
		return nil
	case g.kind == diffLike && !unchanged:
		p.checkFollower(fail)
		return problems
	case p.mod == nil:
		fail("(c) %s stores the field raw, but not the module's", p.engine)
		return problems
	}
	r, m := p.raw, p.mod
	if m.value != r.value {
		fail("(d) value %q raw, %q through the module", r.value, m.value)
	}
	if m.cookieScope != r.cookieScope || *m.attrs != *r.attrs {
		fail("(d) scope or flags differ: %s raw, %s through the module", scopeFlags(r), scopeFlags(m))
	}
	if unchanged {
		p.checkSameLifetime(fail)
		return problems
	}
	p.checkPolicyLifetime(fail)
	return problems
}

// checkSameLifetime: the module's cookie lives as long as the raw one,
// give or take the time between the two requests.
func (p diffPair) checkSameLifetime(fail func(string, ...any)) {
	r, m := p.raw, p.mod
	switch {
	case r.expires.IsZero() != m.expires.IsZero():
		fail("(c) the module left the field's lifetime unchanged, but %s reads it as %s raw and %s through the module", p.engine, lifetimeOf(r), lifetimeOf(m))
	case !r.expires.IsZero():
		d := m.expires.Sub(r.expires)
		if d < -expiryTolerance || d > p.modVisit.end.Sub(p.rawVisit.start)+expiryTolerance {
			fail("(c) the module left the field's lifetime unchanged, but %s expires it %s through the module, %s raw", p.engine, m.expires.UTC().Format(time.RFC3339), r.expires.UTC().Format(time.RFC3339))
		}
	}
}

// checkPolicyLifetime: the module rewrote the field's lifetime, which is
// now its group's policy's.
func (p diffPair) checkPolicyLifetime(fail func(string, ...any)) {
	r, m, g := p.raw, p.mod, p.dc.group
	switch g.kind {
	case diffSession:
		if !m.expires.IsZero() {
			fail("(c) expire session: %s holds a persistent cookie through the module", p.engine)
		}
	case diffFixed:
		lo, hi := p.modVisit.start.Add(g.d-expiryTolerance), p.modVisit.end.Add(g.d+expiryTolerance)
		if m.expires.IsZero() || m.expires.Before(lo) || m.expires.After(hi) {
			fail("(c) %s: %s holds the module's cookie %s, want persistent for %s", g.expire, p.engine, lifetimeOf(m), g.d)
		}
	case diffMax:
		switch {
		case r.expires.IsZero():
			fail("(b) %s: %s reads the field as a session cookie, but the module rewrote it (%s through the module)", g.expire, p.engine, lifetimeOf(m))
		case m.expires.IsZero():
			fail("(b) %s: %s keeps the module's cookie for the session, the raw one expires", g.expire, p.engine)
		default:
			// The shortest the module's can have lived against the
			// longest the raw one can.
			modLife := m.expires.Sub(p.modVisit.end)
			rawLife := r.expires.Sub(p.rawVisit.start)
			if modLife > rawLife+expiryTolerance {
				fail("(b) %s: %s keeps the module's cookie %s, longer than the raw one's %s", g.expire, p.engine, modLife.Round(time.Second), rawLife.Round(time.Second))
			}
			lo, hi := p.modVisit.start.Add(g.d-expiryTolerance), p.modVisit.end.Add(g.d+expiryTolerance)
			if m.expires.Before(lo) || m.expires.After(hi) {
				fail("(b) %s: the module rewrote the field, but %s keeps its cookie %s, want %s", g.expire, p.engine, lifetimeOf(m), g.d)
			}
		}
	}
}

// diffMaxAgeCap is the longest Max-Age the module writes for a follower:
// libsoup cuts a longer one to 32 bits.
const diffMaxAgeCap = math.MaxInt32 * time.Second

// checkFollower checks a follower the module rewrote, which the engine
// stores raw: through the module the engine stores it exactly when it
// stores the leader through the module (the leader's lifetime was
// written into it), as a session cookie if the leader is one, else
// expiring with the leader; its value, scope and flags are as sent.
func (p diffPair) checkFollower(fail func(string, ...any)) {
	r, m, l := p.raw, p.mod, p.leaderMod
	switch {
	case l == nil && m != nil:
		fail("(f) the module rewrote the follower, and %s stores it through the module, but not its leader %s", p.engine, p.leader.cookie(false))
		return
	case l != nil && m == nil:
		fail("(f) %s stores the leader %s through the module, but not the follower the module rewrote (it stores it raw)", p.engine, p.leader.cookie(false))
		return
	case l == nil:
		return
	}
	if m.value != r.value {
		fail("(d) value %q raw, %q through the module", r.value, m.value)
	}
	if m.cookieScope != r.cookieScope || *m.attrs != *r.attrs {
		fail("(d) scope or flags differ: %s raw, %s through the module", scopeFlags(r), scopeFlags(m))
	}
	switch {
	case l.expires.IsZero() != m.expires.IsZero():
		fail("(f) %s holds the leader %s through the module, the follower %s", p.engine, lifetimeOf(l), lifetimeOf(m))
	case !l.expires.IsZero():
		// Both came in the one response. The module counts the
		// follower's Max-Age from the Date header's whole second to the
		// leader's expiry, and the browser counts it from when it read
		// the response, at most the visit later: the follower may end
		// later by that much. Ending earlier is what the check is for
		// (a half log-in), and gets no such slack.
		d := m.expires.Sub(l.expires)
		capped := d < 0 && m.expires.After(p.modVisit.start.Add(diffMaxAgeCap-expiryTolerance))
		slack := expiryTolerance + time.Second
		if d > 0 {
			slack += p.modVisit.end.Sub(p.modVisit.start)
		}
		if d.Abs() > slack && !capped {
			fail("(f) %s holds the leader %s through the module, the follower %s", p.engine, lifetimeOf(l), lifetimeOf(m))
		}
	}
}

// checkAttrs checks a case of an attribute group against its prior
// cookies (see runDiffBatch):
//
//   - deleted raw (the raw prior was stored, the case left nothing): the
//     module's prior was stored and nothing is left of it;
//   - refused raw (neither raw cookie stored): the module's cookie may be
//     stored only where the group's secure on gave it the Secure its
//     refusal was for (SameSite=None, or a __Secure- or __Host- name);
//   - the prior kept raw (the field stored nothing over it): the module's
//     prior kept too, unless the module placed a deletion after the field
//     (it does so after a field some engine reads as a deletion, under a
//     path or domain policy); then none may be left: the log-out reached
//     the cookie the policy moved, where this engine's raw reading of the
//     field's place missed the prior;
//   - stored raw: stored through the module with the same value, the
//     policy's flags and path where the module rewrote the field (a
//     __Host- name keeps its path: the module skips an edit that breaks
//     its prefix), the same ones where it left the field alone, and the
//     lifetime of the raw cookie unless its expiry policy set one.
//
// And every __Host- or __Secure- cookie stored through the module keeps
// its prefix's rules (RFC 6265bis §4.1.3).
func (p diffPair) checkAttrs(fail func(string, ...any)) {
	r, m, g := p.raw, p.mod, p.dc.group
	if p.dc.longPath && p.engine == "WebKit" {
		// libsoup stores the raw cookie under its long Path, which the
		// page does not receive, so WebDriver does not list it; a path
		// policy moves the module's where it is listed.
		return
	}
	if m != nil && diffBreaksPrefix(p.dc.cookie(false), m) && (r == nil || !diffBreaksPrefix(p.dc.cookie(true), r)) {
		fail("(p) %s stores the module's cookie as %s, which its name prefix forbids (RFC 6265bis §4.1.3: Secure, and for __Host- no Domain and Path=/), and the raw one as %s", p.engine, scopeFlags(m), describeOrNone(r))
	}
	switch {
	case r == nil && p.rawPrior != nil:
		if m != nil {
			fail("(a) %s deletes the cookie raw (it held the raw prior), but through the module still holds %s=%q", p.engine, m.name, m.value)
		} else if p.modPrior == nil {
			fail("(a) %s stores the prior raw but not the module's prior, so the module's deletion is not seen deleting anything", p.engine)
		}
		return
	case r == nil:
		if m != nil && !(g.attrs.secure && p.modPrior != nil && m.attrs.secure) {
			fail("(a) %s refuses the field raw (and its prior), but stores %s=%q through the module", p.engine, m.name, m.value)
		}
		return
	case r.value == diffPriorValue:
		if m == nil && p.modPlaced != "" {
			// The field stored nothing raw (the prior is as it was), and
			// the module, which places a deletion only after a field some
			// engine reads as one, deleted the cookie its policy had
			// moved: the app's log-out, which this engine read at another
			// place than its prior's (a Path after the tab libsoup stops
			// at), reached the cookie through the module.
			return
		}
		if m == nil || m.value != diffPriorValue {
			fail("(c) %s keeps the prior raw (the field did not replace it), but not through the module", p.engine)
		}
		return
	case m == nil:
		fail("(c) %s stores the field raw, but not the module's", p.engine)
		return
	}
	if m.value != r.value {
		fail("(d) value %q raw, %q through the module", r.value, m.value)
	}
	want := *r
	wantAttrs := *r.attrs
	want.attrs = &wantAttrs
	if p.modField != p.sent {
		a := g.attrs
		if a.path != "" && !strings.HasPrefix(strings.ToLower(p.dc.namePrefix), "__host-") {
			want.path = a.path
		}
		wantAttrs.secure = wantAttrs.secure || a.secure
		wantAttrs.httpOnly = wantAttrs.httpOnly || a.httpOnly
		if a.sameSite != "" {
			// WebKitWebDriver says None for no SameSite, so the raw
			// cookie's may be unknown; the policy's is known.
			wantAttrs.sameSite, wantAttrs.sameSiteKnown = a.sameSite, true
		}
	}
	if m.cookieScope != want.cookieScope || *m.attrs != wantAttrs {
		fail("(e) scope or flags: %s raw, %s through the module, want %s", scopeFlags(r), scopeFlags(m), scopeFlags(&want))
	}
	if p.lifetimeKept() {
		p.checkSameLifetime(fail)
	} else {
		p.checkPolicyLifetime(fail)
	}
}

// diffBreaksPrefix reports whether a stored cookie breaks the rules of
// its name's prefix (RFC 6265bis §4.1.3, compared without regard to
// case): Chromium and Firefox refuse such a cookie, WebKitGTK (libsoup)
// stores it.
func diffBreaksPrefix(name string, c *scopedCookie) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(lower, "__host-"):
		return !c.attrs.secure || !c.hostOnly || c.path != "/"
	case strings.HasPrefix(lower, "__secure-"):
		return !c.attrs.secure
	}
	return false
}

func describeOrNone(c *scopedCookie) string {
	if c == nil {
		return "(not stored)"
	}
	return scopeFlags(c)
}

// report prints a problem with everything needed to replay it.
func (p diffPair) report(problem string) string {
	s := fmt.Sprintf(`seed %d (DIFF_SEED=%d), %s, case %d (%s, %s, upstream Date: %s):
  %s
  raw field:    %q
  module field: %q
  raw jar:      %s
  module jar:   %s`,
		p.seed, p.seed, p.engine, p.dc.index, p.dc.cookie(false), p.dc.group.policy(), diffDateOf(p.dc.index/diffBatch).name, problem,
		shorten(p.sent), shorten(p.modField), p.entry(p.raw, p.rawVisit), p.entry(p.mod, p.modVisit))
	if p.modPlaced != "" {
		s += fmt.Sprintf(`
  and placed:   %q`, p.modPlaced)
	}
	if p.priors {
		s += fmt.Sprintf(`
  prior field:  %q
  module prior: %q
  raw jar before:    %s
  module jar before: %s`, shorten(p.dc.prior(false)), shorten(p.modPriorField), p.entry(p.rawPrior, p.rawVisit), p.entry(p.modPrior, p.modVisit))
	}
	if p.leader != nil {
		s += fmt.Sprintf(`
  leader field: %q
  leader, raw jar:    %s
  leader, module jar: %s`, shorten(p.leader.field(false)), p.entry(p.leaderRaw, p.rawVisit), p.entry(p.leaderMod, p.modVisit))
	}
	return s
}

// shorten writes a run of more than 16 of one byte as <N×c>, so that a
// 1100-byte attribute reads as one.
func shorten(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > 16 {
			fmt.Fprintf(&b, "<%d×%c>", j-i, s[i])
		} else {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}

// entry prints one jar entry, its expiry relative to its request.
func (p diffPair) entry(c *scopedCookie, v diffVisit) string {
	if c == nil {
		return "(not stored)"
	}
	return fmt.Sprintf("%s=%q (%s, %s)", c.name, c.value, scopeFlags(c), lifetimeAfter(c, v))
}

func scopeFlags(c *scopedCookie) string {
	s := c.domain + c.path
	if !c.hostOnly {
		s = "." + s
	}
	if a := c.attrs; a != nil {
		for _, f := range []struct {
			on   bool
			name string
		}{{a.secure, "Secure"}, {a.httpOnly, "HttpOnly"}, {a.sameSite != "", "SameSite=" + a.sameSite}} {
			if f.on {
				s += " " + f.name
			}
		}
	}
	return s
}

func lifetimeOf(c *scopedCookie) string {
	if c.expires.IsZero() {
		return "session"
	}
	return "expiring " + c.expires.UTC().Format(time.RFC3339)
}

func lifetimeAfter(c *scopedCookie, v diffVisit) string {
	if c.expires.IsZero() {
		return "session"
	}
	return fmt.Sprintf("expires %s, %s after the request", c.expires.UTC().Format(time.RFC3339), c.expires.Sub(v.start).Round(time.Second))
}

// TestDiffCasesDeterministic: one seed draws the same fields, so a seed
// printed by a failure replays it.
func TestDiffCasesDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	fieldsOf := func(seed int64) []string {
		plan := diffCases(seed, 100, now)
		var fs []string
		for _, c := range plan.cases {
			fs = append(fs, c.field(false), c.prior(false))
		}
		for _, ls := range plan.leaders {
			for _, l := range ls {
				fs = append(fs, l.field(false))
			}
		}
		return fs
	}
	a, b := fieldsOf(7), fieldsOf(7)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("field %d: %q, then %q", i, a[i], b[i])
		}
	}
	if slices.Equal(a, fieldsOf(8)) {
		t.Error("seeds 7 and 8 draw the same fields")
	}
}
