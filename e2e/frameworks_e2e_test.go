package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// frameworksFile holds the Set-Cookie fields that real frameworks write
// for a log-in and a log-out, and the fields the module must make of them
// under several policies (read by the root package's frameworks_test.go).
const frameworksFile = "../testdata/frameworks.json"

// frameworksPolicy is the policy TestFrameworks takes the cases of: a
// fixed lifetime for the whole group, and a log-out of one member logging
// out the other.
const frameworksPolicy = "expire 12h\non_delete cascade"

// frameworksLifetime is the lifetime frameworksPolicy gives every member.
const frameworksLifetime = 12 * time.Hour

// frameworksDate is the Date of every response in frameworksFile: the
// absolute Expires dates of its log-in fields are written relative to it.
const frameworksDate = "Tue, 24 Nov 2026 12:00:00 GMT"

// frameworksJSON is the part of frameworksFile this test reads.
type frameworksJSON struct {
	Frameworks []struct {
		Framework string          `json:"framework"`
		Version   string          `json:"version"`
		Session   string          `json:"session"`
		User      string          `json:"user"`
		Cases     []frameworkCase `json:"cases"`
	} `json:"frameworks"`
}

type frameworkCase struct {
	Name    string          `json:"name"`
	Policy  string          `json:"policy"`
	In      []string        `json:"in"`
	Want    []string        `json:"want"`
	Request json.RawMessage `json:"request"`
}

// frameworkRun is one framework entry of frameworksFile with a log-in case
// and at least one log-out case under frameworksPolicy, and the Caddy site
// that serves it.
type frameworkRun struct {
	label         string // framework and version, the subtest's name
	session, user string
	login         frameworkCase
	logouts       []frameworkCase
	// dir is the directory the pages are loaded from, ending in "/": the
	// deepest Path any field of the cases carries, so that every page is
	// under every field's Path (WebKit's driver lists only the cookies
	// the current page would receive).
	dir string
	// base is the entry's site ("https://127.0.0.1:port"), and
	// loginKey and logoutKeys the upstream's names for the cases' fields.
	base       string
	loginKey   string
	logoutKeys []string
}

// TestFrameworks sends the log-in and then each log-out of every
// framework in frameworksFile that has both under frameworksPolicy through
// the module, in every engine, reported as
// TestFrameworks/<engine>/<framework version>/<log-out case>. After the
// log-in the jar must hold every cookie the log-in fields set, persistent
// for 12 hours from the response, with the Path, Secure, HttpOnly and
// SameSite of its field; after the log-out it must hold no member of the
// group, except a member the log-out fields themselves set again (as
// Devise and Flask-Login do with the session cookie), which then has the
// group's 12 hours.
//
// The upstream sends each framework's fields byte for byte, with one
// change: an absolute Expires date of a log-in field that is already past
// is moved to the same distance from the response's Date as it had from
// frameworksDate, in the same format. Every response carries a live Date,
// from which the module counts the 12 hours.
//
// One Caddy serves every framework, one site each; the engines run at the
// same time, and each log-out case starts from an empty jar in the
// engine's one browser.
func TestFrameworks(t *testing.T) {
	runs := frameworkRuns(t)
	app := &frameworkApp{fields: map[string]frameworkResponse{}, sent: map[string][]string{}}
	for i := range runs {
		r := &runs[i]
		r.loginKey = fmt.Sprintf("%d-login", i)
		app.fields[r.loginKey] = frameworkResponse{fields: r.login.In, live: true}
		for j, lo := range r.logouts {
			k := fmt.Sprintf("%d-logout-%d", i, j)
			r.logoutKeys = append(r.logoutKeys, k)
			app.fields[k] = frameworkResponse{fields: lo.In}
		}
	}
	upstream := app.start(t)

	var sites strings.Builder
	addrs := make([]string, len(runs))
	for i := range runs {
		r := &runs[i]
		addrs[i] = testcaddy.FreeAddr(t)
		r.base = "https://" + addrs[i]
		fmt.Fprintf(&sites, "\nhttps://%s {\n\tbind 127.0.0.1\n\ttls internal\n%s\n\treverse_proxy %s\n}\n",
			addrs[i], frameworkDirective(r.session, r.user), upstream)
	}
	testcaddy.StartTLS(t, sites.String(), addrs[0])
	for _, a := range addrs[1:] {
		testcaddy.WaitTLS(t, a)
	}

	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			t.Logf("%s: %s", e.name, e.open(t))
			for _, r := range runs {
				t.Run(r.label, func(t *testing.T) {
					for j, lo := range r.logouts {
						t.Run(lo.Name, func(t *testing.T) {
							runFramework(t, app, e, r, lo, r.logoutKeys[j])
						})
					}
				})
			}
		})
	}
}

