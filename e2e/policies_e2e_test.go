package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestPolicies runs the module's attribute policies, group consistency
// (on_delete cascade, on_partial expire) and sliding expiry in every
// engine, reported as TestPolicies/<engine>/<scenario>. One Caddy serves
// every config of the test, one site per config, and the engines run at
// the same time (each is its own browser); the scenarios of one engine run
// one after another, each with an empty jar.
func TestPolicies(t *testing.T) {
	env := startPolicyEnv(t)
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			t.Logf("%s: %s", e.name, e.open(t))
			attributeScenarios(t, env, e)
			consistencyScenarios(t, env, e)
			placedScenarios(t, env, e)
			slideScenarios(t, env, e)
		})
	}
}

// The hosts of the domain scenario. A Domain attribute on 127.0.0.1 cannot
// show what `domain remove` does: Chromium, Firefox and WebKit all store a
// cookie with Domain=127.0.0.1 from 127.0.0.1 as host-only (an IP address
// has no subdomains). All three resolve every name under localhost to the
// loopback address themselves, without the system resolver, so a site on
// 127.0.0.1 answers these names.
const (
	wwwHost    = "www.app.localhost" // the site that sets the cookies
	apiHost    = "api.app.localhost" // a sibling, which gets domain cookies only
	parentHost = "app.localhost"     // the upstream's Domain attribute
)

// The upstream's fields for the attribute scenarios, byte for byte.
const (
	// flagged is in the group with secure on, httponly on, samesite lax;
	// plain is in no group and is stored as sent.
	setFlagged = "flagged=1; Path=/"
	setPlain   = "plain=1; Path=/"
	// scoped is in the group with path /app; its deletion is sent with
	// the Path the upstream believes in.
	setScoped    = "scoped=1; Path=/; Secure"
	deleteScoped = "scoped=; Max-Age=0; Path=/; Secure"
	// shared is in the group with domain remove; wide is in no group.
	setShared = "shared=1; Domain=" + parentHost + "; Path=/; Secure"
	setWide   = "wide=1; Domain=" + parentHost + "; Path=/; Secure"
)

// setLongFlag is in flagged's group, and carries Secure and HttpOnly
// with values over the 1024 bytes that Chromium and Firefox read (RFC
// 6265bis §5.6; WebKit reads them).
var setLongFlag = "longflag=1; Path=/; Secure=" + strings.Repeat("x", 1100) + "; HttpOnly=" + strings.Repeat("y", 1100)

// splitSessionID sets session_id for an hour in Chromium and Firefox
// (Max-Age wins) and deletes it in WebKitGTK (libsoup lets the last of
// Max-Age and Expires decide).
// The log-in with a Domain that a migration makes host-only.
const (
	setSessionIDWide    = "session_id=old; Max-Age=43200; Domain=" + parentHost + "; Path=/; HttpOnly; Secure; SameSite=Lax"
	setUserIDWide       = "user_id__insecure=42; Domain=" + parentHost + "; Path=/; Secure; SameSite=Lax"
	deleteSessionIDWide = "session_id=; Max-Age=0; Domain=" + parentHost + "; Path=/; HttpOnly; Secure; SameSite=Lax"
)

// The log-in at Path=/app, and two log-outs of session_id alone with a
// tab in them, where libsoup stops reading: tabbedLogoutWebKit is
// Max-Age=0 up to the tab (WebKitGTK deletes) and Max-Age=3600 after it
// (Chromium and Firefox store it at /app); tabbedLogoutOthers is
// Max-Age=60 up to the tab (WebKitGTK stores it at the default path of
// /app/logout-others, /app: it does not read the Path after the tab) and
// Max-Age=0 after it (Chromium and Firefox delete it at /app).
const (
	setSessionIDApp    = "session_id=abc123; Max-Age=43200; Path=/app; Secure; SameSite=Lax"
	setUserIDApp       = "user_id__insecure=42; Path=/app; Secure; SameSite=Lax"
	tabbedLogoutWebKit = "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app; Secure; SameSite=Lax"
	tabbedLogoutOthers = "session_id=x; Secure; SameSite=Lax; Max-Age=60\t; Max-Age=0; Path=/app"
	deleteSessionIDApp = "session_id=; Max-Age=0; Path=/app; Secure; SameSite=Lax"
	deleteUserIDApp    = "user_id__insecure=; Max-Age=0; Path=/app; Secure; SameSite=Lax"
)

