package cookienormalizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// This file generates the random configs and responses of the response
// writer's stress test (stress_test.go), each with what the model
// (stress_model_test.go) needs to know of it.

// stressNames are the exact names the generated groups take their
// members from.
// The prefixed ones: __Host-, __Secure-, __Http- and __Host-Http- (one
// in another case: browsers compare the prefixes without regard to it).
var stressNames = []string{"sid", "uid", "tok", "csrf", "pref", "lang", "__Host-h", "__Secure-s", "__Http-x", "__Host-Http-y", "__hOST-hTTP-w", "a", "b", "c", "zz1"}

// stressGroup is a generated group: its config, and what the model reads
// of it.
type stressGroup struct {
	Group
	members  []string // its exact names, in config order
	lifetime int64    // slide groups: the lifetime each issue grants
	interval int64    // slide groups: the slide interval
	stamp    string   // slide groups: the stamp's name
	like     string   // `expire like` groups: the leader's name
}

// consistent reports whether the group has a consistency rule (on_delete,
// on_partial or slide).
func (g *stressGroup) consistent() bool {
	return g.OnDelete != "" || g.OnPartial != "" || g.Slide != nil
}

// stressConfig is a generated handler config.
type stressConfig struct {
	groups     []*stressGroup
	reportOnly bool
	// mustReject says why provisioning must refuse the config ("" for a
	// config it may take or refuse).
	mustReject string
}

// handler returns the config as the module's types.
func (c *stressConfig) handler() *Handler {
	h := &Handler{ReportOnly: c.reportOnly}
	for _, g := range c.groups {
		h.Groups = append(h.Groups, g.Group)
	}
	return h
}