// runFramework logs in and out through r's site in a client of e with an
// empty jar, checking the jar after each.
func runFramework(t *testing.T, app *frameworkApp, e engine, r frameworkRun, logout frameworkCase, logoutKey string) {
	c := e.newClient(t)
	if r.dir != "/" {
		// WebKit's own clearing, from /, does not see cookies under
		// r.dir.
		clearWebKitAt(t, c, r.base+r.dir)
	}
	loginURL := r.base + r.dir + "login?c=" + r.loginKey
	logoutURL := r.base + r.dir + "logout?c=" + logoutKey
	defer func() {
		if t.Failed() {
			logFrameworkBytes(t, app, loginURL, r.loginKey)
			logFrameworkBytes(t, app, logoutURL, logoutKey)
		}
	}()

	start, end := load(t, c, loginURL)
	sent := app.lastSent(r.loginKey)
	t.Logf("log-in fields sent: %q", sent)
	jar := scopedJarOf(t, c)
	t.Logf("after log-in: %s", describeScoped(jar))
	var loggedIn []wantField
	for _, f := range sent {
		loggedIn = append(loggedIn, fieldWant(f, r.dir+"login"))
	}
	checkFrameworkJar(t, "after log-in", jar, loggedIn, start, end)
	loginJar := jar

	start, end = load(t, c, logoutURL)
	jar = scopedJarOf(t, c)
	t.Logf("after log-out: %s", describeScoped(jar))
	// A log-out field that sets its cookie rather than deleting it keeps
	// that member; every other member must be gone, but for one the
	// log-in stored at a Path no log-out field names: a cascade's
	// deletion takes the deleted member's Path, and browsers key a
	// cookie by its name, domain and path, so it cannot reach a member
	// stored elsewhere (WordPress's wordpress_sec_ cookie at /wp-admin,
	// as the README says). That one stays exactly as the log-in left it.
	var want []wantField
	logoutPaths := map[string]bool{}
	for _, f := range app.lastSent(logoutKey) {
		w := fieldWant(f, r.dir+"logout")
		logoutPaths[w.path] = true
		if (w.name == r.session || w.name == r.user) && !fieldDeletes(f, start.Add(-time.Second)) {
			want = append(want, w)
		}
	}
	var gone []scopedCookie // the jar without the members out of the log-out's reach
	for _, sc := range jar {
		if i := slices.IndexFunc(loggedIn, func(w wantField) bool { return w.name == sc.name }); i >= 0 && !logoutPaths[loggedIn[i].path] {
			before := findScoped(loginJar, sc.name)
			if sc.path != loggedIn[i].path || sc.value != before.value || !sc.expires.Equal(before.expires) {
				t.Errorf("after log-out: %s (out of the log-out's reach at path %s) is %q at %s expiring %s, want it as the log-in left it: %q at %s expiring %s",
					sc.name, loggedIn[i].path, sc.value, sc.path, sc.expires.UTC(), before.value, before.path, before.expires.UTC())
			}
			t.Logf("after log-out: %s stays at %s, out of the cascade's reach", sc.name, sc.path)
			continue
		}
		gone = append(gone, sc)
	}
	for _, w := range loggedIn {
		if !logoutPaths[w.path] && findScoped(jar, w.name) == nil {
			t.Errorf("after log-out: %s, stored at %s where no log-out field reaches, is gone", w.name, w.path)
		}
	}
	checkFrameworkJar(t, "after log-out", gone, want, start, end)
}

