package cookienormalizer

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// This file is a model-based simulation of one browser in front of a
// legacy app behind the module: a small cookie jar that stores as RFC
// 6265bis §5.6 says (by name, domain and path; Max-Age wins over Expires;
// Max-Age <= 0 or an Expires in the past deletes; session cookies live
// until a browser restart that drops them), a fake clock the module's
// clock hook and the app's Date header both follow, random two- and
// three-member groups and random app behaviours (log in with the
// inconsistent lifetimes legacy apps use, renew one member, set nothing,
// log out one member or all), time steps and browser restarts. Every
// request goes through Handler.ServeHTTP with the jar's cookies, and the
// response's Set-Cookie fields go back into the jar at the fake time.
//
// The invariant: the jar holds every member of the group or none, and
// when it holds them all they expire together (the same second, or all
// session cookies). It is allowed to break only in the situations the
// README documents (jarSimException), each counted; everything else is a
// finding. Besides: a log-out the app sends leaves no member when the
// group has on_delete cascade, an app's deletion never comes out live,
// a partial jar is healed by on_partial expire where the README says it
// acts, and with slide an active user's members never have less than
// lifetime minus interval left, and an idle one's end with the lifetime.
//
// JARSIM_SEED and JARSIM_RUNS run more (or one particular) simulation.

// jarSimHost is the site's host; every request is HTTPS to it.
const jarSimHost = "example.com"

// jarSimCookie is one cookie in the simulated jar.
type jarSimCookie struct {
	name, value  string
	domain, path string
	hostOnly     bool
	session      bool
	expiry       int64 // Unix seconds; unused for session cookies
	created      int
}

// jarSim is the simulated browser's cookie store.
type jarSim struct {
	cookies map[string]*jarSimCookie // by name, domain and path
	serial  int
	// fromDate: an Expires counts from the response's Date, as Chromium
	// and Firefox read it; else it is a time on the browser's clock, as
	// RFC 6265bis and libsoup (WebKitGTK) read it.
	fromDate bool
	// host is the site's host; "" is jarSimHost.
	host string
}

func newJarSim() *jarSim { return &jarSim{cookies: map[string]*jarSimCookie{}} }

// jarSimKey identifies a cookie in the jar: browsers keep one per name,
// domain, host-only flag and path (RFC 6265bis §5.7), so a host-only
// cookie and one with a Domain equal to the host are two cookies.
func jarSimKey(name, domain string, hostOnly bool, path string) string {
	if !hostOnly {
		domain = "." + domain
	}
	return name + "\x00" + domain + "\x00" + path
}

// evict drops the cookies that expired at or before now.
func (j *jarSim) evict(now int64) {
	for k, c := range j.cookies {
		if !c.session && c.expiry <= now {
			delete(j.cookies, k)
		}
	}
}

// restart is a browser restart: Safari drops session cookies, Chrome and
// Firefox restoring the last session keep them.
func (j *jarSim) restart(dropSession bool) {
	if !dropSession {
		return
	}
	for k, c := range j.cookies {
		if c.session {
			delete(j.cookies, k)
		}
	}
}

// header is the request's Cookie header for path: the cookies whose path
// matches, longer paths first, then older first (RFC 6265bis §5.7.3).
func (j *jarSim) header(path string, now int64) string {
	j.evict(now)
	var cs []*jarSimCookie
	for _, c := range j.cookies {
		if c.path == "/" || path == c.path || strings.HasPrefix(path, strings.TrimSuffix(c.path, "/")+"/") {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *jarSimCookie) int {
		if len(a.path) != len(b.path) {
			return len(b.path) - len(a.path)
		}
		return a.created - b.created
	})
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.name + "=" + c.value)
	}
	return b.String()
}

