package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/cookie-normalizer/caddy-cookie-normalizer"
	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestMain stops the engines' browsers after the tests. Each is started by
// the first test that needs it (one browser per engine for the package
// keeps the suite fast) and stopped through the handle that test kept (a
// chromedp allocator, or the process it started), never by name.
func TestMain(m *testing.M) {
	code := m.Run()
	stopChromium()
	stopFirefox()
	stopWebKit()
	os.Exit(code)
}

// TestBrowsers runs every scenario in every engine, one subtest per engine
// (TestBrowsers/Firefox/expire_12h), each scenario with an empty jar.
func TestBrowsers(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Logf("%s: %s", e.name, e.open(t))
			runScenarios(t, startTLSProxy, e.newClient)
		})
	}
}

// requireProgram returns the path of the first of names found in PATH. When
// none is found it skips the test, naming the Debian package to install;
// under CI=true it fails instead, so that CI cannot go green having run
// nothing.
func requireProgram(t *testing.T, debianPackage string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	what := names[0] + " not"
	if len(names) > 1 {
		what = "none of " + strings.Join(names, ", ")
	}
	msg := fmt.Sprintf("%s found in PATH; install it with: apt-get install -y %s", what, debianPackage)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing client is a failure, not a skip)")
	}
	t.Skip(msg)
	return ""
}

// The legacy app's Set-Cookie fields, byte for byte. They are written with
// Header().Add, not http.SetCookie, which would re-serialise them (quote
// values, drop Priority).
const (
	setSessionID = "session_id=abc123; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax"
	setUserID    = "user_id__insecure=42; Path=/; Secure; SameSite=Lax"
	// setUserIDStrict is setUserID with SameSite=Strict: a link from
	// another site carries session_id (Lax) but not this.
	setUserIDStrict = "user_id__insecure=42; Path=/; Secure; SameSite=Strict"
	// The two ways applications delete a cookie: Max-Age=0, and an Expires
	// in the past.
	deleteSessionID = "session_id=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
	deleteUserID    = "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; SameSite=Lax"
	// Cookies the demo configs do not name, or name to test byte
	// preservation: a quoted value with a comma and a space, and an
	// attribute net/http does not know (Chromium does: Priority).
	setTheme = "theme=dark; Max-Age=600; Path=/"
	setPref  = `pref="a, b"; Path=/; Priority=High`
)

// startLegacyApp runs the application cookie_normalizer sits in front of:
// like the PyPI case, it sets session_id for 12 hours but user_id__insecure
// as a session cookie. It returns its host:port on 127.0.0.1.
func startLegacyApp(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	handle := func(path, body string, cookies ...string) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			for _, c := range cookies {
				w.Header().Add("Set-Cookie", c)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, body)
		})
	}
	handle("/login", "logged in", setSessionID, setUserID)
	handle("/logout", "logged out", deleteSessionID, deleteUserID)
	handle("/prefs", "preferences saved", setTheme, setPref)
	// httptest.NewServer listens on 127.0.0.1 only.
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// startProxy runs Caddy with directives in front of the legacy app at
// upstream, until the test ends, and returns its base URL.
func startProxy(t *testing.T, upstream, directives string) string {
	t.Helper()
	addr := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
%s
	reverse_proxy %s
}
`, addr, directives, upstream))
	return "http://" + addr
}

// startTLSProxy is startProxy over HTTPS, with a certificate from a
// throwaway local CA that no client trusts (browsers are told to accept it,
// curl and Go skip verification). The scenarios' cookies are Secure, and
// WebKitGTK (libsoup) drops Secure cookies received over plain http even
// from 127.0.0.1, where Chromium, Firefox, Go and curl keep them. It
// returns once Caddy completes a TLS handshake, not merely a connect.
func startTLSProxy(t *testing.T, upstream, directives string) (baseURL string) {
	t.Helper()
	addr := testcaddy.FreeAddr(t)
	testcaddy.StartTLS(t, fmt.Sprintf(`
https://%s {
	bind 127.0.0.1
	tls internal