// splitTabSessionID and splitTabSessionIDWebKit have a tab where libsoup
// stops reading, so the module passes them unchanged: the first is a
// deletion in Chromium and Firefox (Max-Age wins) and a cookie until
// 2031 in WebKitGTK (libsoup lets the last of Max-Age and Expires
// decide); the second a deletion in WebKitGTK (Max-Age=0 up to the tab)
// and an hour in Chromium and Firefox (the later Max-Age=3600). Both put
// session_id at / in every engine (WebKitGTK, which does not read the
// second's Path, at the default path of /split-tab-session-webkit).
const (
	splitTabSessionID       = "session_id=x; Max-Age=0; Expires=Wed, 01 Jan 2031 00:00:00 GMT\t; Path=/; HttpOnly; Secure; SameSite=Lax"
	splitTabSessionIDWebKit = "session_id=x; HttpOnly; Secure; SameSite=Lax; Max-Age=0\t; Max-Age=3600; Path=/"
)

// tabInsideLogout and tabInsideValueLogout have a tab inside an
// attribute's value and inside the cookie's value: Chromium refuses such
// a field and keeps session_id; Firefox deletes it; libsoup deletes it
// (the first, Max-Age=0 before the tab) or stores "x" as a session
// cookie at the default path of the route, / (the second, the tab first).
const (
	tabInsideLogout      = "session_id=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax; X=p\tq"
	tabInsideValueLogout = "session_id=x\ty; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
)

// oversizedUserID sets user_id__insecure with a name plus value over 4096
// bytes: Chromium and Firefox refuse the field (RFC 6265bis §5.6),
// WebKitGTK stores it.
var oversizedUserID = "user_id__insecure=" + strings.Repeat("4", 4100) + "; Path=/; Secure; SameSite=Lax"

// oversizedUserIDElsewhere is oversizedUserID at /elsewhere.
var oversizedUserIDElsewhere = "user_id__insecure=" + strings.Repeat("4", 4100) + "; Path=/elsewhere; Secure; SameSite=Lax"

// The cascade site's second group: __Secure-sid and uid. Browsers refuse
// deleteSecureSIDUnflagged, a deletion of a __Secure- cookie without
// Secure, and keep the cookie (WebKitGTK too, if it checks the prefix).
const (
	setSecureSID             = "__Secure-sid=1; Path=/; Secure; Max-Age=3600"
	setUID                   = "uid=1; Path=/; Secure; Max-Age=3600"
	deleteSecureSIDUnflagged = "__Secure-sid=; Path=/; Max-Age=0"
)

const splitSessionID = "session_id=x; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax"

// setCrossed and deleteCrossed are in a group with secure off: browsers
// refuse a SameSite=None cookie without Secure, so the module keeps it
// there (without it the log-out would delete nothing).
const (
	setCrossed    = "crossed=1; Path=/; Secure; SameSite=None; Max-Age=3600"
	deleteCrossed = "crossed=; Path=/; Secure; SameSite=None; Max-Age=0"
)

// setHTTPPrefixed and deleteHTTPPrefixed are in a group with secure off
// and httponly off: Chromium and Firefox refuse an __Http- or
// __Host-Http- cookie without Secure and HttpOnly, a deletion too, so
// the module keeps both there.
var (
	setHTTPPrefixed    = []string{"__Http-sid=1; Path=/; Secure; HttpOnly; Max-Age=3600", "__Host-Http-uid=1; Path=/; Secure; HttpOnly; Max-Age=3600"}
	deleteHTTPPrefixed = []string{"__Http-sid=; Path=/; Secure; HttpOnly; Max-Age=0", "__Host-Http-uid=; Path=/; Secure; HttpOnly; Max-Age=0"}
)