// set applies one Set-Cookie field received at now for a request to
// path, as RFC 6265bis §5.6 stores it (the parts this simulation needs).
func (j *jarSim) set(field, reqPath string, now, date int64) {
	parts := strings.Split(field, ";")
	name, value, ok := strings.Cut(parts[0], "=")
	if !ok {
		return // a nameless cookie: never a member here
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if name == "" {
		return
	}
	var (
		maxAge, expires       int64
		haveMaxAge, haveExpir bool
		domain, path          string
	)
	for _, a := range parts[1:] {
		k, v, _ := strings.Cut(a, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "max-age":
			// §5.6.2: a leading digit or '-', then digits; else ignored.
			if v == "" || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			maxAge, haveMaxAge = n, true
		case "expires":
			t, err := http.ParseTime(v)
			if err != nil {
				continue
			}
			expires, haveExpir = t.Unix(), true
		case "domain":
			domain = strings.ToLower(strings.TrimPrefix(v, "."))
		case "path":
			path = v
		}
	}
	if path == "" || path[0] != '/' {
		path = "/" // default-path of "/page"
		if i := strings.LastIndexByte(reqPath, '/'); i > 0 {
			path = reqPath[:i]
		}
	}
	host := j.host
	if host == "" {
		host = jarSimHost
	}
	c := &jarSimCookie{name: name, value: value, path: path, domain: domain}
	if domain == "" {
		c.domain, c.hostOnly = host, true
	} else if domain != host && !strings.HasSuffix(host, "."+domain) {
		return // not for this host
	}
	switch {
	case haveMaxAge:
		if maxAge <= 0 {
			c.expiry = 0
		} else {
			c.expiry = now + maxAge
		}
	case haveExpir && j.fromDate:
		c.expiry = now + expires - date
	case haveExpir:
		c.expiry = expires
	default:
		c.session = true
	}
	k := jarSimKey(name, c.domain, c.hostOnly, path)
	if !c.session && c.expiry <= now {
		delete(j.cookies, k)
		return
	}
	if old, ok := j.cookies[k]; ok {
		c.created = old.created // §5.7: the creation time is kept
	} else {
		j.serial++
		c.created = j.serial
	}
	j.cookies[k] = c
}

// named returns the jar's cookies named name.
func (j *jarSim) named(name string) []*jarSimCookie {
	var out []*jarSimCookie
	for _, c := range j.cookies {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// String lists the jar, sorted, with each cookie's expiry relative to
// now.
func (j *jarSim) String(now int64) string {
	var out []string
	for _, c := range j.cookies {
		life := "session"
		if !c.session {
			life = fmt.Sprintf("+%ds", c.expiry-now)
		}
		out = append(out, fmt.Sprintf("%s=%s(%s%s,%s)", c.name, c.value, c.domain, c.path, life))
	}
	slices.Sort(out)
	return "{" + strings.Join(out, " ") + "}"
}

// jarSimConfig is a generated group.
type jarSimConfig struct {
	members  []string
	expire   string // "12h", "session" or "like sid"
	lifetime int64  // seconds, for a fixed expire
	cascade  bool
	partial  bool
	interval int64 // slide interval, 0 without slide
}

func (c *jarSimConfig) directive() string {
	var b strings.Builder
	b.WriteString("cookie_normalizer " + strings.Join(c.members, " ") + " {\n")
	b.WriteString("\texpire " + c.expire + "\n")
	if c.cascade {
		b.WriteString("\ton_delete cascade\n")
	}
	if c.partial {
		b.WriteString("\ton_partial expire\n")
	}
	if c.interval > 0 {
		fmt.Fprintf(&b, "\tslide %ds\n\tpath /\n\tdomain remove\n\tsecure on\n\thttponly off\n\tsamesite lax\n\tpartitioned off\n", c.interval)
	}
	b.WriteString("}")
	return b.String()
}

// jarSimStamp is the stamp's name: the unlabelled group's first cookie.
const jarSimStamp = "cn_slide_sid"

func genJarSimConfig(r *rand.Rand) *jarSimConfig {
	c := &jarSimConfig{members: []string{"sid", "uid"}}
	if r.Intn(2) == 0 {
		c.members = append(c.members, "tok")
	}
	c.cascade = r.Intn(5) != 0
	c.partial = r.Intn(4) != 0
	switch r.Intn(4) {
	case 0:
		c.expire = "session"
	case 1:
		c.expire = "like sid"
	default:
		c.lifetime = []int64{3600, 43200, 2 * 86400, 7 * 86400}[r.Intn(4)]
		c.expire = strconv.FormatInt(c.lifetime, 10) + "s"
		if r.Intn(2) == 0 {
			c.interval = c.lifetime / int64(2+r.Intn(10))
		}
	}
	return c
}

// jarSimApp is what the legacy app does on one request.
type jarSimApp int

const (
	appNothing jarSimApp = iota
	appLogin
	appRenew
	appLogoutOne
	appLogoutAll
)

var jarSimAppNames = [...]string{"nothing", "log in", "renew one", "log out one", "log out all"}

// appField is the app's field setting member name at now, with the
// inconsistent lifetimes legacy apps use: sid a fixed Max-Age, uid a
// session cookie, tok an absolute Expires.
func appField(name, value string, now int64, sidLife, tokLife int64, sidExpires bool) string {
	switch {
	case name == "sid" && sidExpires:
		return "sid=" + value + "; Expires=" + time.Unix(now+sidLife, 0).UTC().Format(http.TimeFormat) + "; Path=/; HttpOnly; Secure; SameSite=Lax"
	case name == "sid":
		return fmt.Sprintf("sid=%s; Max-Age=%d; Path=/; HttpOnly; Secure; SameSite=Lax", value, sidLife)
	case name == "uid":
		return "uid=" + value + "; Path=/; Secure; SameSite=Lax"
	default:
		return name + "=" + value + "; Expires=" + time.Unix(now+tokLife, 0).UTC().Format(http.TimeFormat) + "; Path=/; Secure; SameSite=Lax"
	}
}

// appDeletion is the app's log-out field for name, in one of the two
// forms apps use.
func appDeletion(name string, epoch bool) string {
	if epoch {
		return name + "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; SameSite=Lax"
	}
	return name + "=; Max-Age=0; Path=/; Secure; SameSite=Lax"
}

// jarSimStep is one request's record, for a failure's trace.
type jarSimStep struct {
	at                  int64
	event               string
	cookie              string
	app, out            []string
	jarAfter            string
	crossSite, sharable bool
}

func (s jarSimStep) String() string {
	if s.app == nil && s.out == nil && s.cookie == "" && !strings.HasPrefix(s.event, "request") {
		return fmt.Sprintf("t=%d %s -> jar %s", s.at, s.event, s.jarAfter)
	}
	return fmt.Sprintf("t=%d %s (cross-site %t, public %t)\n\tCookie: %s\n\tapp: %q\n\tout: %q\n\tjar: %s",
		s.at, s.event, s.crossSite, s.sharable, s.cookie, s.app, s.out, s.jarAfter)
}

// jarSimException names a documented situation in which the group may
// stay split or drift apart.
type jarSimException string

const (
	// README, on_partial expire: "An app that sets one member on every
	// response (renewing its session cookie) keeps this rule from acting
	// on a jar that lacks another member: every response sets a member.
	// Such a half log-in lasts until the app stops renewing or the user
	// logs out". Without slide nothing re-issues the members a renewal
	// leaves out, so their expiries drift apart.
	excRenewal jarSimException = "renewal of some members, no slide"
	// README, slide: the others are re-issued beside a renewal "when the
	// request carries them as above (once each, ...)", and on_partial:
	// "slide cannot re-issue a member the browser no longer sends".
	excRenewalIncomplete jarSimException = "renewal under slide, request lacks a member"
	// README, expire like: "No leader, ...: the followers are left
	// alone", and Limits: "An expire like follower does not slide: it
	// follows its leader on the responses that set the follower."
	excLikeNoLeader jarSimException = "expire like: follower set without its leader"
	// README, on_partial expire: "A request the browser marks as
	// cross-site (Sec-Fetch-Site: cross-site ...) gets no partial expiry
	// at all".
	excCrossSite jarSimException = "cross-site request: no partial expiry"
	// README, on_partial expire: "a response whose Cache-Control has
	// public or s-maxage gets none (... the next page that is not for
	// shared caches heals the jar)", and slide: never re-issued "when the
	// response may be stored by a shared cache".
	excSharable jarSimException = "response a shared cache may store"
	// README, expire like: "An Expires leader counts as read differently
	// when the response's Date is more than a minute from the proxy's
	// clock: Chromium and Firefox count an Expires from the Date, libsoup
	// (WebKitGTK) from its own clock, so a follower's Max-Age would
	// outlive the leader there by the difference." Beyond a minute the
	// followers are left alone; within one, a jar that reads Expires on
	// its own clock sees them apart by the difference.
	excLikeSkew jarSimException = "expire like: Expires leader, app clock skewed"
	// A limitation the README states (Limits): an app whose clock (Date)
	// is slow writes an Expires after its Date and not after the proxy's
	// clock. The module counts that member as deleted (README, the rule
	// of safety: "an Expires not after the proxy's own clock is a
	// deletion too"), while Chromium and Firefox, which count an Expires
	// from the Date (README, expire like), keep the cookie. Under
	// on_delete cascade the module appends that member's own deletion
	// too, and the group goes in every engine
	// (TestSlowAppClockRenewalDeletesTheGroup); on a log-in, or without
	// cascade, the group stays split. The run ends there: what follows
	// inherits the split.
	knownPastExpires jarSimException = "app's Expires after its Date, not after the proxy's clock (README, Limits)"
	// The group has no on_delete cascade: nothing promises that a
	// log-out of one member clears the others.
	excNoCascade jarSimException = "log-out of one member without on_delete cascade"
	// The group has no on_partial expire: a jar split by time or a
	// restart stays split (nothing in the README promises otherwise).
	excNoPartial jarSimException = "split jar, no on_partial expire"
)

// jarSim runs one simulation. Its findings are violations outside the
// documented exceptions.
type jarSimRun struct {
	cfg        *jarSimConfig
	h          *Handler
	jar        *jarSim
	now        int64
	r          *rand.Rand
	sidLife    int64
	tokLife    int64
	steps      []jarSimStep
	findings   []string
	exceptions map[jarSimException]int
	serial     int
	skew       int64 // the app's clock (its Date header) minus the proxy's
	sidExpires bool  // the app sets sid with Expires, not Max-Age
	known      bool  // a known finding ended the run
}

// state reads the group in the jar: how many members it holds (counting
// each name once), and whether they expire together.
func (s *jarSimRun) state() (held int, together bool, dup bool) { return s.stateWithin(1) }

// stateWithin is state with expiries together when at most tol seconds
// apart.
func (s *jarSimRun) stateWithin(tol int64) (held int, together bool, dup bool) {
	s.jar.evict(s.now)
	together = true
	var first *jarSimCookie
	for _, m := range s.cfg.members {
		cs := s.jar.named(m)
		if len(cs) > 1 {
			dup = true
		}
		if len(cs) == 0 {
			continue
		}
		held++
		c := cs[0]
		if first == nil {
			first = c
			continue
		}
		if c.session != first.session || !c.session && absDiff(c.expiry, first.expiry) > tol {
			together = false
		}
	}
	return held, together, dup
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// consistent reports whether the jar holds all members or none, and
// they expire together.
func (s *jarSimRun) consistent() bool {
	held, together, dup := s.state()
	return !dup && (held == 0 || held == len(s.cfg.members) && together)
}

// exactlyConsistent is consistent with expiries in the same second: a
// time step may fall between expiries a second apart.
func (s *jarSimRun) exactlyConsistent() bool {
	held, together, dup := s.stateWithin(0)
	return !dup && (held == 0 || held == len(s.cfg.members) && together)
}

func (s *jarSimRun) finding(format string, args ...any) {
	s.findings = append(s.findings, fmt.Sprintf(format, args...))
}

func (s *jarSimRun) trace() string {
	var b strings.Builder
	b.WriteString("config:\n" + s.cfg.directive() + "\n")
	fmt.Fprintf(&b, "app lifetimes: sid %d s (as Expires %t), uid session, tok Expires=now+%d; app clock %+ds; jar counts Expires from Date %t\n", s.sidLife, s.sidExpires, s.tokLife, s.skew, s.jar.fromDate)
	for _, st := range s.steps {
		b.WriteString(st.String() + "\n")
	}
	return b.String()
}

// request sends one request with the app doing what; the checks follow.
func (s *jarSimRun) request(what jarSimApp, crossSite, sharable bool) {
	before := s.consistent()
	heldBefore, _, dupBefore := s.state()
	cookie := s.jar.header("/page", s.now)
	stampBefore := ""
	if cs := s.jar.named(jarSimStamp); len(cs) == 1 {
		stampBefore = cs[0].value
	}
	sent := jarSimPairs(cookie)
	n := len(s.cfg.members)
	carried := 0
	for _, m := range s.cfg.members {
		if sent[m] > 0 {
			carried++
		}
	}
	carriedOnce := !dupBefore && carried == n
	for _, m := range s.cfg.members {
		if sent[m] != 1 {
			carriedOnce = false
		}
	}

	var app []string
	var set, deleted []string
	switch what {
	case appLogin:
		if s.r.Intn(4) == 0 {
			// Some frameworks delete the old session cookie before
			// setting the new one, in the same response.
			app = append(app, appDeletion("sid", s.r.Intn(2) == 0))
		}
		for _, m := range s.cfg.members {
			s.serial++
			app = append(app, appField(m, "v"+strconv.Itoa(s.serial), s.now+s.skew, s.sidLife, s.tokLife, s.sidExpires))
			set = append(set, m)
		}
	case appRenew:
		// The app renews a member the browser sent it, with the value it
		// had; with none, it has nothing to renew.
		var held []string
		for _, m := range s.cfg.members {
			if sent[m] > 0 {
				held = append(held, m)
			}
		}
		if len(held) == 0 {
			what = appNothing
			break
		}
		m := held[s.r.Intn(len(held))]
		app = append(app, appField(m, s.jar.named(m)[0].value, s.now+s.skew, s.sidLife, s.tokLife, s.sidExpires))
		set = append(set, m)
	case appLogoutOne:
		m := s.cfg.members[s.r.Intn(n)]
		app = append(app, appDeletion(m, s.r.Intn(2) == 0))
		deleted = append(deleted, m)
	case appLogoutAll:
		for _, m := range s.cfg.members {
			app = append(app, appDeletion(m, s.r.Intn(2) == 0))
			deleted = append(deleted, m)
		}
	}

	req := httptest.NewRequest(http.MethodGet, "https://"+jarSimHost+"/page", nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if crossSite {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	} else {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	date := time.Unix(s.now+s.skew, 0).UTC().Format(http.TimeFormat)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Date", date)
		if sharable {
			w.Header().Set("Cache-Control", "public, max-age=60")
		}
		for _, f := range app {
			w.Header().Add("Set-Cookie", f)
		}
		w.WriteHeader(http.StatusOK)
		return nil
	})
	rec := httptest.NewRecorder()
	if err := s.h.ServeHTTP(rec, req, next); err != nil {
		s.finding("ServeHTTP: %v", err)
		return
	}
	out := rec.Header().Values("Set-Cookie")
	for _, f := range out {
		s.jar.set(f, "/page", s.now, s.now+s.skew)
	}
	st := jarSimStep{at: s.now, event: "request: app " + jarSimAppNames[what], cookie: cookie, app: app, out: out, jarAfter: s.jar.String(s.now), crossSite: crossSite, sharable: sharable}
	s.steps = append(s.steps, st)

	held, together, dup := s.state()
	after := !dup && (held == 0 || held == n && together)

	// An app's deletion never comes out live.
	for _, m := range deleted {
		if len(s.jar.named(m)) > 0 {
			s.finding("the app deleted %s and the jar holds it after the response", m)
		}
	}
	if s.pastExpires(set) && !after {
		if s.cfg.cascade && what != appLogin {
			// The module deletes such a member itself beside the
			// cascade's deletions.
			s.finding("a renewal some engines read as a deletion, under on_delete cascade, left the group split")
		}
		s.exception(knownPastExpires)
		s.known = true
		return
	}
	// A log-out the app sent (and no member set) leaves no member, with
	// on_delete cascade.
	if len(deleted) > 0 && len(set) == 0 && s.cfg.cascade && held > 0 {
		s.finding("log-out of %v under on_delete cascade left %d member(s)", deleted, held)
	}
	// A log-in gives the group one expiry.
	if what == appLogin && !after {
		if s.pastExpires(set) {
			s.exception(knownPastExpires)
			s.known = true
			return
		}
		if s.likeSkewed() {
			s.exception(excLikeSkew)
			return
		}
		s.finding("log-in left the group split or drifting")
	}
	// on_partial expire heals a partial jar where the README says it acts.
	partialJar := carried > 0 && carried < n
	if s.cfg.partial && partialJar && len(set) == 0 && len(deleted) == 0 && !crossSite && !sharable {
		if held != 0 {
			s.finding("on_partial expire: request carried %d of %d members, response left %d", carried, n, held)
		}
	}
	// slide: an active user's members keep at least lifetime minus
	// interval; a due re-issue (no stamp, one older than the interval,
	// or the app renewing a member) gives all of them the lifetime from
	// now.
	// (A member set with an Expires some engine reads as past is that
	// member's log-out for the module, and ends the log-in.)
	if s.cfg.interval > 0 && carriedOnce && len(deleted) == 0 && !sharable && what != appLogin && !s.pastExpires(set) {
		due := what == appRenew || sent[jarSimStamp] != 1
		if at, err := strconv.ParseInt(stampBefore, 10, 64); err != nil || s.now-at > s.cfg.interval {
			due = true
		}
		for _, m := range s.cfg.members {
			cs := s.jar.named(m)
			switch {
			case len(cs) != 1:
				s.finding("slide: request carried every member once; the jar after holds %d %s", len(cs), m)
			case cs[0].session || cs[0].expiry < s.now+s.cfg.lifetime-s.cfg.interval-1:
				s.finding("slide: %s has %ds left, less than lifetime %d minus interval %d", m, cs[0].expiry-s.now, s.cfg.lifetime, s.cfg.interval)
			case due && absDiff(cs[0].expiry, s.now+s.cfg.lifetime) > 1:
				s.finding("slide: a due re-issue left %s with %ds, not the lifetime %d", m, cs[0].expiry-s.now, s.cfg.lifetime)
			}
		}
	}
	// A fixed lifetime is never exceeded: a user idle for longer than
	// it since the last response has no member left.
	if s.cfg.lifetime > 0 {
		for _, m := range s.cfg.members {
			for _, c := range s.jar.named(m) {
				if c.session || c.expiry > s.now+s.cfg.lifetime+1 {
					s.finding("%s outlives the group's lifetime %ds (session %t, +%ds)", m, s.cfg.lifetime, c.session, c.expiry-s.now)
				}
			}
		}
	}

	if after || len(s.findings) > 0 {
		return
	}
	// The jar is split or drifting after this response: a documented
	// situation must account for it.
	switch {
	case !before && heldBefore > 0 && (sharable):
		s.exception(excSharable)
	case !before && heldBefore > 0 && crossSite:
		s.exception(excCrossSite)
	case !before && len(set) == 0 && len(deleted) == 0 && !s.cfg.partial:
		s.exception(excNoPartial)
	case len(deleted) > 0 && len(set) == 0 && !s.cfg.cascade:
		s.exception(excNoCascade)
	case slices.Contains(set, "sid") && s.likeSkewed():
		s.exception(excLikeSkew)
	case len(set) > 0 && len(set) < n && s.cfg.expire == "like sid" && !slices.Contains(set, "sid"):
		s.exception(excLikeNoLeader)
	case len(set) > 0 && len(set) < n && s.cfg.interval == 0:
		s.exception(excRenewal)
	case len(set) > 0 && len(set) < n && (!carriedOnce || sharable):
		s.exception(excRenewalIncomplete)
	case len(set) > 0 && len(set) < n && sharable:
		s.exception(excSharable)
	case !before && len(set) > 0 && len(set) < n:
		// A renewal on a jar already apart (no slide, or one it cannot
		// act on): the split it inherits goes on.
		s.exception(excRenewal)
	case !before && partialJar && len(set) == 0 && len(deleted) == 0 && sharable:
		s.exception(excSharable)
	case !before && !partialJar && heldBefore == n && len(set) == 0 && len(deleted) == 0:
		// Every member present but expiring apart, a response that sets
		// nothing: no rule acts on expiries, and the drift goes on (it
		// began with one of the exceptions above).
		s.exception("drift carried on (begun by an exception above)")
	default:
		s.finding("the jar is split or drifting after the response, outside every documented exception")
	}
}

// pastExpires reports whether the app set a member of set with an
// Expires not after the proxy's clock (see excPastExpires).
func (s *jarSimRun) pastExpires(set []string) bool {
	for _, m := range set {
		switch {
		case m == "tok" && s.skew+s.tokLife <= 0:
			return true
		case m == "sid" && s.sidExpires && s.skew+s.sidLife <= 0:
			return true
		}
	}
	return false
}

// likeSkewed reports whether the group follows an Expires leader under a
// skewed app clock the way excLikeSkew describes.
func (s *jarSimRun) likeSkewed() bool {
	if s.cfg.expire != "like sid" || !s.sidExpires || s.skew == 0 {
		return false
	}
	return s.skew > 60 || s.skew < -60 || !s.jar.fromDate
}

func (s *jarSimRun) exception(e jarSimException) {
	s.exceptions[e]++
}

// jarSimPairs counts the Cookie header's pairs by name.
func jarSimPairs(h string) map[string]int {
	out := map[string]int{}
	for p := range strings.SplitSeq(h, ";") {
		if name, _, ok := strings.Cut(strings.TrimSpace(p), "="); ok {
			out[name]++
		}
	}
	return out
}

// advance moves the clock; a consistent jar stays consistent (members
// that expire together go together).
func (s *jarSimRun) advance(d int64) {
	before := s.exactlyConsistent()
	s.now += d
	s.jar.evict(s.now)
	s.steps = append(s.steps, jarSimStep{at: s.now, event: fmt.Sprintf("time +%ds", d), jarAfter: s.jar.String(s.now)})
	if before && !s.consistent() {
		s.finding("a time step split a consistent jar")
	}
}

func (s *jarSimRun) restart(drop bool) {
	before := s.consistent()
	s.jar.restart(drop)
	s.steps = append(s.steps, jarSimStep{at: s.now, event: fmt.Sprintf("browser restart (drop session cookies %t)", drop), jarAfter: s.jar.String(s.now)})
	if before && !s.consistent() {
		s.finding("a restart split a consistent jar")
	}
}

// jarSimStepSize is a random time step: seconds to days.
func jarSimStepSize(r *rand.Rand) int64 {
	switch r.Intn(4) {
	case 0:
		return 1 + r.Int63n(59)
	case 1:
		return 60 * (1 + r.Int63n(59))
	case 2:
		return 3600 * (1 + r.Int63n(23))
	default:
		return 86400 * (1 + r.Int63n(3))
	}
}

// runJarSim runs one simulation from seed.
func runJarSim(t *testing.T, seed int64, steps int) *jarSimRun {
	r := rand.New(rand.NewSource(seed))
	cfg := genJarSimConfig(r)
	h, err := hostileHandler(t, cfg.directive())
	if err != nil {
		t.Fatalf("seed %d: loading\n%s\n%v", seed, cfg.directive(), err)
	}
	s := &jarSimRun{cfg: cfg, h: h, jar: newJarSim(), now: testClock.Unix(), r: r, exceptions: map[jarSimException]int{}}
	s.sidLife = []int64{600, 3600, 43200, 3 * 86400}[r.Intn(4)]
	s.tokLife = []int64{1800, 86400, 30 * 86400}[r.Intn(3)]
	s.sidExpires = r.Intn(3) == 0
	s.jar.fromDate = r.Intn(2) == 0
	switch r.Intn(6) {
	case 0:
		s.skew = r.Int63n(121) - 60
	case 1:
		s.skew = 3600 * (r.Int63n(7) - 3)
	}
	h.norm.now = func() time.Time { return time.Unix(s.now, 0) }
	for range steps {
		switch k := r.Intn(100); {
		case k < 25:
			s.advance(jarSimStepSize(r))
		case k < 32:
			s.restart(r.Intn(3) != 0)
		default:
			var what jarSimApp
			switch k := r.Intn(100); {
			case k < 18:
				what = appLogin
			case k < 40:
				what = appRenew
			case k < 80:
				what = appNothing
			case k < 92:
				what = appLogoutOne
			default:
				what = appLogoutAll
			}
			s.request(what, r.Intn(25) == 0, r.Intn(25) == 0)
		}
		if len(s.findings) > 0 || s.known {
			break
		}
	}
	return s
}

func jarSimEnv(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// TestJarSimulation runs the simulation for many random configs and
// behaviours, and fails on the first run with a finding, printing its
// sequence.
func TestJarSimulation(t *testing.T) {
	seed := jarSimEnv(t, "JARSIM_SEED", 1)
	runs := jarSimEnv(t, "JARSIM_RUNS", 1500)
	total := map[jarSimException]int{}
	requests := 0
	for i := range runs {
		s := runJarSim(t, seed+i, 120)
		for e, n := range s.exceptions {
			total[e] += n
		}
		for _, st := range s.steps {
			if strings.HasPrefix(st.event, "request") {
				requests++
			}
		}
		if len(s.findings) > 0 {
			t.Fatalf("seed %d: %s\n%s", seed+i, strings.Join(s.findings, "; "), s.trace())
		}
	}
	keys := make([]string, 0, len(total))
	for e := range total {
		keys = append(keys, string(e))
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%6d responses: %s", total[jarSimException(k)], k)
	}
	t.Logf("%d runs, %d requests", runs, requests)
}

// jarSimServe sends one request for /page with the given Cookie header
// through h, the app answering with Date date and the fields app, and
// returns the response's Set-Cookie fields.
func jarSimServe(t *testing.T, h *Handler, cookie string, date int64, app ...string) []string {
	t.Helper()
	return jarSimServePath(t, h, "/page", cookie, date, app...)
}

// jarSimServePath is jarSimServe for a request for path.
func jarSimServePath(t *testing.T, h *Handler, path, cookie string, date int64, app ...string) []string {
	t.Helper()
	return serveFieldsAt(t, h, "https://"+jarSimHost+path, cookie, date, app...)
}

// serveFieldsAt is jarSimServe for a request to url.
func serveFieldsAt(t *testing.T, h *Handler, url, cookie string, date int64, app ...string) []string {
	t.Helper()
	return serveFieldsFrom(t, h, url, "same-origin", cookie, date, app...)
}

// serveFieldsFrom is serveFieldsAt for a request whose Sec-Fetch-Site
// is site.
func serveFieldsFrom(t *testing.T, h *Handler, url, site, cookie string, date int64, app ...string) []string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("Sec-Fetch-Site", site)
	rec := httptest.NewRecorder()
	err := h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Date", time.Unix(date, 0).UTC().Format(http.TimeFormat))
		for _, f := range app {
			w.Header().Add("Set-Cookie", f)
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return rec.Header().Values("Set-Cookie")
}

// TestSlowAppClockRenewalDeletesTheGroup: an app whose clock runs two
// hours slow renews uid with an Expires half an hour after its own Date,
// which is before the proxy's clock. WebKitGTK (and RFC 6265bis) read
// that Expires on their own clock: a deletion; Chromium and Firefox count
// it from the Date: half an hour. The module leaves the field alone (the
// rule of safety) and takes it for uid's log-out: on_delete cascade
// deletes sid, and appends uid's own deletion too, after the app's field,
// so that Chromium and Firefox do not keep uid alone: every engine ends
// with neither.
func TestSlowAppClockRenewalDeletesTheGroup(t *testing.T) {
	h, err := hostileHandler(t, "cookie_normalizer sid uid {\n\texpire 1h\n\ton_delete cascade\n}")
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	date := now - 2*3600 // the app's clock
	inHalfAnHour := time.Unix(date+1800, 0).UTC().Format(http.TimeFormat)
	renewal := "uid=b; Expires=" + inHalfAnHour + "; Path=/"
	out := jarSimServe(t, h, "sid=a; uid=b", date, renewal)
	want := []string{renewal, "sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/", "uid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"}
	if !slices.Equal(out, want) {
		t.Errorf("renewal under a slow app clock:\n got %q\nwant %q", out, want)
	}
	for _, fromDate := range []bool{true, false} { // Chromium and Firefox; WebKitGTK
		jar := newJarSim()
		jar.fromDate = fromDate
		jar.set("sid=a; Max-Age=3600; Path=/", "/page", now, date)
		jar.set("uid=b; Max-Age=3600; Path=/", "/page", now, date)
		for _, f := range out {
			jar.set(f, "/page", now, date)
		}
		if sid, uid := len(jar.named("sid")), len(jar.named("uid")); sid != 0 || uid != 0 {
			t.Errorf("Expires from Date %t: the jar holds %s, want neither", fromDate, jar.String(now))
		}
	}
}