%s
	reverse_proxy %s
}
`, addr, directives, upstream), addr)
	return "https://" + addr
}

// wantCookie is one cookie a client must hold after a step.
type wantCookie struct {
	name, value string // value as the app sent it, quotes included
	lifetime    time.Duration
	session     bool // no expiry; lifetime is then ignored

	// Checked where the client exposes them.
	httpOnly, secure bool
	sameSite         string // "Lax", or "" when the app sent none
	priority         string // "High"; "" to skip (only Chromium keeps it)
}

func sessionID(lifetime time.Duration) wantCookie {
	return wantCookie{name: "session_id", value: "abc123", lifetime: lifetime, httpOnly: true, secure: true, sameSite: "Lax"}
}

func userID(lifetime time.Duration) wantCookie {
	return wantCookie{name: "user_id__insecure", value: "42", lifetime: lifetime, secure: true, sameSite: "Lax"}
}

func sessionCookie(w wantCookie) wantCookie { w.session, w.lifetime = true, 0; return w }

func withValue(w wantCookie, v string) wantCookie { w.value = v; return w }

var (
	theme = wantCookie{name: "theme", value: "dark", lifetime: 600 * time.Second}
	pref  = wantCookie{name: "pref", value: `"a, b"`, session: true, priority: "High"}
)

// step is one request and the whole jar expected after it.
type step struct {
	path string
	jar  []wantCookie
	// agree lists cookies whose expiries must be within expiryTolerance of
	// each other: the point of the module.
	agree []string
}

// scenario is a cookie_normalizer config and the requests to make through it.
type scenario struct {
	name       string
	directives string // site directives besides reverse_proxy; "" for none
	steps      []step
}

const (
	expire12h = `	cookie_normalizer session_id user_id__insecure {
		expire 12h
	}`
	expireLike = `	cookie_normalizer user_id__insecure {
		expire like session_id
	}`
)

// scenarios is what every client runs. The wanted jars are what the module
// promises; the first and the last scenario show the problem and the naive
// fix that the module replaces.
var scenarios = []scenario{
	{
		name: "without module the PyPI cookies disagree",
		steps: []step{{path: "/login", jar: []wantCookie{
			sessionID(12 * time.Hour), sessionCookie(userID(0)),
		}}},
	},
	{
		name: "expire session",
		directives: `	cookie_normalizer session_id user_id__insecure {
		expire session
	}`,
		steps: []step{{path: "/login", jar: []wantCookie{
			sessionCookie(sessionID(0)), sessionCookie(userID(0)),
		}}},
	},
	{
		name:       "expire 12h",
		directives: expire12h,
		steps: []step{{path: "/login", jar: []wantCookie{
			sessionID(12 * time.Hour), userID(12 * time.Hour),
		}, agree: []string{"session_id", "user_id__insecure"}}},
	},
	{
		name: "expire max 1h",
		directives: `	cookie_normalizer session_id user_id__insecure {
		expire max 1h
	}`,
		steps: []step{{path: "/login", jar: []wantCookie{
			sessionID(time.Hour), sessionCookie(userID(0)),
		}}},
	},
	{
		name:       "expire like session_id",
		directives: expireLike,
		steps: []step{{path: "/login", jar: []wantCookie{
			sessionID(12 * time.Hour), userID(12 * time.Hour),
		}, agree: []string{"session_id", "user_id__insecure"}}},
	},
	{
		name:       "log-out deletes both through expire 12h",
		directives: expire12h,
		steps: []step{
			{path: "/login", jar: []wantCookie{sessionID(12 * time.Hour), userID(12 * time.Hour)}},
			{path: "/logout", jar: nil},
		},
	},
	{
		name:       "log-out deletes both through expire like",
		directives: expireLike,
		steps: []step{
			{path: "/login", jar: []wantCookie{sessionID(12 * time.Hour), userID(12 * time.Hour)}},
			{path: "/logout", jar: nil},
		},
	},
	{
		name:       "unmatched cookies stored as the app sent them",
		directives: expire12h,
		steps:      []step{{path: "/prefs", jar: []wantCookie{theme, pref}}},
	},
	{
		name: "quoted value and unknown attribute survive a rewrite",
		directives: `	cookie_normalizer pref {
		expire 1h
	}`,
		steps: []step{{path: "/prefs", jar: []wantCookie{
			theme, {name: "pref", value: `"a, b"`, lifetime: time.Hour, priority: "High"},
		}}},
	},
	{
		// The failure the module exists to avoid: Caddy's header regex
		// replace appends Max-Age to the log-out fields too, and the last
		// Max-Age wins, so log-out re-creates both cookies, empty, for 12
		// hours. If this scenario starts failing, Caddy changed and
		// the README's comparison must be checked again.
		name:       "contrast: header regex re-creates cookies on log-out",
		directives: `	header >Set-Cookie "^((?:session_id|user_id__insecure)=.*)$" "$1; Max-Age=43200"`,
		steps: []step{
			{path: "/login", jar: []wantCookie{sessionID(12 * time.Hour), userID(12 * time.Hour)}},
			{path: "/logout", jar: []wantCookie{
				withValue(sessionID(12*time.Hour), ""), withValue(userID(12*time.Hour), ""),
			}},
		},
	},
}

// storedCookie is a cookie as a client's jar holds it.
type storedCookie struct {
	name, value string
	expires     time.Time // zero for a session cookie

	attrs    *storedAttrs // nil when the client does not expose them
	priority string       // "" when the client does not keep it
}

// storedAttrs are the flags a client keeps. sameSiteKnown is false for
// clients that do not keep SameSite (curl).
type storedAttrs struct {
	httpOnly, secure bool
	sameSite         string
	sameSiteKnown    bool
}

// cookieClient is one cookie store driven over HTTP.
type cookieClient interface {
	// get requests url, storing the response's cookies; it fails unless
	// the status is 200.
	get(ctx context.Context, url string) error
	// cookies returns every cookie in the jar.
	cookies(ctx context.Context) ([]storedCookie, error)
}

// expiryTolerance absorbs the Date header's whole seconds and the clients'
// own clocks (Chromium and curl compute Max-Age from theirs).
const expiryTolerance = 2 * time.Second

// stepTimeout bounds one request or one jar read.
const stepTimeout = 15 * time.Second

// runScenarios runs every scenario with a fresh client from newClient,
// each behind its own Caddy started by proxy (startTLSProxy, or startProxy
// for plain http).
func runScenarios(t *testing.T, proxy func(t *testing.T, upstream, directives string) string, newClient func(t *testing.T) cookieClient) {
	upstream := startLegacyApp(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			base := proxy(t, upstream, sc.directives)
			c := newClient(t)
			start := time.Now()
			for i, st := range sc.steps {
				ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
				err := c.get(ctx, base+st.path)
				cancel()
				if err != nil {
					t.Fatalf("step %d: GET %s: %v", i, st.path, err)
				}
				end := time.Now()
				ctx, cancel = context.WithTimeout(context.Background(), stepTimeout)
				got, err := c.cookies(ctx)
				cancel()
				if err != nil {
					t.Fatalf("step %d: reading the jar: %v", i, err)
				}
				label := fmt.Sprintf("step %d (GET %s)", i, st.path)
				t.Logf("%s: jar: %s", label, describe(got))
				checkJar(t, label, got, st, start, end)
			}
		})
	}
}

// checkJar compares a whole jar with the wanted one. Cookies set between
// start and end with lifetime L must expire in [start+L, end+L], give or
// take expiryTolerance.
func checkJar(t *testing.T, label string, got []storedCookie, st step, start, end time.Time) {
	t.Helper()
	byName := map[string]storedCookie{}
	for _, c := range got {
		if _, dup := byName[c.name]; dup {
			t.Errorf("%s: jar holds %s twice: %+v", label, c.name, got)
		}
		byName[c.name] = c
	}
	for _, w := range st.jar {
		c, ok := byName[w.name]
		if !ok {
			t.Errorf("%s: %s missing from the jar; jar: %s", label, w.name, describe(got))
			continue
		}
		delete(byName, w.name)
		if c.value != w.value {
			t.Errorf("%s: %s value = %q, want %q", label, w.name, c.value, w.value)
		}
		switch {
		case w.session && !c.expires.IsZero():
			t.Errorf("%s: %s expires %s (in %s), want a session cookie",
				label, w.name, c.expires.UTC().Format(time.RFC3339), time.Until(c.expires).Round(time.Second))
		case !w.session && c.expires.IsZero():
			t.Errorf("%s: %s is a session cookie, want a lifetime of %s", label, w.name, w.lifetime)
		case !w.session:
			lo := start.Add(w.lifetime - expiryTolerance)
			hi := end.Add(w.lifetime + expiryTolerance)
			if c.expires.Before(lo) || c.expires.After(hi) {
				t.Errorf("%s: %s expires %s, want between %s and %s (now + %s)", label, w.name,
					c.expires.UTC().Format(time.RFC3339), lo.UTC().Format(time.RFC3339), hi.UTC().Format(time.RFC3339), w.lifetime)
			}
		}
		if a := c.attrs; a != nil {
			if a.httpOnly != w.httpOnly || a.secure != w.secure {
				t.Errorf("%s: %s HttpOnly=%t Secure=%t, want HttpOnly=%t Secure=%t",
					label, w.name, a.httpOnly, a.secure, w.httpOnly, w.secure)
			}
			if a.sameSiteKnown && a.sameSite != w.sameSite {
				t.Errorf("%s: %s SameSite = %q, want %q", label, w.name, a.sameSite, w.sameSite)
			}
		}
		if w.priority != "" && c.priority != "" && c.priority != w.priority {
			t.Errorf("%s: %s Priority = %q, want %q", label, w.name, c.priority, w.priority)
		}
	}
	for name := range byName {
		t.Errorf("%s: unexpected cookie %s in the jar; jar: %s", label, name, describe(got))
	}
	for _, name := range st.agree[min(1, len(st.agree)):] {
		a, b := findCookie(got, st.agree[0]), findCookie(got, name)
		if a == nil || b == nil {
			continue // reported above as missing
		}
		if d := a.expires.Sub(b.expires).Abs(); d > expiryTolerance {
			t.Errorf("%s: %s and %s expire %s apart, want within %s", label, a.name, b.name, d, expiryTolerance)
		}
	}
}

func findCookie(jar []storedCookie, name string) *storedCookie {
	if i := slices.IndexFunc(jar, func(c storedCookie) bool { return c.name == name }); i >= 0 {
		return &jar[i]
	}
	return nil
}

// describe prints a jar for failure messages.
func describe(jar []storedCookie) string {
	if len(jar) == 0 {
		return "(empty)"
	}
	parts := make([]string, 0, len(jar))
	for _, c := range jar {
		exp := "session"
		if !c.expires.IsZero() {
			exp = "in " + time.Until(c.expires).Round(time.Second).String()
		}
		parts = append(parts, fmt.Sprintf("%s=%q (%s)", c.name, c.value, exp))
	}
	return strings.Join(parts, ", ")
}