// wantField is a cookie the jar must hold: its value, flags and lifetime
// as checkJar reads them, and the path it is stored for.
type wantField struct {
	wantCookie
	path string
}

// checkFrameworkJar fails the test unless jar holds exactly the cookies of
// want, each a host-only cookie of 127.0.0.1 for its path, persistent for
// frameworksLifetime from a response received between start and end
// (within expiryTolerance), all expiring together.
func checkFrameworkJar(t *testing.T, label string, jar []scopedCookie, want []wantField, start, end time.Time) {
	t.Helper()
	st := step{}
	stored := make([]storedCookie, 0, len(jar))
	for _, c := range jar {
		stored = append(stored, c.storedCookie)
	}
	for _, w := range want {
		st.jar = append(st.jar, w.wantCookie)
		st.agree = append(st.agree, w.name)
		if c := findScoped(jar, w.name); c != nil {
			if c.domain != "127.0.0.1" || c.path != w.path || !c.hostOnly {
				t.Errorf("%s: %s stored for domain %q path %q host-only %t, want 127.0.0.1, %q, host-only",
					label, w.name, c.domain, c.path, c.hostOnly, w.path)
			}
		}
	}
	checkJar(t, label, stored, st, start, end)
}

// fieldWant is what a Set-Cookie field that sets its cookie must leave in
// the jar under frameworksPolicy: the field's value, Path (the default
// path of requestPath when it has none), Secure, HttpOnly and SameSite,
// and the group's lifetime.
func fieldWant(field, requestPath string) wantField {
	nv, attrs, _ := strings.Cut(field, ";")
	name, value, _ := strings.Cut(nv, "=")
	w := wantField{wantCookie: wantCookie{
		name:     strings.TrimSpace(name),
		value:    strings.TrimSpace(value),
		lifetime: frameworksLifetime,
	}}
	for _, a := range strings.Split(attrs, ";") {
		k, v, _ := strings.Cut(a, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "secure":
			w.secure = true
		case "httponly":
			w.httpOnly = true
		case "samesite":
			switch strings.ToLower(v) {
			case "lax":
				w.sameSite = "Lax"
			case "strict":
				w.sameSite = "Strict"
			case "none":
				w.sameSite = "None"
			default:
				w.sameSite = ""
			}
		case "path":
			w.path = v
		}
	}
	if !strings.HasPrefix(w.path, "/") {
		// RFC 6265 §5.1.4: the request path up to its last slash.
		w.path = "/"
		if i := strings.LastIndex(requestPath, "/"); i > 0 {
			w.path = requestPath[:i]
		}
	}
	return w
}

// fieldAttr returns the value of the last attribute of field named name
// (any case), and whether there is one.
func fieldAttr(field, name string) (string, bool) {
	_, attrs, _ := strings.Cut(field, ";")
	value, found := "", false
	for _, a := range strings.Split(attrs, ";") {
		k, v, _ := strings.Cut(a, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			value, found = strings.TrimSpace(v), true
		}
	}
	return value, found
}

// fieldDeletes reports whether the framework meant field to delete its
// cookie, as the engines read it: a Max-Age of zero or less, or, without
// a Max-Age, an Expires date not after now.
func fieldDeletes(field string, now time.Time) bool {
	if v, ok := fieldAttr(field, "max-age"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n <= 0
		}
	}
	if v, ok := fieldAttr(field, "expires"); ok {
		if d, ok := parseFrameworkDate(v); ok {
			return !d.at.After(now)
		}
	}
	return false
}

// frameworkDate is an Expires value of frameworksFile: its instant, and
// how it is written (separator between day, month and year, the year's
// digits, the zone as written).
type frameworkDate struct {
	at       time.Time
	sep      string // " " or "-"
	longYear bool
	zone     string // "GMT", "UTC", "-0000" or "+0000"
}

