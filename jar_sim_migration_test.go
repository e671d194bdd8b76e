package cookienormalizer

import (
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// This file extends the jar simulation (jar_sim_test.go) with an app that
// moves its cookies: from Path=/app to Path=/ or back, from a
// Domain=example.com cookie to a host-only one or back, all members at
// once or one of them, the setting field before or after the deletion.
// The site is www.example.com, so that a Domain=example.com cookie and a
// host-only one are two cookies, and the browser requests pages under /
// and under /app. After each response the group invariant is checked for
// every page: the browser sends every member or none. And for each
// response the module may cascade, the opposite decision is applied to a
// copy of the jar: a split the module's decision leaves and the other
// would not have left is a finding unless the README documents it.

const (
	jarMigHost   = "www.example.com"
	jarMigParent = "example.com"
)

// jarMigPages are the pages the browser requests: one outside /app, one
// under it.
var jarMigPages = [...]string{"/page", "/app/page"}

// jarMigPlace is where the app keeps a member: its Path, and its Domain
// ("" for a host-only cookie).
type jarMigPlace struct{ path, domain string }

func (p jarMigPlace) attrs() string {
	s := "; Path=" + p.path
	if p.domain != "" {
		s += "; Domain=" + p.domain
	}
	return s
}

// at moves an app field (written with "; Path=/") to p.
func (p jarMigPlace) at(field string) string {
	return strings.Replace(field, "; Path=/", p.attrs(), 1)
}

// The migration simulation's own exceptions, each one a situation the
// README documents.
const (
	// README, on_delete cascade: "An app that moves one member and not
	// the others leaves the group at two places: outside the old Path the
	// browser sends part of the group, and on_partial expires it there";
	// and "Group only cookies that share a Path and Domain": the app keeps
	// the group at two places, and every page outside one of them gets
	// part of it (on_partial's deletion, at Path=/ and host-only, does
	// not reach a member kept elsewhere).
	excTwoPlaces jarSimException = "app keeps the members at two places (one-member migration)"
	// README, on_delete cascade: "a set with a Domain beside a host-only
	// deletion does not count, since the module does not know whether
	// browsers accept that Domain, and cascades".
	excDomainSetCascades jarSimException = "migration to a Domain cookie: the module cascades"
	// README, on_delete cascade: "The added deletions take the deleted
	// member's Path and Domain, because the module does not know where
	// the browser stored the others": a log-out of a member the app keeps
	// at another place than the others leaves them.
	excCascadeOtherPlace jarSimException = "cascade from a member kept at another place"
	// README, on_delete cascade: "A cascade happens only when no member
	// is set by the response", and slide's path and domain policies put
	// every field of a member at one place: there a migration is a set
	// and a deletion of one cookie, the later one wins, and a response
	// whose fields come in one order for one member and the other order
	// for another sets one and deletes the other.
	excPolicyMixedOrder jarSimException = "path and domain policies, migration fields in mixed orders"
	// README, expire like: "a response that sets the leader at / and then
	// deletes an old copy at /app has a deletion for leader, and its
	// followers go out as the app sent them": the members expire apart,
	// and time splits them.
	excLikeMigration jarSimException = "expire like: leader moved, set before its deletion"
	// README, on_partial expire: the deletion is at the group's path and
	// domain policies, "else Path=/ and no Domain ... If the app sets
	// these cookies with a Domain, add domain <d> (and path if not /) to
	// the group, or the deletion will not match them".
	excPartialElsewhere jarSimException = "on_partial: member kept at another place than / host-only"
	// A drift begun by one of the exceptions above (a member renewed or
	// moved alone, a like leader moved) that time turned into a split.
	excDriftCarried jarSimException = "drift carried on (begun by an exception above)"
)

// elsewhere reports whether the app keeps a member at another place than
// Path=/ host-only, where on_partial's deletion goes.
func (s *jarMigRun) elsewhere() bool {
	for _, m := range s.cfg.members {
		if s.places[m] != (jarMigPlace{path: "/"}) {
			return true
		}
	}
	return false
}

// jarMigRun is one migration simulation.
type jarMigRun struct {
	*jarSimRun
	places map[string]jarMigPlace
	// decisions counts the responses the module could cascade: by whether
	// it did, and whether the opposite decision would have done better.
	decisions   map[string]int
	migrations  int
	decisionBad []string
	// drifting: the members expire apart since a documented exception.
	drifting bool
}

// jarMigSplit lists the pages for which jar sends part of the members.
func jarMigSplit(j *jarSim, members []string, now int64) []string {
	var out []string
	for _, p := range jarMigPages {
		sent := jarSimPairs(j.header(p, now))
		held := 0
		for _, m := range members {
			if sent[m] > 0 {
				held++
			}
		}
		if held > 0 && held < len(members) {
			out = append(out, p)
		}
	}
	return out
}

func (j *jarSim) clone() *jarSim {
	c := *j
	c.cookies = make(map[string]*jarSimCookie, len(j.cookies))
	for k, v := range j.cookies {
		cv := *v
		c.cookies[k] = &cv
	}
	return &c
}

// twoPlaces reports whether the app keeps the members at more than one
// place.
func (s *jarMigRun) twoPlaces() bool {
	first := s.places[s.cfg.members[0]]
	for _, m := range s.cfg.members[1:] {
		if s.places[m] != first {
			return true
		}
	}
	return false
}

// jarMigDeletes reports whether field, applied alone, deletes its cookie
// in an engine reading Expires as fromDate says.
func jarMigDeletes(field string, now, date int64, fromDate bool) bool {
	j := newJarSim()
	j.host, j.fromDate = jarMigHost, fromDate
	j.set(field, "/page", now, date)
	return len(j.cookies) == 0
}

// jarMigFieldPlace reads a field's Path and Domain.
func jarMigFieldPlace(field string) jarMigPlace {
	var p jarMigPlace
	for a := range strings.SplitSeq(field, ";") {
		k, v, _ := strings.Cut(a, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "path":
			p.path = strings.TrimSpace(v)
		case "domain":
			p.domain = strings.TrimPrefix(strings.TrimSpace(v), ".")
		}
	}
	return p
}

// opposite returns the fields the response would have had with the
// opposite cascade decision, and whether the module cascaded; ok is
// false when the response is not one the cascade decides (a member set
// by its last field, or none deleted).
func (s *jarMigRun) opposite(out []string, nApp int, date int64) (alt []string, cascaded, ok bool) {
	if !s.cfg.cascade {
		return nil, false, false
	}
	// The members' last fields among the app's (as rewritten).
	last := map[string]string{}
	for _, f := range out[:nApp] {
		if name, _, _ := strings.Cut(f, "="); slices.Contains(s.cfg.members, name) {
			last[name] = f
		}
	}
	deleted := ""
	for _, m := range s.cfg.members {
		f, ok := last[m]
		switch {
		case !ok:
		case jarMigDeletes(f, s.now, date, true) || jarMigDeletes(f, s.now, date, false):
			// Deleted in some engine: the module counts it as deleted.
			deleted = m
		default:
			return nil, false, false // a member set: no cascade either way
		}
	}
	if deleted == "" {
		return nil, false, false
	}
	for _, f := range out[nApp:] {
		if name, _, _ := strings.Cut(f, "="); slices.Contains(s.cfg.members, name) {
			cascaded = true
		}
	}
	if cascaded {
		for i, f := range out {
			if name, _, _ := strings.Cut(f, "="); i < nApp || !slices.Contains(s.cfg.members, name) {
				alt = append(alt, f)
			}
		}
		return alt, true, true
	}
	p := jarMigFieldPlace(last[deleted])
	alt = slices.Clone(out)
	for _, m := range s.cfg.members {
		if _, ok := last[m]; !ok {
			f := m + deletionSuffix + "; Path=" + p.path
			if p.domain != "" {
				f += "; Domain=" + p.domain
			}
			alt = append(alt, f)
		}
	}
	return alt, false, true
}

// migRequest sends one request for page, the app doing what (or moving
// members, when move is not ""), and checks the jar after it.
func (s *jarMigRun) migRequest(page string, what jarSimApp, move string) {
	n := len(s.cfg.members)
	splitBefore := jarMigSplit(s.jar, s.cfg.members, s.now)
	twoBefore := s.twoPlaces()
	cookie := s.jar.header(page, s.now)
	sent := jarSimPairs(cookie)
	var app, set, deleted []string
	var deletedAt []jarMigPlace
	domainSet, mixed := false, false
	event := "request " + page + ": app "
	// The app moves the members the request carries (all of them, or
	// one): it has nothing to move otherwise.
	var carried []string
	for _, m := range s.cfg.members {
		if sent[m] > 0 {
			carried = append(carried, m)
		}
	}
	if move != "" && len(carried) == 0 {
		move, what = "", appNothing
	}
	if move != "" {
		event += move
		s.migrations++
		movers := carried
		if s.r.Intn(2) == 0 {
			movers = []string{carried[s.r.Intn(len(carried))]}
		}
		setFirst := s.r.Intn(2) == 0
		orders := map[bool]bool{}
		for _, m := range movers {
			from := s.places[m]
			to := from
			if move == "moves path" {
				to.path = map[string]string{"/": "/app", "/app": "/"}[from.path]
			} else {
				to.domain = map[string]string{"": jarMigParent, jarMigParent: ""}[from.domain]
				domainSet = domainSet || to.domain != ""
			}
			value := "v" + strconv.Itoa(s.serial)
			if cs := s.jar.named(m); len(cs) > 0 && s.r.Intn(2) == 0 {
				value = cs[0].value
			} else {
				s.serial++
			}
			setF := to.at(appField(m, value, s.now+s.skew, s.sidLife, s.tokLife, s.sidExpires))
			delF := from.at(appDeletion(m, s.r.Intn(2) == 0))
			if s.r.Intn(4) == 0 {
				setFirst = !setFirst // per member, sometimes
			}
			orders[setFirst] = true
			if setFirst {
				app = append(app, setF, delF)
			} else {
				app = append(app, delF, setF)
			}
			set = append(set, m)
			deleted = append(deleted, m)
			deletedAt = append(deletedAt, from)
			s.places[m] = to
		}
		mixed = len(orders) > 1
		event += fmt.Sprintf(" %v (set first %t, mixed %t)", movers, setFirst, mixed)
	} else {
		event += jarSimAppNames[what]
		switch what {
		case appLogin:
			// A log-in sets each member where the app keeps it; on an
			// empty jar, sometimes all at a new place.
			held, _, _ := s.state()
			fresh := held == 0 && s.r.Intn(4) == 0
			np := jarMigPlace{path: []string{"/", "/app"}[s.r.Intn(2)], domain: []string{"", jarMigParent}[s.r.Intn(2)]}
			for _, m := range s.cfg.members {
				p := s.places[m]
				if fresh {
					p = np
				}
				s.serial++
				app = append(app, p.at(appField(m, "v"+strconv.Itoa(s.serial), s.now+s.skew, s.sidLife, s.tokLife, s.sidExpires)))
				set = append(set, m)
				s.places[m] = p
			}
		case appRenew:
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
			app = append(app, s.places[m].at(appField(m, s.jar.named(m)[0].value, s.now+s.skew, s.sidLife, s.tokLife, s.sidExpires)))
			set = append(set, m)
		case appLogoutOne:
			m := s.cfg.members[s.r.Intn(n)]
			app = append(app, s.places[m].at(appDeletion(m, s.r.Intn(2) == 0)))
			deleted, deletedAt = append(deleted, m), append(deletedAt, s.places[m])
		case appLogoutAll:
			for _, m := range s.cfg.members {
				app = append(app, s.places[m].at(appDeletion(m, s.r.Intn(2) == 0)))
				deleted, deletedAt = append(deleted, m), append(deletedAt, s.places[m])
			}
		}
	}

	req := httptest.NewRequest(http.MethodGet, "https://"+jarMigHost+page, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	dateUnix := s.now + s.skew
	date := time.Unix(dateUnix, 0).UTC().Format(http.TimeFormat)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Date", date)
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
	alt, cascaded, decided := s.opposite(out, len(app), dateUnix)
	before := s.jar.clone()
	for _, f := range out {
		s.jar.set(f, page, s.now, dateUnix)
	}
	s.steps = append(s.steps, jarSimStep{at: s.now, event: event, cookie: cookie, app: app, out: out, jarAfter: s.jar.String(s.now)})

	split := jarMigSplit(s.jar, s.cfg.members, s.now)
	if decided {
		key := "kept"
		if cascaded {
			key = "cascaded"
		}
		if move != "" {
			key = "migration " + key
		} else {
			key = "log-out " + key
		}
		s.decisions[key]++
		altJar := before.clone()
		for _, f := range alt {
			altJar.set(f, page, s.now, dateUnix)
		}
		if len(split) > 0 && len(jarMigSplit(altJar, s.cfg.members, s.now)) == 0 {
			s.decisions[key+", the other decision leaves no split"]++
			switch {
			case move != "" && (twoBefore || domainSet) && cascaded && s.pastExpires(set):
				// A migration a slow app clock spoiled, in a group kept at
				// two places or moved to a Domain cookie: the cascade's
				// deletions take the deleted member's place, and a move to
				// a Domain cookie cascades (README).
			case move == "" && twoBefore && cascaded:
				// README: the cascade's deletions take the deleted
				// member's place, not the others' (excCascadeOtherPlace).
			case move == "" || !domainSet || !cascaded:
				s.decisionBad = append(s.decisionBad, fmt.Sprintf("%s; cascaded %t; pages split %v; other decision's fields %q, jar %s", event, cascaded, split, alt, altJar.String(s.now)))
				s.finding("the module's cascade decision left pages %v split, the other decision none", split)
			}
		}
	}

	// The app's deletions never come out live at their place.
	for i, m := range deleted {
		p := deletedAt[i]
		host, hostOnly := jarMigHost, p.domain == ""
		if !hostOnly {
			host = p.domain
		}
		if c, ok := s.jar.cookies[jarSimKey(m, host, hostOnly, p.path)]; ok && s.cfg.interval == 0 {
			if move == "" || !slices.Contains(set, m) || s.places[m] != p {
				s.finding("the app deleted %s at %+v and the jar holds it there (%s)", m, p, c.value)
			}
		}
	}
	if s.pastExpires(set) {
		// README, Limits: the app's Expires after its Date and not after
		// the proxy's clock; the run ends there (see knownPastExpires).
		if s.cfg.cascade && move == "" && what != appLogin && len(split) > 0 && !twoBefore {
			s.finding("a renewal some engines read as a deletion, under on_delete cascade, left the group split")
		}
		switch {
		case move == "" && twoBefore && (len(split) > 0 || !s.consistent()):
			s.exception(excCascadeOtherPlace)
			s.known = true
		case move != "" && domainSet && cascaded && (len(split) > 0 || !s.consistent()):
			// README: a move to a Domain cookie cascades, and the moved
			// member stays (excDomainSetCascades), here beside a slow
			// app clock's field.
			s.exception(excDomainSetCascades)
			s.known = true
		case move != "" && cascaded && !twoBefore && (len(split) > 0 || !s.consistent()):
			// A migration whose moved field a slow app clock makes a
			// deletion in WebKitGTK only: the cascade deletes the others
			// at the old place too and the moved field at its own, so
			// every engine ends with none
			// (TestCascadeSlowClockMigrationLogsOutEveryEngine).
			s.finding("a migration some engines read as a log-out, cascaded, left the group split")
		case len(split) > 0 || !s.consistent():
			s.exception(knownPastExpires)
			s.known = true
		}
		return
	}
	if held, together, _ := s.state(); held == n && !together {
		if !s.drifting {
			s.drifting = true
			switch {
			case move != "" && s.cfg.expire == "like sid" && slices.Contains(deleted, "sid"):
				s.exception(excLikeMigration)
			case len(set) > 0 && len(set) < n || move != "" && s.twoPlaces():
				s.exception(excRenewal)
			case slices.Contains(set, "sid") && s.likeSkewed():
				s.exception(excLikeSkew)
			case len(set) > 0 && len(set) < n && s.cfg.expire == "like sid" && !slices.Contains(set, "sid"):
				s.exception(excLikeNoLeader)
			default:
				s.finding("the members expire apart after the response, outside every documented exception")
			}
		}
	} else if s.exactlyConsistent() {
		s.drifting = false
	}
	if len(split) == 0 {
		return
	}
	sameSplit := slices.Equal(split, splitBefore)
	switch {
	case move != "" && domainSet && cascaded:
		s.exception(excDomainSetCascades)
	case move != "" && mixed && s.cfg.interval > 0:
		s.exception(excPolicyMixedOrder)
	case twoBefore || s.twoPlaces():
		switch {
		case move != "":
			s.exception(excTwoPlaces)
		case len(deleted) > 0 && len(set) == 0 && s.cfg.cascade:
			s.exception(excCascadeOtherPlace)
		default:
			s.exception(excTwoPlaces)
		}
	case len(deleted) > 0 && len(set) == 0 && !s.cfg.cascade:
		s.exception(excNoCascade)
	case sameSplit && len(set) == 0 && len(deleted) == 0 && !s.cfg.partial:
		s.exception(excNoPartial)
	case sameSplit && len(set) > 0 && len(set) < n:
		s.exception(excRenewal)
	case len(splitBefore) > 0 && len(set) == 0 && len(deleted) == 0 && !slices.Contains(splitBefore, page):
		// on_partial acts on the page requested; the split is elsewhere.
		s.exception("split elsewhere than the page requested")
	case len(set) > 0 && len(set) < n && s.cfg.expire == "like sid" && !slices.Contains(set, "sid"):
		s.exception(excLikeNoLeader)
	case slices.Contains(set, "sid") && s.likeSkewed():
		s.exception(excLikeSkew)
	case len(set) == 0 && len(deleted) == 0 && s.cfg.partial && s.elsewhere():
		s.exception(excPartialElsewhere)
	case len(set) == 0 && len(deleted) == 0 && s.drifting:
		s.exception(excDriftCarried)
	default:
		s.finding("pages %v get part of the group after the response, outside every documented exception", split)
	}
}

// runJarMigSim runs one migration simulation from seed.
func runJarMigSim(t *testing.T, seed int64, steps int) *jarMigRun {
	r := rand.New(rand.NewSource(seed))
	cfg := genJarSimConfig(r)
	if !cfg.cascade && r.Intn(2) == 0 {
		cfg.cascade = true
	}
	h, err := hostileHandler(t, cfg.directive())
	if err != nil {
		t.Fatalf("seed %d: loading\n%s\n%v", seed, cfg.directive(), err)
	}
	sim := &jarSimRun{cfg: cfg, h: h, jar: newJarSim(), now: testClock.Unix(), r: r, exceptions: map[jarSimException]int{}}
	sim.jar.host = jarMigHost
	s := &jarMigRun{jarSimRun: sim, places: map[string]jarMigPlace{}, decisions: map[string]int{}}
	s.sidLife = []int64{600, 3600, 43200, 3 * 86400}[r.Intn(4)]
	s.tokLife = []int64{1800, 86400, 30 * 86400}[r.Intn(3)]
	s.sidExpires = r.Intn(3) == 0
	s.jar.fromDate = r.Intn(2) == 0
	switch r.Intn(8) {
	case 0:
		s.skew = r.Int63n(121) - 60
	case 1:
		s.skew = 3600 * (r.Int63n(7) - 3)
	}
	p := jarMigPlace{path: []string{"/", "/app"}[r.Intn(2)], domain: []string{"", jarMigParent}[r.Intn(2)]}
	for _, m := range cfg.members {
		s.places[m] = p
	}
	h.norm.now = func() time.Time { return time.Unix(s.now, 0) }
	for range steps {
		switch k := r.Intn(100); {
		case k < 15:
			s.advance(jarSimStepSize(r))
		case k < 20:
			s.jar.restart(r.Intn(3) != 0)
			s.steps = append(s.steps, jarSimStep{at: s.now, event: "browser restart", jarAfter: s.jar.String(s.now)})
		case k < 22:
			// The app's clock goes wrong (or is put right) mid-run.
			s.skew = []int64{0, 0, -2 * 3600, -3 * 3600, 2 * 3600, r.Int63n(121) - 60}[r.Intn(6)]
			s.steps = append(s.steps, jarSimStep{at: s.now, event: fmt.Sprintf("app clock now %+ds", s.skew), jarAfter: s.jar.String(s.now)})
		default:
			page := jarMigPages[r.Intn(len(jarMigPages))]
			switch k := r.Intn(100); {
			case k < 15:
				s.migRequest(page, appLogin, "")
			case k < 30:
				s.migRequest(page, appRenew, "")
			case k < 55:
				s.migRequest(page, appNothing, "")
			case k < 65:
				s.migRequest(page, appLogoutOne, "")
			case k < 70:
				s.migRequest(page, appLogoutAll, "")
			case k < 85:
				s.migRequest(page, 0, "moves path")
			default:
				s.migRequest(page, 0, "moves domain")
			}
		}
		if len(s.findings) > 0 || s.known {
			break
		}
	}
	return s
}

// TestJarSimMigration runs the migration simulation.
func TestJarSimMigration(t *testing.T) {
	seed := jarSimEnv(t, "JARSIM_SEED", 1)
	runs := jarSimEnv(t, "JARSIM_RUNS", 600)
	total := map[jarSimException]int{}
	decisions := map[string]int{}
	requests, migrations := 0, 0
	var bad []string
	for i := range runs {
		s := runJarMigSim(t, seed+i, 80)
		for e, n := range s.exceptions {
			total[e] += n
		}
		for k, n := range s.decisions {
			decisions[k] += n
		}
		migrations += s.migrations
		for _, st := range s.steps {
			if strings.HasPrefix(st.event, "request") {
				requests++
			}
		}
		if len(s.decisionBad) > 0 && len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("seed %d: %s\n%s", seed+i, strings.Join(s.decisionBad, "\n"), s.trace()))
		}
		if len(s.findings) > 0 {
			t.Fatalf("seed %d: %s\n%s", seed+i, strings.Join(s.findings, "; "), s.trace())
		}
	}
	for _, b := range bad {
		t.Logf("decision left a split the other would not have:\n%s", b)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range decisions {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Logf("%6d responses: %s", decisions[k], k)
	}
	for _, k := range slices.Sorted(func(yield func(jarSimException) bool) {
		for k := range total {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Logf("%6d responses: %s", total[k], k)
	}
	t.Logf("%d runs, %d requests, %d migrations", runs, requests, migrations)
}