// setTwice is in flagged's group too, with two Max-Age attributes: the
// group's rewrite keeps the last, which every engine reads, and drops the
// first.
const setTwice = "twice=1; Max-Age=100; Path=/; max-age=7200"

// The module configs of the test, one site each.
const (
	attributeDirectives = `	cookie_normalizer {
		group flags {
			cookies flagged longflag twice
			secure on
			httponly on
			samesite lax
		}
		group scoped {
			cookies scoped
			path /app
		}
		group hostonly {
			cookies shared
			domain remove
		}
		group insecure {
			cookies crossed
			secure off
		}
		group prefixed {
			cookies __Http-* __Host-Http-*
			secure off
			httponly off
		}
	}`
	consistencyDirectives = `	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			on_delete cascade
			on_partial expire
		}
	}`
	// placedDirectives moves the group from the app's Path=/app to /,
	// so that a log-out the module passes unchanged needs a deletion
	// placed at / (see placedScenarios).
	placedDirectives = `	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			path /
			on_delete cascade
		}
	}`
	// cascadeDirectives has on_delete cascade alone: without on_partial,
	// no other page of the scenario can heal a half log-in the cascade
	// left.
	cascadeDirectives = `	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			on_delete cascade
		}
		group prefixed {
			cookies __Secure-sid uid
			on_delete cascade
		}
		group host {
			cookies __Host-hp hp2
			on_delete cascade
		}
		group refused {
			cookies ra rb rc
			on_delete cascade
		}
	}`
	slideDirectives = `	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			expire 10s
			slide 4s
			domain remove
			path /
			secure on
			samesite lax
		}
	}`
)

// policyEnv is the Caddy of TestPolicies and its upstream.
type policyEnv struct {
	app *policyApp
	// Base URLs on 127.0.0.1: raw is reverse_proxy alone (the legacy app
	// as it is); attrs, consistency, cascade, placed and slide go
	// through the module with the config of that name.
	raw, attrs, consistency, cascade, placed, slide string
	// wwwConsistency is the consistency site under wwwHost, a site
	// other than raw's 127.0.0.1: a page of raw linking there is a
	// cross-site navigation.
	wwwConsistency string
	// attrsPort is the attrs site's port, which also serves wwwHost and
	// apiHost.
	attrsPort string
}

// startPolicyEnv starts the upstream and one Caddy with a site per config,
// and returns once every site, under every name, completes a TLS
// handshake.
func startPolicyEnv(t *testing.T) *policyEnv {
	t.Helper()
	app := &policyApp{seen: map[string][]string{}}
	upstream := app.start(t)
	addrs := map[string]string{}
	for _, k := range []string{"raw", "attrs", "consistency", "cascade", "placed", "slide"} {
		addrs[k] = testcaddy.FreeAddr(t)
	}
	_, attrsPort, _ := strings.Cut(addrs["attrs"], ":")
	_, consistencyPort, _ := strings.Cut(addrs["consistency"], ":")
	// Caddy answers /favicon.ico itself, outside the module: a browser
	// fetches one beside a page, when it likes, with the jar the page
	// left, and through on_partial it would heal (or, late, delete) a
	// half log-in a scenario builds next.
	site := func(names, directives string) string {
		return fmt.Sprintf("\n%s {\n\tbind 127.0.0.1\n\ttls internal\n\thandle /favicon.ico {\n\t\trespond 204\n\t}\n\thandle {\n%s\n\treverse_proxy %s\n\t}\n}\n", names, directives, upstream)
	}
	sites := site("https://"+addrs["raw"], "") +
		site(fmt.Sprintf("https://%s, https://%s:%s, https://%s:%s", addrs["attrs"], wwwHost, attrsPort, apiHost, attrsPort), attributeDirectives) +
		site(fmt.Sprintf("https://%s, https://%s:%s", addrs["consistency"], wwwHost, consistencyPort), consistencyDirectives) +
		site("https://"+addrs["cascade"], cascadeDirectives) +
		site("https://"+addrs["placed"], placedDirectives) +
		site("https://"+addrs["slide"], slideDirectives)
	testcaddy.StartTLS(t, sites, addrs["raw"])
	for _, k := range []string{"attrs", "consistency", "cascade", "placed", "slide"} {
		testcaddy.WaitTLS(t, addrs[k])
	}
	for _, host := range []string{wwwHost, apiHost} {
		waitTLSName(t, addrs["attrs"], host)
	}
	waitTLSName(t, addrs["consistency"], wwwHost)
	return &policyEnv{
		app:         app,
		raw:         "https://" + addrs["raw"],
		attrs:       "https://" + addrs["attrs"],
		consistency: "https://" + addrs["consistency"],
		cascade:     "https://" + addrs["cascade"],
		placed:      "https://" + addrs["placed"],
		slide:       "https://" + addrs["slide"],
		attrsPort:   attrsPort,

		wwwConsistency: "https://" + wwwHost + ":" + consistencyPort,
	}
}