// frameworkDateRE matches the Expires values frameworks write: an
// IMF-fixdate, its dashed form (PHP, Symfony 4, Tomcat), with two- or
// four-digit years, and the zone GMT, UTC or ±0000 (Rack's Time#rfc2822).
var frameworkDateRE = regexp.MustCompile(`^([A-Z][a-z]{2}), (\d{2})([ -])([A-Z][a-z]{2})([ -])(\d{4}|\d{2}) (\d{2}:\d{2}:\d{2}) (GMT|UTC|[+-]0000)$`)

func parseFrameworkDate(v string) (frameworkDate, bool) {
	m := frameworkDateRE.FindStringSubmatch(v)
	if m == nil || m[3] != m[5] {
		return frameworkDate{}, false
	}
	year := m[6]
	if len(year) == 2 {
		// RFC 6265 §5.1.1: 70 to 99 are 19xx, 00 to 69 are 20xx.
		if n, _ := strconv.Atoi(year); n >= 70 {
			year = "19" + year
		} else {
			year = "20" + year
		}
	}
	at, err := time.Parse("02 Jan 2006 15:04:05", m[2]+" "+m[4]+" "+year+" "+m[7])
	if err != nil {
		return frameworkDate{}, false
	}
	return frameworkDate{at: at, sep: m[3], longYear: len(m[6]) == 4, zone: m[8]}, true
}

// format writes at in d's format.
func (d frameworkDate) format(at time.Time) string {
	at = at.UTC()
	year := at.Format("2006")
	if !d.longYear {
		year = at.Format("06")
	}
	return at.Format("Mon, 02") + d.sep + at.Format("Jan") + d.sep + year + " " + at.Format("15:04:05") + " " + d.zone
}

// expiresAttr matches an Expires attribute's value, up to the next
// attribute.
var expiresAttr = regexp.MustCompile(`(?i)(;\s*expires\s*=\s*)([^;]*)`)

// liveField returns field with every Expires date not after date moved to
// the same distance from date as it has from frameworksDate, written in
// the same format; the rest of the field is kept byte for byte.
func liveField(field string, date time.Time) string {
	fixed, err := http.ParseTime(frameworksDate)
	if err != nil {
		panic(err)
	}
	return expiresAttr.ReplaceAllStringFunc(field, func(attr string) string {
		m := expiresAttr.FindStringSubmatch(attr)
		value := strings.TrimRight(m[2], " \t")
		d, ok := parseFrameworkDate(value)
		if !ok || d.at.After(date) {
			return attr
		}
		return m[1] + d.format(date.Add(d.at.Sub(fixed))) + m[2][len(value):]
	})
}

// frameworkDirective is the module's directive for a framework's two
// cookies under frameworksPolicy, as frameworks_test.go writes it.
func frameworkDirective(session, user string) string {
	var b strings.Builder
	b.WriteString("\tcookie_normalizer " + session + " " + user + " {\n")
	for line := range strings.SplitSeq(strings.ReplaceAll(frameworksPolicy, "{S}", session), "\n") {
		b.WriteString("\t\t" + line + "\n")
	}
	b.WriteString("\t}")
	return b.String()
}