// String is the config's JSON, as Caddy would load it.
func (c *stressConfig) String() string {
	b, err := json.Marshal(c.handler())
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// matches reports whether a pattern of some group matches name, and so
// whether a field named name may be rewritten at all.
func (c *stressConfig) matches(name string) bool {
	for _, g := range c.groups {
		for _, p := range g.Cookies {
			switch {
			case p == "*":
				return true
			case p == "x*", p == "~^x":
				if strings.HasPrefix(name, "x") {
					return true
				}
			case p == name:
				return true
			}
		}
	}
	return false
}

// owner returns the group a cookie named name belongs to: the first
// whose pattern matches it (nil: none).
func (c *stressConfig) owner(name string) *stressGroup {
	for _, g := range c.groups {
		for _, p := range g.Cookies {
			if p == "*" || p == name || (p == "x*" || p == "~^x") && strings.HasPrefix(name, "x") {
				return g
			}
		}
	}
	return nil
}

// stampGroup returns the slide group whose stamp is name, or nil.
func (c *stressConfig) stampGroup(name string) *stressGroup {
	for _, g := range c.groups {
		if g.stamp != "" && g.stamp == name {
			return g
		}
	}
	return nil
}

// likeFollower reports whether name is a cookie of an `expire like`
// group: its rewrite depends on the leader field the response ends with.
func (c *stressConfig) likeFollower(name string) bool {
	return c.likeGroup(name) != nil
}

// likeGroup returns the `expire like` group of cookie name, or nil.
func (c *stressConfig) likeGroup(name string) *stressGroup {
	for _, g := range c.groups {
		if g.like != "" && slices.Contains(g.members, name) {
			return g
		}
	}
	return nil
}

// stressSeconds is a caddy.Duration of n seconds.
func stressSeconds(n int64) caddy.Duration {
	return caddy.Duration(time.Duration(n) * time.Second)
}

// stressPick returns one of xs at random.
func stressPick(r *rand.Rand, xs ...string) string { return xs[r.Intn(len(xs))] }

// genStressConfig returns a random config of one to three groups, each
// with one to three exact names, consistency rules, attribute policies
// and an expiry, sometimes slide, sometimes a pattern; sometimes an
// `expire like` group after them, and a lock-down group for every other
// cookie last. Some are configs the module rejects.
func genStressConfig(r *rand.Rand) *stressConfig {
	cfg := &stressConfig{reportOnly: r.Intn(4) == 0}
	pool := slices.Clone(stressNames)
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	for gi := range 1 + r.Intn(3) {
		n := min(1+r.Intn(3), len(pool))
		g := &stressGroup{members: slices.Clone(pool[:n])}
		pool = pool[n:]
		g.Label = "g" + strconv.Itoa(gi)
		g.Cookies = slices.Clone(g.members)
		g.OnDelete = stressPick(r, "", onDeleteCascade)
		g.OnPartial = stressPick(r, "", onPartialExpire)
		if r.Intn(5) < 2 {
			genStressSlide(r, g, gi)
		} else {
			switch r.Intn(5) {
			case 1:
				g.Expire = &ExpiryPolicy{Mode: modeSession}
			case 2:
				g.Expire = &ExpiryPolicy{Mode: modeFixed, Duration: stressSeconds(3600)}
			case 3:
				g.Expire = &ExpiryPolicy{Mode: modeMax, Duration: stressSeconds(600)}
			}
			g.Path = stressPick(r, "", "", "/", "/app")
			g.Domain = stressPick(r, "", "", removeValue, "example.com")
			if r.Intn(4) == 0 {
				// Matches "other" (*), "xq" and the "xs" stamps.
				g.Cookies = append(g.Cookies, stressPick(r, "x*", "~^x", "*"))
			}
		}
		switch r.Intn(3) {
		case 0:
			g.Secure = on()
		case 1:
			if r.Intn(3) == 0 {
				g.Secure = off()
			}
		}
		switch r.Intn(3) {
		case 0:
			g.HTTPOnly = on()
		case 1:
			g.HTTPOnly = off()
		}
		g.SameSite = stressPick(r, "", "lax", "strict", removeValue)
		if g.Secure != nil && *g.Secure && r.Intn(3) == 0 {
			g.SameSite = "none"
		}
		genStressPartitioned(r, g)
		if !g.consistent() && g.Expire == nil && !g.hasAttributePolicy() {
			g.OnDelete = onDeleteCascade
		}
		// Now and then not: an exact prefixed name beside a policy that
		// breaks its prefix is a config error (see stressPrefixBreak).
		if r.Intn(10) > 0 {
			keepStressPrefixes(g)
		}
		cfg.groups = append(cfg.groups, g)
	}
	if r.Intn(5) < 2 {
		genStressLikeGroups(r, cfg)
	}
	if r.Intn(40) == 0 {
		genStressStampClash(r, cfg)
	}
	for _, g := range cfg.groups {
		if why := stressPrefixBreak(g); why != "" && cfg.mustReject == "" {
			cfg.mustReject = "a policy that breaks a name prefix: " + why
		}
	}
	if r.Intn(3) == 0 {
		// A lock-down group for every other cookie, the stamps' names
		// included (which it must leave alone).
		g := &stressGroup{}
		g.Label, g.Cookies = "all", []string{"*"}
		g.Expire = &ExpiryPolicy{Mode: modeMax, Duration: stressSeconds(600)}
		g.Secure, g.SameSite = on(), stressPick(r, "strict", "none")
		cfg.groups = append(cfg.groups, g)
	}
	return cfg
}

// keepStressPrefixes drops the policies that would break the name
// prefix of a prefixed member (a config error for an exact name): a
// __Host- cookie needs Secure, Path=/ and no Domain, a __Secure- or
// __Http- cookie Secure, an __Http- or __Host-Http- cookie HttpOnly too
// (a __Host-Http- name is a __Host- name).
func keepStressPrefixes(g *stressGroup) {
	if slices.ContainsFunc(g.members, stressSecureOnly) {
		if g.Secure != nil && !*g.Secure {
			g.Secure = nil
		}
	}
	if slices.ContainsFunc(g.members, stressHTTPOnlyOnly) {
		if g.HTTPOnly != nil && !*g.HTTPOnly {
			g.HTTPOnly = nil
		}
	}
	if slices.ContainsFunc(g.members, stressHostPrefixed) {
		if g.Path != "" {
			g.Path = "/"
		}
		if g.Domain != "" {
			g.Domain = removeValue
		}
	}
}

// stressPrefixBreak returns a policy of g that would break the name
// prefix of one of its members ("" for none): secure off beside a name
// browsers store only with Secure, httponly off beside one they store
// only with HttpOnly, a path other than / or a domain beside a __Host-
// name. Each member is an exact name: provisioning must refuse it.
func stressPrefixBreak(g *stressGroup) string {
	for _, m := range g.members {
		switch {
		case stressSecureOnly(m) && g.Secure != nil && !*g.Secure:
			return "secure off beside " + m
		case stressHTTPOnlyOnly(m) && g.HTTPOnly != nil && !*g.HTTPOnly:
			return "httponly off beside " + m
		case stressHostPrefixed(m) && g.Path != "" && g.Path != removeValue && g.Path != "/":
			return "path " + g.Path + " beside " + m
		case stressHostPrefixed(m) && g.Domain != "" && g.Domain != removeValue:
			return "domain " + g.Domain + " beside " + m
		}
	}
	return ""
}

// genStressSlide makes g, the gi-th group, a slide group, with the expire,
// path and domain policies slide needs. Its stamp has the default name,
// or one of its own, which an "x" pattern of another group may match.
func genStressSlide(r *rand.Rand, g *stressGroup, gi int) {
	g.lifetime = []int64{100, 3600, 86400}[r.Intn(3)]
	g.interval = []int64{60, 10, g.lifetime - 1}[r.Intn(3)]
	if g.interval >= g.lifetime {
		g.interval = g.lifetime / 2
	}
	g.Expire = &ExpiryPolicy{Mode: modeFixed, Duration: stressSeconds(g.lifetime)}
	g.Slide = &SlidePolicy{Interval: stressSeconds(g.interval)}
	switch r.Intn(3) {
	case 0:
		g.stamp = "cn_slide_" + g.Label
	case 1:
		g.stamp = "st" + strconv.Itoa(gi)
		g.Slide.Cookie = g.stamp
	case 2:
		g.stamp = "xs" + strconv.Itoa(gi)
		g.Slide.Cookie = g.stamp
	}
	g.Path = stressPick(r, "/", "/app")
	g.Domain = stressPick(r, removeValue, "example.com")
}

// genStressPartitioned gives g a partitioned policy now and then: on
// only beside secure on (without it, a config error).
func genStressPartitioned(r *rand.Rand, g *stressGroup) {
	switch r.Intn(6) {
	case 0, 1:
		if g.Secure != nil && *g.Secure {
			g.Partitioned = on()
		}
	case 2:
		g.Partitioned = off()
	}
}

// genStressLikeGroups appends an `expire like` group, lk1 and lk2, to
// cfg, whose leader is the first group's first member, a slide group's
// stamp (the module's own cookie, which a `like` may name), or a cookie
// of no other group, ldr, which the group may name too. Now and then a
// second `expire like` group follows, ch1 and ch2, whose leader is a
// cookie of the first one: a chain, resolved in order whichever group
// comes first in the config; rarely, one that loops (a config error).
func genStressLikeGroups(r *rand.Rand, cfg *stressConfig) {
	leader := cfg.groups[0].members[0]
	var stamps []string
	for _, g := range cfg.groups {
		if g.stamp != "" {
			stamps = append(stamps, g.stamp)
		}
	}
	switch k := r.Intn(6); {
	case k < 2 && cfg.groups[0].Slide == nil, k < 1:
		leader = "ldr"
	case k < 4 && len(stamps) > 0 && cfg.groups[0].Slide == nil, k < 3 && len(stamps) > 0:
		leader = stamps[r.Intn(len(stamps))]
	}
	if leader == "ldr" && r.Intn(3) == 0 {
		// A __Host- leader, which the group's path / or domain remove
		// may give the place its prefix needs.
		leader = "__Host-ldr"
	}
	g := &stressGroup{members: []string{"lk1", "lk2"}, like: leader}
	if (leader == "ldr" || leader == "__Host-ldr") && r.Intn(2) == 0 {
		g.members = append(g.members, leader)
	}
	if leader == "__Host-ldr" {
		g.Path = stressPick(r, "", "/")
		g.Domain = stressPick(r, "", removeValue)
	}
	g.Label = "lk"
	g.Cookies = slices.Clone(g.members)
	g.Expire = &ExpiryPolicy{Mode: modeLike, Like: leader}
	g.OnDelete = stressPick(r, "", onDeleteCascade)
	if r.Intn(3) == 0 {
		g.OnPartial = onPartialExpire
	}
	if r.Intn(4) == 0 {
		g.Secure = on()
		genStressPartitioned(r, g)
	}
	if r.Intn(2) == 0 {
		cfg.groups = append(cfg.groups, g)
		return
	}
	// The chain: ch1 and ch2 follow a cookie of the lk group, before it
	// in the config or after it.
	ch := &stressGroup{members: []string{"ch1", "ch2"}, like: stressPick(r, g.members...)}
	ch.Label = "ch"
	ch.Cookies = slices.Clone(ch.members)
	ch.Expire = &ExpiryPolicy{Mode: modeLike, Like: ch.like}
	if r.Intn(3) == 0 {
		ch.OnDelete = onDeleteCascade
	}
	if r.Intn(4) == 0 {
		ch.OnPartial = onPartialExpire
	}
	if r.Intn(10) == 0 {
		// lk follows ch1, which follows a cookie of lk: a loop.
		g.like, g.Expire.Like = "ch1", "ch1"
		cfg.mustReject = "a like chain that loops"
	}
	if r.Intn(2) == 0 {
		cfg.groups = append(cfg.groups, ch, g)
	} else {
		cfg.groups = append(cfg.groups, g, ch)
	}
	if cfg.owner(ch.like) != g || cfg.owner(g.like) != ch {
		// An earlier group's `*` claims the names: ch follows a cookie of
		// that group, which follows nothing, and nothing loops.
		cfg.mustReject = ""
	}
}

// genStressStampClash makes another group of cfg name a slide group's
// stamp, which the stamp would overwrite: a config error.
func genStressStampClash(r *rand.Rand, cfg *stressConfig) {
	for _, g := range cfg.groups {
		if g.stamp == "" {
			continue
		}
		other := cfg.groups[r.Intn(len(cfg.groups))]
		other.Cookies = append(other.Cookies, g.stamp)
		cfg.mustReject = "a group names the stamp " + g.stamp
		return
	}
}

// stressEffect is what a Set-Cookie field does to its cookie for the
// consistency rules.
type stressEffect uint8

const (
	// stressSetsNothing: a field Chromium and Firefox refuse (a control byte
	// other than a tab, name plus value over 4096 bytes); a field the
	// rules append after it decides in every engine.
	stressSetsNothing stressEffect = iota
	stressSets
	stressDeletes
)

// stressField is a generated Set-Cookie field.
type stressField struct {
	value  string
	name   string
	effect stressEffect
	// verbatim: the field passes byte for byte whatever the policy
	// (control bytes, a tab too, name plus value over 4096 bytes, over
	// 8 KiB).
	verbatim bool
}

// stressOdd are fields the engines read apart or refuse, for a cookie
// name, with what they do.
var stressOdd = []struct {
	field    func(name string) string
	effect   stressEffect
	verbatim bool
}{
	{func(n string) string { return n + "=a\x01b; Max-Age=60" }, stressSetsNothing, true},
	{func(n string) string { return n + "=" + strings.Repeat("v", 5000) + "; Max-Age=60" }, stressSetsNothing, true},
	{func(n string) string { return n + "=\x7f; Max-Age=0" }, stressSetsNothing, true},
	{func(n string) string { return n + "=; Max-Age=0; Path=/\x01" }, stressSetsNothing, true},
	{func(n string) string { return n + "=v\r\nX: y" }, stressSetsNothing, true},
	// Over 8 KiB: not read, but every engine stores it.
	{func(n string) string { return n + "=" + strings.Repeat("v", 9000) }, stressSets, true},
	// A tab: libsoup reads the field up to it, the others read on; a set
	// in every engine.
	{func(n string) string { return n + "=v; Path=/\t; Max-Age=60" }, stressSets, true},
	// A deletion up to the tab and after it: a deletion in every engine,
	// passed byte for byte (under a path or domain policy, a deletion at
	// the policies' place follows it).
	{func(n string) string { return n + "=; Max-Age=0; Path=/\t" }, stressDeletes, true},
	// A byte over 0x7f, where libsoup stops as at a tab: a set, and a
	// deletion, in every engine, passed byte for byte.
	{func(n string) string { return n + "=v; Path=/caf\u00e9; Max-Age=60" }, stressSets, true},
	{func(n string) string { return n + "=; Max-Age=0; X=\u00e9" }, stressDeletes, true},
	{func(n string) string { return n + "=v; Max-Age=+5" }, stressSets, false},
	{func(n string) string { return n + "=v; Max-Age=0; Max-Age=5" }, stressSets, false},
	{func(n string) string { return n + "=v; Max-Age=abc" }, stressSets, false},
	{func(n string) string { return n + "=v; Expires=garbage" }, stressSets, false},
	{func(n string) string { return n + "=v; Path=" + strings.Repeat("p", 1100) + "; Max-Age=30" }, stressSets, false},
	{func(n string) string { return n + "=v; Max-Age=1; Max-Age=999999999999999999999" }, stressSets, false},
	{func(n string) string { return " " + n + " =v;  Max-Age=7 ;" }, stressSets, false},
	// A Domain over 1024 bytes: Chromium and Firefox ignore it,
	// WebKitGTK refuses the field (see stressSoupRefused); passed byte
	// for byte. A log-out then gets its own deletion in a cascade.
	{func(n string) string { return n + "=; Max-Age=0; Domain=" + strings.Repeat("d", 1100) }, stressDeletes, true},
	{func(n string) string { return n + "=v; Max-Age=60; Domain=" + strings.Repeat("d", 1100) + "; Path=/" }, stressSets, true},
}

// genStressField returns a random field for cookie name: a set, a
// deletion, or one of stressOdd.
func genStressField(r *rand.Rand, name string) stressField {
	switch r.Intn(10) {
	case 0, 1, 2, 3:
		v := name + "=v" + strconv.Itoa(r.Intn(1000))
		// Lifetimes a `like` leader passes on: a Max-Age, an Expires (far
		// enough ahead for a follower's Max-Age to be cut to 2^31-1 s),
		// none.
		v += stressPick(r, "", "; Max-Age=3600", "; Expires=Wed, 01 Jan 2031 00:00:00 GMT", "; Max-Age=99999999", "; Max-Age=77", "; Expires=Thu, 01 Jan 2160 00:00:00 GMT")
		v += stressPick(r, "", "; Path=/", "; Path=/app")
		v += stressPick(r, "", "; Domain=example.com")
		v += stressPick(r, "", "; SameSite=Strict", "; SameSite=None; Secure", "; Secure", "; HttpOnly", "; SameSite=None")
		return stressField{value: v, name: name, effect: stressSets}
	case 4, 5, 6:
		v := stressPick(r, name+"=; Max-Age=0", name+"=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", name+"=x; Max-Age=-1", name+"=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
		v += stressPick(r, "", "; Path=/", "; Path=/app")
		v += stressPick(r, "", "; Domain=example.com")
		// A log-out Chromium and Firefox refuse for SameSite=None or
		// Partitioned without Secure, too.
		v += stressPick(r, "", "; SameSite=Strict", "; SameSite=None; Secure", "; Secure; Partitioned", "; SameSite=None", "; Partitioned")
		return stressField{value: v, name: name, effect: stressDeletes}
	}
	odd := stressOdd[r.Intn(len(stressOdd))]
	v := odd.field(name)
	if stressSecureOnly(name) && stressSoupRefused(v) {
		// Chromium and Firefox refuse it too (no Secure): no engine
		// stores it, which the model leaves to the unit tests.
		return stressField{value: name + "=; Max-Age=0", name: name, effect: stressDeletes}
	}
	return stressField{value: v, name: name, effect: odd.effect, verbatim: odd.verbatim}
}

// stressOpKind is one step of the handler a scenario runs.
type stressOpKind uint8

const (
	stressAdd         stressOpKind = iota // add Set-Cookie fields
	stressWriteHeader                     // WriteHeader(status)
	stressWrite                           // write a body
	stressFlushFails                      // a flush the writer below refuses
	stressHijackFails                     // a hijack the writer below refuses
	stressFlush                           // a flush that succeeds
	stressEarlyHints                      // WriteHeader(103)
	stressEditCookie                      // edit the request's Cookie header in place (request_header)
	stressSnapshot                        // record the Set-Cookie fields (changes nothing)
	stressReturnError                     // return an error, having written nothing
)

// stressOp is a step, with its fields, status, error or edited Cookie
// field.
type stressOp struct {
	kind   stressOpKind
	fields []stressField
	status int
	err    stressError
	cookie string
}

// stressError is an error a handler returns, and the status Caddy answers
// it with when no error route does.
type stressError struct {
	err    error
	status int
}

var stressErrors = []stressError{
	{caddyhttp.Error(http.StatusBadGateway, errors.New("dial")), http.StatusBadGateway},
	{errors.New("plain"), http.StatusInternalServerError},
	{caddyhttp.Error(http.StatusNotFound, nil), http.StatusNotFound},
}

// stressDate is a response's Date header and the instant lifetimes count
// from with it: the Date when it reads as one, else the proxy's clock;
// unread is set for a Date header the module cannot read.
type stressDate struct {
	header string
	base   int64
	unread bool
}

var stressDates = []stressDate{
	{testClock.Format(http.TimeFormat), testClock.Unix(), false},
	{"", testClock.Unix(), false},
	{testClock.Add(time.Hour).Format(http.TimeFormat), testClock.Add(time.Hour).Unix(), false},
	{"garbage date", testClock.Unix(), true},
	// Within a minute of the proxy's clock: an Expires leader still leads.
	{testClock.Add(-30 * time.Second).Format(http.TimeFormat), testClock.Add(-30 * time.Second).Unix(), false},
}

// stressCacheControl is a response's Cache-Control field, whether it lets
// a shared cache store the response, and the field once private is added.
type stressCacheControl struct {
	fields      []string
	shared      bool
	withPrivate []string
}

var stressCacheControls = []stressCacheControl{
	{nil, false, []string{"private"}},
	{[]string{"public, max-age=60"}, true, nil},
	{[]string{"max-age=0, s-maxage=10"}, true, nil},
	{[]string{"private"}, false, []string{"private"}},
	{[]string{"no-cache"}, false, []string{"no-cache, private"}},
	// A qualified private keeps only the fields it names from shared
	// caches: it is not the bare directive.
	{[]string{`private="Set-Cookie"`}, false, []string{`private="Set-Cookie", private`}},
}

// stressCDNControl is a CDN-Cache-Control field, and whether it lets a
// shared cache store the response.
type stressCDNControl struct {
	fields []string
	shared bool
}

var stressCDNControls = []stressCDNControl{
	{nil, false},
	{[]string{"max-age=60"}, true},
	{[]string{"private"}, false},
}

// stressScenario is a request and the handler behind the module: the
// steps it takes, and, when it fails on a server with error routes, the
// steps of the error route (the same module in front of it).
type stressScenario struct {
	https, http3 bool
	fetchSite    string
	cookies      []string // the Cookie fields; nil: none
	date         stressDate
	cacheControl stressCacheControl
	cdnControl   stressCDNControl
	errorRoutes  bool
	ops          []stressOp
	errorPage    []stressOp // run when the handler fails and errorRoutes
}

// failsToErrorRoutes reports whether the handler returns an error, having
// sent nothing, to a server with error routes.
func (s *stressScenario) failsToErrorRoutes() bool {
	return s.errorRoutes && len(s.ops) > 0 && s.ops[len(s.ops)-1].kind == stressReturnError
}

// String writes the scenario out, to replay it by hand.
func (s *stressScenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  https=%v http3=%v Sec-Fetch-Site=%q Date=%q Cache-Control=%q CDN-Cache-Control=%q errorRoutes=%v\n",
		s.https, s.http3, s.fetchSite, s.date.header, s.cacheControl.fields, s.cdnControl.fields, s.errorRoutes)
	fmt.Fprintf(&b, "  Cookie: %q\n", clip(s.cookies))
	writeStressOps(&b, s.ops)
	if s.failsToErrorRoutes() {
		b.WriteString("  error route:\n")
		writeStressOps(&b, s.errorPage)
	}
	return b.String()
}

// writeStressOps writes steps out, one a line.
func writeStressOps(b *strings.Builder, ops []stressOp) {
	for _, o := range ops {
		switch o.kind {
		case stressAdd:
			values := make([]string, len(o.fields))
			for i, f := range o.fields {
				values[i] = f.value
			}
			fmt.Fprintf(b, "  add Set-Cookie %q\n", clip(values))
		case stressWriteHeader:
			fmt.Fprintf(b, "  WriteHeader(%d)\n", o.status)
		case stressWrite:
			b.WriteString("  Write(\"body\")\n")
		case stressFlushFails:
			b.WriteString("  Flush (fails)\n")
		case stressHijackFails:
			b.WriteString("  Hijack (fails)\n")
		case stressFlush:
			b.WriteString("  Flush (succeeds)\n")
		case stressEarlyHints:
			b.WriteString("  WriteHeader(103)\n")
		case stressEditCookie:
			fmt.Fprintf(b, "  edit the request's Cookie[0] in place to %q\n", o.cookie)
		case stressReturnError:
			fmt.Fprintf(b, "  return %v\n", o.err.err)
		}
	}
}

// stressCookieValue returns a random value for the Cookie header.
func stressCookieValue(r *rand.Rand) string {
	switch r.Intn(13) {
	case 0:
		return ""
	case 1:
		return "a b"
	case 2:
		return "x\x01y"
	case 3:
		return strings.Repeat("v", 4100)
	case 4:
		return `"q"`
	case 5:
		return "x\ty"
	}
	return "c" + strconv.Itoa(r.Intn(1000))
}

// stressStampValue returns a random value for group g's stamp in the
// Cookie header: within the interval, at its edges, in the future, or
// not a time.
func stressStampValue(r *rand.Rand, g *stressGroup) string {
	now := testClock.Unix()
	switch r.Intn(12) {
	case 0:
		return strconv.FormatInt(now-r.Int63n(g.interval+1), 10)
	case 1:
		return strconv.FormatInt(now-g.interval, 10)
	case 2:
		return strconv.FormatInt(now-g.interval-1, 10)
	case 3: // a minute ahead: the most clock skew a stamp may show
		return strconv.FormatInt(now+60, 10)
	case 4:
		return strconv.FormatInt(now+61, 10)
	case 5:
		return "0"
	case 6:
		return "abc"
	case 7:
		return ""
	case 8:
		return "+" + strconv.FormatInt(now, 10)
	case 9:
		return "99999999999999999999"
	case 10:
		return strconv.FormatInt(now-5, 10)
	}
	return "-5"
}

// genStressCookies returns the Cookie fields of a random request: each
// member once, twice or not at all, each stamp likewise, and cookies of
// no group, in any order, in one field or two.
func genStressCookies(r *rand.Rand, cfg *stressConfig) []string {
	var pairs []string
	// Now and then a slide group's whole log-in, each member once with a
	// value a browser stores: what a re-issue needs.
	whole := r.Intn(4) == 0
	for _, g := range cfg.groups {
		for _, m := range g.members {
			switch k := r.Intn(20); {
			case whole && g.Slide != nil:
				pairs = append(pairs, m+"=c"+strconv.Itoa(r.Intn(1000)))
			case k < 7:
			case k < 18:
				pairs = append(pairs, m+"="+stressCookieValue(r))
			default:
				pairs = append(pairs, m+"="+stressCookieValue(r), m+"="+stressCookieValue(r))
			}
		}
	}
	for _, g := range cfg.groups {
		if g.stamp == "" {
			continue
		}
		switch k := r.Intn(10); {
		case k < 3:
		case k < 9:
			pairs = append(pairs, g.stamp+"="+stressStampValue(r, g))
		default:
			pairs = append(pairs, g.stamp+"="+stressStampValue(r, g), g.stamp+"="+stressStampValue(r, g))
		}
	}
	for i := r.Intn(3); i > 0; i-- {
		pairs = append(pairs, stressPick(r, "other=1", "nameless", " x = y ", "sid", "=v", "a b=c", "__host-h=1", "__http-x=1"))
	}
	if len(pairs) == 0 {
		return nil
	}
	r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	sep := stressPick(r, "; ", ";", " ;\t")
	if len(pairs) > 1 && r.Intn(4) == 0 {
		k := 1 + r.Intn(len(pairs)-1)
		return []string{strings.Join(pairs[:k], sep), strings.Join(pairs[k:], sep)}
	}
	return []string{strings.Join(pairs, sep)}
}

// stressFieldGen generates the Set-Cookie fields of a scenario's handler.
type stressFieldGen struct {
	r     *rand.Rand
	cfg   *stressConfig
	names []string // the names a field may have
}

func newStressFieldGen(r *rand.Rand, cfg *stressConfig) *stressFieldGen {
	g := &stressFieldGen{r: r, cfg: cfg, names: []string{"other", "xq"}}
	for _, grp := range cfg.groups {
		g.names = append(g.names, grp.members...)
		if grp.stamp != "" {
			g.names = append(g.names, grp.stamp)
		}
		if grp.like != "" && !slices.Contains(g.names, grp.like) {
			g.names = append(g.names, grp.like)
		}
	}
	return g
}

// fields returns up to most fields: random ones, a log-in of a whole
// group now and then, and, in a config with `expire like` groups, often
// one of their leaders.
func (g *stressFieldGen) fields(most int) []stressField {
	r := g.r
	var out []stressField
	for range r.Intn(most + 1) {
		switch k := r.Intn(10); {
		case k < 2:
			grp := g.cfg.groups[r.Intn(len(g.cfg.groups))]
			for _, m := range grp.members { // none for a lock-down group
				v := m + "=in" + strconv.Itoa(r.Intn(100)) + "; Path=/; Max-Age=3600"
				out = append(out, stressField{value: v, name: m, effect: stressSets})
			}
		case k < 4 && len(g.leaders()) > 0:
			leaders := g.leaders()
			out = append(out, genStressField(r, leaders[r.Intn(len(leaders))]))
		default:
			out = append(out, genStressField(r, g.names[r.Intn(len(g.names))]))
		}
	}
	return out
}

// followers returns a set of each `expire like` group's cookies but its
// leader.
func (g *stressFieldGen) followers() []stressField {
	var out []stressField
	for _, grp := range g.cfg.groups {
		for _, m := range grp.members {
			if grp.like != "" && m != grp.like {
				v := m + "=f" + strconv.Itoa(g.r.Intn(100)) + stressPick(g.r, "", "; Max-Age=3600", "; Path=/")
				out = append(out, stressField{value: v, name: m, effect: stressSets})
			}
		}
	}
	return out
}

// members returns the first member of each group that has members.
func (g *stressFieldGen) members() []string {
	var names []string
	for _, grp := range g.cfg.groups {
		if len(grp.members) > 0 {
			names = append(names, grp.members[0])
		}
	}
	return names
}

// leaders are the leaders of the config's `expire like` groups.
func (g *stressFieldGen) leaders() []string {
	var names []string
	for _, grp := range g.cfg.groups {
		if grp.like != "" {
			names = append(names, grp.like)
		}
	}
	return names
}

// genStressScenario returns a random request and handler for cfg. The
// handler adds fields, may edit the request's Cookie header, send a 103,
// try a flush or a hijack that fails, and then writes its response in
// one of several orders, or returns an error.
func genStressScenario(r *rand.Rand, cfg *stressConfig) *stressScenario {
	s := &stressScenario{https: r.Intn(2) == 0, http3: r.Intn(6) == 0}
	s.fetchSite = stressPick(r, "", "", "same-origin", "cross-site", "none")
	s.date = stressDates[r.Intn(len(stressDates))]
	// The first of each list, no field, is the most frequent.
	s.cacheControl = stressCacheControls[max(0, r.Intn(8)-2)]
	s.cdnControl = stressCDNControls[max(0, r.Intn(10)-7)]
	s.cookies = genStressCookies(r, cfg)
	gen := newStressFieldGen(r, cfg)
	add := func(ops []stressOp, fields []stressField) []stressOp {
		if len(fields) == 0 {
			return ops
		}
		return append(ops, stressOp{kind: stressAdd, fields: fields})
	}
	ending := r.Intn(8)
	// An error with error routes, half the time with a Cookie header
	// edited before it: the error route reads the header so.
	s.errorRoutes = ending == 4 && r.Intn(3) > 0
	editOdds := 5
	if s.errorRoutes {
		editOdds = 2
	}
	ops := add(nil, gen.fields(4))
	if r.Intn(4) == 0 {
		// The followers alone: their leader is then the one the response
		// ends with, the app's, a stamp or a slide re-issue.
		ops = add(ops, gen.followers())
	}
	if r.Intn(editOdds) == 0 {
		// As request_header would for the upstream: the first field
		// becomes one member's pair alone.
		names := gen.members()
		ops = append(ops, stressOp{kind: stressEditCookie, cookie: names[r.Intn(len(names))] + "=edited"})
	}
	if r.Intn(6) == 0 {
		ops = append(ops, stressOp{kind: stressEarlyHints})
		ops = add(ops, gen.fields(2))
	}
	switch r.Intn(6) {
	case 0:
		ops = append(ops, stressOp{kind: stressFlushFails})
		ops = add(ops, gen.fields(2))
	case 1:
		ops = append(ops, stressOp{kind: stressHijackFails})
		ops = add(ops, gen.fields(2))
	case 2:
		ops = append(ops, stressOp{kind: stressFlushFails}, stressOp{kind: stressHijackFails})
	}
	status := []int{200, 200, 204, 302, 404, 500}[r.Intn(6)]
	switch ending {
	case 0, 1: // WriteHeader, fields, Write
		ops = append(ops, stressOp{kind: stressWriteHeader, status: status}, stressOp{kind: stressSnapshot})
		ops = add(ops, gen.fields(2))
		ops = append(ops, stressOp{kind: stressWrite}, stressOp{kind: stressSnapshot})
	case 2: // Write, then a field after the body
		ops = append(ops, stressOp{kind: stressWrite}, stressOp{kind: stressSnapshot})
		ops = add(ops, gen.fields(1))
	case 3: // WriteHeader, fields, no body
		ops = append(ops, stressOp{kind: stressWriteHeader, status: status}, stressOp{kind: stressSnapshot})
		ops = add(ops, gen.fields(2))
	case 4: // an error, having written nothing
		ops = append(ops, stressOp{kind: stressReturnError, err: stressErrors[r.Intn(len(stressErrors))]})
		if s.errorRoutes {
			s.errorPage = genStressErrorPage(r, gen)
		}
	case 5: // WriteHeader, Write, a field, Write (on HTTP/3, the header goes out now)
		ops = append(ops, stressOp{kind: stressWriteHeader, status: status}, stressOp{kind: stressWrite}, stressOp{kind: stressSnapshot})
		ops = add(ops, gen.fields(1))
		ops = append(ops, stressOp{kind: stressWrite})
	case 6: // a flush that succeeds, fields, Write
		ops = append(ops, stressOp{kind: stressFlush}, stressOp{kind: stressSnapshot})
		ops = add(ops, gen.fields(2))
		ops = append(ops, stressOp{kind: stressWrite})
	case 7: // nothing written: the implicit 200
	}
	s.ops = ops
	return s
}

// genStressErrorPage returns the steps of an error route: fields, and a
// status (or the implicit 200) with a body or without.
func genStressErrorPage(r *rand.Rand, gen *stressFieldGen) []stressOp {
	var ops []stressOp
	if fields := gen.fields(2); len(fields) > 0 {
		ops = append(ops, stressOp{kind: stressAdd, fields: fields})
	}
	switch r.Intn(3) {
	case 0:
		ops = append(ops, stressOp{kind: stressWriteHeader, status: []int{200, 404, 502}[r.Intn(3)]}, stressOp{kind: stressWrite})
	case 1:
		ops = append(ops, stressOp{kind: stressWrite})
	}
	return ops
}