// hostURL is the attrs site under host.
func (env *policyEnv) hostURL(host string) string {
	return "https://" + host + ":" + env.attrsPort
}

// waitTLSName is testcaddy.WaitTLS for a site name that only the browsers
// resolve: it dials addr (on 127.0.0.1) with name as SNI, and returns once
// Caddy presents a certificate for name. Caddy makes the `tls internal`
// certificate of each name on its own, after it starts listening.
func waitTLSName(t *testing.T, addr, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{
		InsecureSkipVerify: true, // the CA is throwaway; the name is checked below
		ServerName:         name,
	}}
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
			conn.Close()
			if len(certs) == 0 {
				err = fmt.Errorf("no certificate")
			} else {
				err = certs[0].VerifyHostname(name)
			}
		}
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no TLS handshake with %s as %s within a minute: %v", addr, name, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// policyApp is the upstream of TestPolicies: the legacy app's log-in and
// log-out, one route per attribute field, and pages that set nothing. A
// request with a probe query parameter has the names of the cookies it
// carried recorded under that probe, so that a test can tell what the
// browser sent, not only what it stored.
type policyApp struct {
	mu     sync.Mutex
	seen   map[string][]string // probe → cookie names the request carried
	probes atomic.Int64
}

func (a *policyApp) start(t *testing.T) string {
	t.Helper()
	routes := map[string][]string{
		"/attrs/set":       {setFlagged, setScoped, setPlain, setLongFlag, setTwice},
		"/attrs/unscope":   {deleteScoped},
		"/crossed/set":     {setCrossed},
		"/crossed/delete":  {deleteCrossed},
		"/prefixed/set":    setHTTPPrefixed,
		"/prefixed/delete": deleteHTTPPrefixed,
		"/domain/set":      {setShared, setWide},
		"/login":           {setSessionID, setUserID},
		"/half-login":      {setSessionID},
		"/oversized-user":  {oversizedUserID},
		// A log-out beside a member's field only WebKitGTK stores, at
		// another path; a __Secure- log-out without Secure.
		"/logout-oversized-elsewhere": {deleteSessionID, oversizedUserIDElsewhere},
		// The same with a field refused for SameSite=None without
		// Secure: the deletion at /elsewhere gets Secure.
		"/logout-none-elsewhere":   {deleteSessionID, "user_id__insecure=5; Path=/elsewhere; SameSite=None; Max-Age=3600"},
		"/secure-login":            {setSecureSID, setUID},
		"/secure-logout-unflagged": {deleteSecureSIDUnflagged},
		// A log-out Chromium and Firefox refuse (SameSite=None without
		// Secure) beside one they take, in a group without a prefixed
		// member.
		"/refused-login":  {"ra=1; Path=/; Secure; SameSite=None; Max-Age=3600", "rb=1; Path=/; Secure; Max-Age=3600", "rc=1; Path=/; Secure; Max-Age=3600"},
		"/refused-logout": {"ra=; Path=/; Max-Age=0; SameSite=None", "rb=; Path=/; Max-Age=0"},
		// A log-out of hp2 beside a __Host-hp set without Path.
		"/host-login":        {"__Host-hp=1; Path=/; Secure; Max-Age=3600", "hp2=1; Path=/; Secure; Max-Age=3600"},
		"/host-logout-reset": {"hp2=; Path=/; Secure; Max-Age=0", "__Host-hp=2; Secure; Max-Age=3600"},
		"/logout":            {deleteSessionID, deleteUserID},
		"/logout-session":    {deleteSessionID},
		"/split-session":     {splitSessionID},
		// The same apart readings in fields the module passes unchanged.
		"/split-tab-session":        {splitTabSessionID},
		"/split-tab-session-webkit": {splitTabSessionIDWebKit},
		"/tab-inside-logout":        {tabInsideLogout},
		"/tab-inside-value-logout":  {tabInsideValueLogout},
		// A log-in at the app's Path=/app, and log-outs the engines read
		// apart, which the module passes unchanged (see placedScenarios).
		"/app/login":         {setSessionIDApp, setUserIDApp},
		"/app/logout-webkit": {tabbedLogoutWebKit},
		"/app/logout-others": {tabbedLogoutOthers},
		"/app/logout-all":    {deleteSessionIDApp, deleteUserIDApp},
		// A log-in with Domain=app.localhost, then an app that makes
		// session_id host-only: it sets the new one and deletes the old
		// one, in that order.
		"/domain-login":   {setSessionIDWide, setUserIDWide},
		"/domain-migrate": {setSessionID, deleteSessionIDWide},
		"/mixed-login":    {setSessionID, setUserIDStrict},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probe := r.URL.Query().Get("probe"); probe != "" {
			var names []string
			for _, c := range r.Cookies() {
				names = append(names, c.Name)
			}
			a.mu.Lock()
			a.seen[probe] = names
			a.mu.Unlock()
		}
		// No page may come from a browser's cache: each load must reach
		// the module and the upstream.
		w.Header().Set("Cache-Control", "no-store")
		for _, c := range routes[r.URL.Path] {
			w.Header().Add("Set-Cookie", c)
		}
		if to := r.URL.Query().Get("to"); r.URL.Path == "/go" && to != "" {
			// A page that follows a link to another site, as a user
			// clicking one would: a top-level, cross-site navigation.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><title>go</title><script>setTimeout(function () { location.href = %q }, 200)</script>\n", to)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "page", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// awaitProbe waits for the upstream to see a request with probe and
// returns the names of the cookies it carried, sorted.
func (a *policyApp) awaitProbe(t *testing.T, probe string) []string {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		names, ok := a.seen[probe]
		a.mu.Unlock()
		if ok {
			slices.Sort(names)
			return names
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the upstream saw no request with probe %s within %s", probe, stepTimeout)
	return nil
}

// sent loads page (a URL without a query) in c and returns the names of the
// cookies the browser sent with it, sorted.
func (a *policyApp) sent(t *testing.T, c cookieClient, page string) []string {
	t.Helper()
	probe := strconv.FormatInt(a.probes.Add(1), 10)
	load(t, c, page+"?probe="+probe)
	a.mu.Lock()
	names, ok := a.seen[probe]
	a.mu.Unlock()
	if !ok {
		t.Fatalf("GET %s: the upstream saw no request with probe %s", page, probe)
	}
	slices.Sort(names)
	return names
}

// load GETs url in c, failing the test unless it answers 200, and returns
// when the request was sent and when it was answered.
func load(t *testing.T, c cookieClient, url string) (start, end time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	start = time.Now()
	if err := c.get(ctx, url); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return start, time.Now()
}

// scopedJarOf returns c's cookies with their scope, as scopedCookies
// lists them (in WebKit: those of the current page).
func scopedJarOf(t *testing.T, c cookieClient) []scopedCookie {
	t.Helper()
	sj, ok := c.(scopedJar)
	if !ok {
		t.Fatalf("%T cannot say where it stores a cookie", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	read := time.Now()
	jar, err := sj.scopedCookies(ctx)
	if err != nil {
		t.Fatalf("reading the jar: %v", err)
	}
	return slices.DeleteFunc(jar, func(c scopedCookie) bool { return expiringAt(c.storedCookie, read) })
}

// expiringAt reports whether c, listed by a jar read at read, is one the
// jar does not hold: Firefox reports expiries in whole seconds and may
// list a cookie a deletion (Max-Age=0) stored expiring at its arrival
// until that second ends (CI runs met it after a cascade's deletion,
// listed "in 0s" on either side of the read), so one that expires within
// a second of the read is not in the jar. No scenario sets a lifetime
// that short.
func expiringAt(c storedCookie, read time.Time) bool {
	return !c.expires.IsZero() && !c.expires.After(read.Add(time.Second))
}

// jarOf returns c's cookies, each of which must be a host-only cookie of
// 127.0.0.1 with Path=/, but those expiring within a second of the read
// (see expiringAt).
func jarOf(t *testing.T, c cookieClient) []storedCookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	read := time.Now()
	jar, err := c.cookies(ctx)
	if err != nil {
		t.Fatalf("reading the jar: %v", err)
	}
	return slices.DeleteFunc(jar, func(c storedCookie) bool { return expiringAt(c, read) })
}

// cookieNames returns the names in jar, sorted.
func cookieNames[C interface{ cookieName() string }](jar []C) []string {
	names := make([]string, 0, len(jar))
	for _, c := range jar {
		names = append(names, c.cookieName())
	}
	slices.Sort(names)
	return names
}

func (c storedCookie) cookieName() string { return c.name }

// wantNames fails the test unless the jar holds exactly the cookies named
// (in any order).
func wantNames[C interface{ cookieName() string }](t *testing.T, label string, jar []C, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := cookieNames(jar); !slices.Equal(got, want) {
		t.Errorf("%s: jar holds %q, want %q", label, got, want)
	}
}

// findScoped returns the cookie named name in jar, or nil.
func findScoped(jar []scopedCookie, name string) *scopedCookie {
	if i := slices.IndexFunc(jar, func(c scopedCookie) bool { return c.name == name }); i >= 0 {
		return &jar[i]
	}
	return nil
}

// clearWebKitAt, when c is WebKit's client, deletes at the end of the test
// every cookie that one of pages can see. WebDriver reads and deletes the
// cookies of the current page only, and the client's own clearing runs
// from the root of 127.0.0.1, so a cookie under another path or on
// another host would outlive the test. It runs before the client's own
// clearing. Chromium and Firefox drop the client's whole jar themselves.
func clearWebKitAt(t *testing.T, c cookieClient, pages ...string) {
	t.Helper()
	wc, ok := c.(*webkitClient)
	if !ok {
		return
	}
	t.Cleanup(func() {
		for _, page := range pages {
			if err := wc.clearPage(page); err != nil {
				t.Errorf("clearing WebKit's jar at %s: %v", page, err)
			}
		}
	})
}

// clearPage deletes the cookies page can see and waits until they are
// gone. It deletes only when there is something to delete: WebKit carries
// out a deletion after answering it, so a deletion whose completion cannot
// be seen could still remove the next test's cookies.
func (c *webkitClient) clearPage(page string) error {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	if err := c.get(ctx, page); err != nil {
		return err
	}
	deleted := false
	for {
		jar, err := c.scopedCookies(ctx)
		if err != nil {
			return err
		}
		if len(jar) == 0 {
			return nil
		}
		if !deleted {
			if err := c.wd.do(ctx, http.MethodDelete, c.wd.session+"/cookie", nil, nil); err != nil {
				return err
			}
			deleted = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("jar still holds %q", cookieNames(jar))
		case <-time.After(20 * time.Millisecond):
		}
	}
}