// frameworkRuns reads frameworksFile and returns the entries with a log-in
// case and a log-out case under frameworksPolicy (found by "log-in" and
// "log-out" in the case's name), logging the others.
func frameworkRuns(t *testing.T) []frameworkRun {
	t.Helper()
	raw, err := os.ReadFile(frameworksFile)
	if err != nil {
		t.Fatal(err)
	}
	var table frameworksJSON
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("%s: %v", frameworksFile, err)
	}
	var runs []frameworkRun
	for _, fw := range table.Frameworks {
		r := frameworkRun{label: fw.Framework + " " + fw.Version, session: fw.Session, user: fw.User}
		var logins []frameworkCase
		for _, c := range fw.Cases {
			if c.Policy != frameworksPolicy {
				continue
			}
			if len(c.Request) > 0 && string(c.Request) != "null" {
				t.Logf("%s: %q needs request cookies this test does not send; left out", r.label, c.Name)
				continue
			}
			switch {
			case strings.Contains(c.Name, "log-in"):
				logins = append(logins, c)
			case strings.Contains(c.Name, "log-out"):
				r.logouts = append(r.logouts, c)
			}
		}
		if len(logins) == 0 || len(r.logouts) == 0 {
			t.Logf("%s: %d log-in and %d log-out cases under %q; left out", r.label, len(logins), len(r.logouts), frameworksPolicy)
			continue
		}
		if len(logins) > 1 {
			t.Fatalf("%s: %d log-in cases under %q, want one", r.label, len(logins), frameworksPolicy)
		}
		r.login = logins[0]
		dir, err := framesDir(append([]frameworkCase{r.login}, r.logouts...))
		if err != nil {
			t.Fatalf("%s: %v", r.label, err)
		}
		r.dir = dir
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		t.Fatalf("%s: no framework with a log-in and a log-out case under %q", frameworksFile, frameworksPolicy)
	}
	return runs
}

// framesDir returns the deepest Path the fields of cases carry, ending in
// "/", and fails unless every other Path is on the way to it.
func framesDir(cases []frameworkCase) (string, error) {
	var paths []string
	deepest := "/"
	for _, c := range cases {
		for _, f := range c.In {
			p, ok := fieldAttr(f, "path")
			if !ok || !strings.HasPrefix(p, "/") {
				continue
			}
			paths = append(paths, p)
			if len(p) > len(deepest) {
				deepest = p
			}
		}
	}
	dir := strings.TrimSuffix(deepest, "/") + "/"
	for _, p := range paths {
		if !strings.HasPrefix(dir, strings.TrimSuffix(p, "/")+"/") {
			return "", fmt.Errorf("no page is under both Path=%s and Path=%s", p, deepest)
		}
	}
	return dir, nil
}

// frameworkResponse is the fields the upstream sends for one case; live
// ones have their past Expires dates moved (liveField).
type frameworkResponse struct {
	fields []string
	live   bool
}

// frameworkApp is the upstream of TestFrameworks: a request with the
// query c=<key> gets the fields of that key, any other sets nothing. It
// records the fields it last sent for each key.
type frameworkApp struct {
	fields map[string]frameworkResponse // written before start, read-only after

	mu   sync.Mutex
	sent map[string][]string
}

func (a *frameworkApp) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The Date the module counts from, and the instant past log-in
		// dates are moved relative to.
		date := time.Now().UTC().Truncate(time.Second)
		w.Header().Set("Date", date.Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "no-store")
		key := r.URL.Query().Get("c")
		if resp, ok := a.fields[key]; ok {
			var sent []string
			for _, f := range resp.fields {
				if resp.live {
					f = liveField(f, date)
				}
				// Added as is: http.SetCookie would re-serialise it.
				w.Header().Add("Set-Cookie", f)
				sent = append(sent, f)
			}
			a.mu.Lock()
			a.sent[key] = sent
			a.mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "page", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// lastSent returns the fields last sent for key.
func (a *frameworkApp) lastSent(key string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent[key]
}

// logFrameworkBytes fetches url again with a Go client without a jar and
// logs the fields the upstream sent and the fields Caddy sent on: those
// of the browser's response but for the dates.
func logFrameworkBytes(t *testing.T, app *frameworkApp, url, key string) {
	t.Helper()
	client := jarlessClient(t)
	resp, err := client.Get(url)
	if err != nil {
		t.Logf("fetching %s again: %v", url, err)
		return
	}
	resp.Body.Close()
	t.Logf("%s again, Date %s:\n  in:  %q\n  out: %q", url, resp.Header.Get("Date"), app.lastSent(key), resp.Header.Values("Set-Cookie"))
}
