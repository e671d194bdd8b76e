package cookienormalizer

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// These tests cover responses that name one member in several fields.
// Browsers keep one cookie per name, domain (host-only or not) and path
// (RFC 6265bis §5.7; Chromium, Firefox and WebKitGTK alike): fields for
// one name at two paths, or one host-only and one with a Domain, are two
// cookies, and the order of the two fields changes nothing in the jar.

const scopeGroup = "cookie_normalizer {\n\tgroup login {\n\t\tcookies session_id user_id__insecure\n\t\texpire 12h\n\t\ton_delete cascade\n\t\ton_partial expire\n\t}\n}"

// scopeServe sends one HTTPS request for /app/page with the given
// Cookie header through a handler for directive, the app answering with
// the proxy's own time as Date and the fields app, and returns the
// response's Set-Cookie fields.
func scopeServe(t *testing.T, directive, cookie string, app ...string) []string {
	t.Helper()
	h, err := hostileHandler(t, directive)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	return jarSimServePath(t, h, "/app/page", cookie, now, app...)
}

// TestCascadeSkipsPathMigrationSetFirst: an app moving session_id from
// Path=/app to Path=/ sets it at / and then deletes the old copy at
// /app, leaving user_id__insecure (still at /app) alone. The browser ends
// with session_id live at /: the response sets a member, and a cascade
// happens only when none is set. The same two fields in the other order
// already get no cascade; in this order the module took the last field,
// the /app deletion, for session_id's log-out and deleted
// user_id__insecure at /app, leaving session_id without it in every
// engine.
func TestCascadeSkipsPathMigrationSetFirst(t *testing.T) {
	set := "session_id=b; Max-Age=43200; Path=/"
	del := "session_id=; Max-Age=0; Path=/app"
	setOut := "session_id=b; Path=/; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200"
	for _, order := range [][]string{{set, del}, {del, set}} {
		out := scopeServe(t, scopeGroup, "session_id=a; user_id__insecure=42", order...)
		want := []string{setOut, del}
		if order[0] == del {
			want = []string{del, setOut}
		}
		if !slices.Equal(out, want) {
			t.Errorf("fields %q:\n got %q\nwant %q", order, out, want)
		}
		for _, fromDate := range []bool{true, false} {
			jar := newJarSim()
			jar.fromDate = fromDate
			now := testClock.Unix()
			jar.set("session_id=a; Max-Age=43200; Path=/app", "/app/page", now-60, now-60)
			jar.set("user_id__insecure=42; Path=/app", "/app/page", now-60, now-60)
			for _, f := range out {
				jar.set(f, "/app/page", now, now)
			}
			if got := jar.header("/app/page", now); got != "user_id__insecure=42; session_id=b" {
				t.Errorf("fields %q, Expires from Date %t: the jar sends %q for /app/page, want user_id__insecure=42; session_id=b (jar %s)", order, fromDate, got, jar.String(now))
			}
		}
	}
}

// TestCascadeSkipsDomainMigrationSetFirst: the same migration from a
// Domain=.example.com cookie to a host-only one. Host-only and domain
// cookies of one name are two cookies in every engine (Chromium and
// Firefox store the domain one as .example.com, libsoup too).
func TestCascadeSkipsDomainMigrationSetFirst(t *testing.T) {
	set := "session_id=b; Max-Age=43200; Path=/"
	del := "session_id=; Max-Age=0; Path=/; Domain=.example.com"
	out := scopeServe(t, scopeGroup, "session_id=a; user_id__insecure=42", set, del)
	want := []string{"session_id=b; Path=/; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200", del}
	if !slices.Equal(out, want) {
		t.Errorf("\n got %q\nwant %q", out, want)
	}
}

// TestCascadeAfterSetThenDeleteSamePath: set and then deleted at the same
// path and domain is one cookie, deleted: still a log-out, cascaded.
func TestCascadeAfterSetThenDeleteSamePath(t *testing.T) {
	for _, del := range []string{"session_id=; Max-Age=0; Path=/", "session_id=; Max-Age=0; path=/; Domain=example.com"} {
		set := "session_id=b; Max-Age=43200; Path=/"
		if strings.Contains(del, "Domain") {
			set = "session_id=b; Max-Age=43200; Path=/; domain=.EXAMPLE.com"
		}
		out := scopeServe(t, scopeGroup, "session_id=a; user_id__insecure=42", set, del)
		if len(out) != 3 || !strings.HasPrefix(out[2], "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/") {
			t.Errorf("%q then %q: got %q, want user_id__insecure's deletion appended", set, del, out)
		}
	}
	// A Path a browser does not read (not starting with '/') is the
	// default-path, which the module does not know: still a deletion.
	out := scopeServe(t, scopeGroup, "", "session_id=b; Max-Age=43200; Path=app", "session_id=; Max-Age=0; Path=/")
	if want := "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"; len(out) != 3 || out[2] != want {
		t.Errorf("default-path set then deletion: got %q, want %q appended", out, want)
	}
}

// TestCascadePathFromStoredDeletion: a deletion of session_id at / is
// followed by a session_id field that Chromium and Firefox refuse (a
// name plus value over 4096 bytes) at Path=/other. That field sets
// nothing for the consistency rules, so the response logs session_id out
// at /; the cascade must delete user_id__insecure there too, not at the
// refused field's path, where it would leave user_id__insecure at / alone
// in every engine. WebKitGTK stores that field, at /other: session_id is
// deleted there too, or WebKitGTK would keep it alone.
func TestCascadePathFromStoredDeletion(t *testing.T) {
	big := "session_id=" + strings.Repeat("x", 4100) + "; Path=/other"
	out := scopeServe(t, scopeGroup, "session_id=a; user_id__insecure=42", "session_id=; Max-Age=0; Path=/", big)
	want := []string{"session_id=; Max-Age=0; Path=/", big, "session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/other", "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"}
	if !slices.Equal(out, want) {
		t.Errorf("\n got %.200q\nwant %.200q", out, want)
	}
}

// scopeServeURL is scopeServe with scopeGroup for a request to url (its
// scheme and host are what the module sees), carrying both members.
func scopeServeURL(t *testing.T, url string, app ...string) []string {
	t.Helper()
	h, err := hostileHandler(t, scopeGroup)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	return serveFieldsAt(t, h, url, "session_id=a; user_id__insecure=42", now, app...)
}

// scopeSetOut is what scopeGroup makes of session_id=b; Max-Age=43200;
// Path=/ (expire 12h from the test's clock).
const scopeSetOut = "session_id=b; Path=/; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200"

// TestCascadeDomainEqualToIPOrSingleLabelHost: on a host that is an IP
// address or a single label (localhost, an intranet name), Chromium and
// Firefox store a cookie whose Domain is the host itself as a host-only
// cookie (libsoup too, for an IP address): the field that sets
// session_id host-only and the deletion with Domain=<host> after it are
// one cookie, set and then deleted. A log-out: the cascade must delete
// user_id__insecure, or every engine keeps it alone.
func TestCascadeDomainEqualToIPOrSingleLabelHost(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost", "intranet"} {
		set := "session_id=b; Max-Age=43200; Path=/"
		del := "session_id=; Max-Age=0; Path=/; Domain=" + host
		out := scopeServeURL(t, "https://"+host+"/app/page", set, del)
		want := []string{scopeSetOut, del, "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Domain=" + host}
		if !slices.Equal(out, want) {
			t.Errorf("host %s:\n got %q\nwant %q", host, out, want)
		}
	}
}

// TestCascadeSecureSetOverPlainHTTP: over plain http, WebKitGTK drops a
// Secure cookie (on any host) and Chromium and Firefox drop it on any
// host but a loopback one. The Secure field at / sets nothing there;
// the deletion at /app logs session_id out: the cascade must follow.
func TestCascadeSecureSetOverPlainHTTP(t *testing.T) {
	set := "session_id=b; Max-Age=43200; Path=/; Secure"
	del := "session_id=; Max-Age=0; Path=/app"
	out := scopeServeURL(t, "http://example.com/app/page", set, del)
	want := []string{"session_id=b; Path=/; Secure; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200", del, "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"}
	if !slices.Equal(out, want) {
		t.Errorf("\n got %q\nwant %q", out, want)
	}
}

// TestCascadeRefusedDeletionBetween: session_id is set at /, then a
// deletion of it at / that Chromium and Firefox refuse (a name plus
// value over 4096 bytes) but WebKitGTK stores whole, then deleted at
// /app. In WebKitGTK session_id is gone at both paths: a log-out there,
// so the cascade must follow (the other engines keep session_id at /
// either way, as they did before the migration rule).
func TestCascadeRefusedDeletionBetween(t *testing.T) {
	set := "session_id=b; Max-Age=43200; Path=/"
	big := "session_id=" + strings.Repeat("x", 4096) + "; Max-Age=0; Path=/"
	del := "session_id=; Max-Age=0; Path=/app"
	out := scopeServeURL(t, "https://example.com/app/page", set, big, del)
	want := []string{scopeSetOut, big, del, "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"}
	if !slices.Equal(out, want) {
		t.Errorf("\n got %.300q\nwant %.300q", out, want)
	}
}

// TestCascadeUnsureFieldBetween: a field whose lifetime the module
// cannot read the way every engine does (an Expires in a form the
// engines' date parsers may read differently: the module leaves it
// alone) follows the field that sets session_id at /, at the same path.
// Some engine may delete session_id at / with it: the member may be
// deleted, which counts as deleted. And an engine that keeps it (one
// that cannot read the date keeps a session cookie) would keep
// session_id alone at /: the cascade deletes it there too (see
// TestCascadeEarlierUnsureFieldElsewhere).
func TestCascadeUnsureFieldBetween(t *testing.T) {
	set := "session_id=b; Max-Age=43200; Path=/"
	odd := "session_id=c; Path=/; Expires=1970-01-01 00:00:00"
	del := "session_id=; Max-Age=0; Path=/app"
	out := scopeServeURL(t, "https://example.com/app/page", set, odd, del)
	want := []string{scopeSetOut, odd, del, "session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/", "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"}
	if !slices.Equal(out, want) {
		t.Errorf("\n got %q\nwant %q", out, want)
	}
}

// TestCascadeOversizedPathOrOddDomain: WebKitGTK reads a Path over 1024
// bytes, which Chromium and Firefox ignore: the set at / and the
// deletion at /app both carry the same long Path after, one cookie for
// WebKitGTK, set and deleted. And Chromium refuses a Domain with a
// non-ASCII byte (the Kelvin sign, which strings.EqualFold takes for a
// k): that set field stores nothing there, and the deletion logs
// session_id out. Both are log-outs in some engine: the cascade follows.
func TestCascadeOversizedPathOrOddDomain(t *testing.T) {
	long := "; Path=/" + strings.Repeat("p", 1100)
	for i, tc := range []struct{ set, del, cascaded string }{
		{"session_id=b; Max-Age=43200; Path=/" + long, "session_id=; Max-Age=0; Path=/app" + long, "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"},
		{"session_id=b; Max-Age=43200; Path=/; Domain=\u212aexample.com", "session_id=; Max-Age=0; Path=/app; Domain=kexample.com", "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; Domain=kexample.com"},
	} {
		out := scopeServeURL(t, "https://www.kexample.com/app/page", tc.set, tc.del)
		if len(out) != 3 || out[1] != tc.del || out[2] != tc.cascaded {
			t.Errorf("%d: got %.300q, want %.300q appended", i, out, tc.cascaded)
		}
	}
}

// TestHostOnlyDomain: the request's Host without its port, and whether a
// Domain equal to it makes a host-only cookie (an IP address or a name
// without a dot) or a domain cookie.
func TestHostOnlyDomain(t *testing.T) {
	for _, tc := range []struct {
		hostport, host string
		hostOnly       bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1:8443", "127.0.0.1", true},
		{"[::1]:8443", "::1", true},
		{"[::1]", "::1", true},
		{"::1", "::1", true},
		{"localhost:2015", "localhost", true},
		{"intranet", "intranet", true},
		{"www.example.com:443", "www.example.com", false},
		{"example.com", "example.com", false},
		{"1.example", "1.example", false},
	} {
		host := hostName(tc.hostport)
		if host != tc.host {
			t.Errorf("hostName(%q) = %q, want %q", tc.hostport, host, tc.host)
		}
		if got := hostOnlyDomain(strings.ToUpper(tc.host), host); got != tc.hostOnly {
			t.Errorf("hostOnlyDomain(%q, %q) = %v, want %v", strings.ToUpper(tc.host), host, got, tc.hostOnly)
		}
		if hostOnlyDomain("other."+tc.host, host) {
			t.Errorf("hostOnlyDomain(%q, %q): a Domain other than the host", "other."+tc.host, host)
		}
	}
}

// TestCascadeMovedReadsThePolicies: whether the field that sets the
// member elsewhere is stored is read as the group's policies send it.
// The app's field has SameSite=None without Secure, which browsers
// refuse; the group's secure on adds Secure, so the browser stores it at
// / and the deletion at /app is a migration: nothing cascades. (Read as
// the app wrote it, the module cascaded, and the browser kept the new
// session_id without user_id__insecure.)
func TestCascadeMovedReadsThePolicies(t *testing.T) {
	h, err := hostileHandler(t, "cookie_normalizer {\n\tgroup login {\n\t\tcookies session_id user_id__insecure\n\t\texpire 12h\n\t\tsecure on\n\t\tsamesite none\n\t\ton_delete cascade\n\t}\n}")
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	want := []string{"session_id=b; Path=/; SameSite=None; Secure; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200", "session_id=; Max-Age=0; Path=/app; Secure; SameSite=None"}
	// Twice: the second response's fields come from the memo, built
	// after the consistency rules have read the app's.
	for i := range 2 {
		out := serveFieldsAt(t, h, "https://example.com/app/page", "session_id=a; user_id__insecure=42", now,
			"session_id=b; Max-Age=43200; Path=/; SameSite=None", "session_id=; Max-Age=0; Path=/app")
		if !slices.Equal(out, want) {
			t.Errorf("response %d:\n got %q\nwant %q", i+1, out, want)
		}
	}
}

// TestCascadeMovedOnIPHostDomainDeletion: on an IP host, the deletion's
// Domain=<host> makes a host-only cookie (Chromium, Firefox and libsoup
// alike), but at Path=/app, while the field before it sets session_id
// host-only at /: two paths, two cookies in every engine, whatever the
// deletion's Domain. session_id stays live at /: a migration, and the
// cascade must not delete user_id__insecure (it deleted it at /app,
// leaving session_id without it).
func TestCascadeMovedOnIPHostDomainDeletion(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "[::1]", "localhost"} {
		del := "session_id=; Max-Age=0; Path=/app; Domain=" + strings.Trim(host, "[]")
		out := scopeServeURL(t, "https://"+host+"/app/page", "session_id=b; Max-Age=43200; Path=/", del)
		if want := []string{scopeSetOut, del}; !slices.Equal(out, want) {
			t.Errorf("host %s:\n got %q\nwant %q", host, out, want)
		}
	}
}

// TestCascadeCrossSiteSetNotSameSiteNone: on a cross-site request (a
// frame in another site's page), Chromium, Firefox and WebKitGTK refuse
// a cookie set without SameSite=None (Chromium reads none as Lax). The
// field that sets session_id at / stores nothing; the deletion at /app,
// SameSite=None and Secure, is stored: a log-out, and the cascade must
// follow with SameSite=None so that it is stored too. With SameSite=None
// on the set field, it is a migration, as on a same-site request.
func TestCascadeCrossSiteSetNotSameSiteNone(t *testing.T) {
	h, err := hostileHandler(t, scopeGroup)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	del := "session_id=; Max-Age=0; Path=/app; Secure; SameSite=None"
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"session_id=b; Max-Age=43200; Path=/; Secure", []string{
			"session_id=b; Path=/; Secure; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200", del,
			"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; Secure; SameSite=None",
		}},
		{"session_id=b; Max-Age=43200; Path=/; Secure; SameSite=Lax", []string{
			"session_id=b; Path=/; Secure; SameSite=Lax; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200", del,
			"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; Secure; SameSite=None",
		}},
		{"session_id=b; Max-Age=43200; Path=/; Secure; SameSite=None", []string{
			"session_id=b; Path=/; Secure; SameSite=None; Expires=Wed, 25 Nov 2026 01:00:00 GMT; Max-Age=43200", del,
		}},
	} {
		req := httptest.NewRequest(http.MethodGet, "https://example.com/app/page", nil)
		req.Header.Set("Cookie", "session_id=a; user_id__insecure=42")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		rec := httptest.NewRecorder()
		err := h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			w.Header().Set("Date", time.Unix(now, 0).UTC().Format(http.TimeFormat))
			w.Header().Add("Set-Cookie", tc.set)
			w.Header().Add("Set-Cookie", del)
			w.WriteHeader(http.StatusOK)
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		if out := rec.Header().Values("Set-Cookie"); !slices.Equal(out, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.set, out, tc.want)
		}
	}
}

// TestCascadeCrossSiteWithoutOnPartial: the cross-site rule holds in a
// group with on_delete alone, which reads no Cookie header: the request's
// Sec-Fetch-Site is read on arrival for it too.
func TestCascadeCrossSiteWithoutOnPartial(t *testing.T) {
	h, err := hostileHandler(t, "cookie_normalizer session_id user_id__insecure {\n\ton_delete cascade\n}")
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	set := "session_id=b; Max-Age=43200; Path=/; Secure"
	del := "session_id=; Max-Age=0; Path=/app; Secure; SameSite=None"
	req := httptest.NewRequest(http.MethodGet, "https://example.com/app/page", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	err = h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Date", time.Unix(now, 0).UTC().Format(http.TimeFormat))
		w.Header()["Set-Cookie"] = []string{set, del}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{set, del, "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app; Secure; SameSite=None"}
	if got := rec.Header().Values("Set-Cookie"); !slices.Equal(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// TestCascadeSlowClockMigrationLogsOutEveryEngine: an app whose clock
// runs two hours slow moves session_id from Path=/app to Path=/ with an
// Expires half an hour after its own Date, before the proxy's clock.
// WebKitGTK reads that Expires on its own clock (a deletion), Chromium
// and Firefox count it from the Date (a live cookie): no engine-proof
// migration, so the module takes the response for session_id's log-out
// and cascades, and then every engine must end with neither member, as
// for the same Expires on a renewal (TestSlowAppClockRenewalDeletesTheGroup).
// Set first, the cascade deleted user_id__insecure at /app but left
// session_id at / in Chromium and Firefox (only the member's last field
// gets a deletion of its own); set last, it took the set field's Path=/
// for user_id__insecure's deletion, and left user_id__insecure at /app
// in every engine.
func TestCascadeSlowClockMigrationLogsOutEveryEngine(t *testing.T) {
	h, err := hostileHandler(t, scopeGroup)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	date := now - 2*3600 // the app's clock
	set := "session_id=b; Expires=" + time.Unix(date+1800, 0).UTC().Format(http.TimeFormat) + "; Path=/"
	del := "session_id=; Max-Age=0; Path=/app"
	for _, order := range [][]string{{set, del}, {del, set}} {
		out := jarSimServePath(t, h, "/app/page", "session_id=a; user_id__insecure=42", date, order...)
		for _, fromDate := range []bool{true, false} { // Chromium and Firefox; WebKitGTK
			jar := newJarSim()
			jar.fromDate = fromDate
			jar.set("session_id=a; Max-Age=43200; Path=/app", "/app/page", now-60, now-60)
			jar.set("user_id__insecure=42; Path=/app", "/app/page", now-60, now-60)
			for _, f := range out {
				jar.set(f, "/app/page", now, date)
			}
			if len(jar.named("session_id")) != 0 || len(jar.named("user_id__insecure")) != 0 {
				t.Errorf("fields %q, Expires from Date %t:\n out %q\n the jar holds %s, want neither member", order, fromDate, out, jar.String(now))
			}
		}
	}
}

// scopeJarHolds applies out, the response to a request for /app/page on
// www.example.com, to a jar holding session_id and user_id__insecure at
// /app, reading an Expires as Chromium and Firefox do (from the Date,
// fromDate) or as WebKitGTK does, and skipping the fields refused says
// every engine refuses; it returns how many of the two members the jar
// then holds (anywhere) and the jar.
func scopeJarHolds(out []string, now, date int64, fromDate bool, refused func(string) bool) (int, *jarSim) {
	jar := newJarSim()
	jar.fromDate, jar.host = fromDate, "www.example.com"
	jar.set("session_id=a; Max-Age=43200; Path=/app", "/app/page", now-60, now-60)
	jar.set("user_id__insecure=42; Path=/app", "/app/page", now-60, now-60)
	for _, f := range out {
		if refused == nil || !refused(f) {
			jar.set(f, "/app/page", now, date)
		}
	}
	held := 0
	for _, m := range []string{"session_id", "user_id__insecure"} {
		if len(jar.named(m)) > 0 {
			held++
		}
	}
	return held, jar
}

// fetchSite is the Sec-Fetch-Site of a request, cross-site or from the
// site itself.
func fetchSite(cross bool) string {
	if cross {
		return "cross-site"
	}
	return "same-origin"
}

// refusedOn returns which fields of a response to url a browser refuses:
// a Secure one over plain http (WebKitGTK on every host, Chromium and
// Firefox but on loopback), and on a cross-site request (cross) one
// without SameSite=None, in a frame.
func refusedOn(url string, cross bool) func(string) bool {
	return func(f string) bool {
		return !strings.HasPrefix(url, "https:") && strings.Contains(f, "; Secure") ||
			cross && !strings.Contains(f, "SameSite=None")
	}
}

// TestCascadeSlowClockRefusedOldPlaceDeletion: an app whose clock runs
// two hours slow moves session_id from Path=/app to Path=/ (the set
// field last, with an Expires WebKitGTK reads as a deletion), deleting
// it at /app and, to be sure, at /app/ too, the second deletion in a
// form every engine refuses on this request: Secure over plain http on
// a host that is not a loopback one (WebKitGTK drops it on every host,
// Chromium and Firefox on any but a loopback one), or without
// SameSite=None on a cross-site request. The cascade took the last
// deletion at another place for the old place: user_id__insecure got
// deletions at / and /app/ (the second refused alike, as it copies the
// refused field's attributes) and none at /app, and every engine kept
// user_id__insecure at /app alone. The last deletion every engine
// stores is where the member was deleted: the others are deleted there
// too. A lone refused deletion is no such case: the others' deletion
// copies its attributes and is refused with it, and the group stays
// whole at /app (last row, unchanged).
func TestCascadeSlowClockRefusedOldPlaceDeletion(t *testing.T) {
	h, err := hostileHandler(t, scopeGroup)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	date := now - 2*3600 // the app's clock
	slow := "; Expires=" + time.Unix(date+1800, 0).UTC().Format(http.TimeFormat)
	const (
		gone = "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
		none = "; Secure; SameSite=None"
	)
	for _, tc := range []struct {
		name, url string
		cross     bool
		app, want []string
	}{
		{"Secure over plain http", "http://www.example.com/app/page", false,
			[]string{"session_id=; Max-Age=0; Path=/app", "session_id=; Max-Age=0; Path=/app/; Secure", "session_id=b" + slow + "; Path=/"},
			[]string{"session_id" + gone + "; Path=/", "user_id__insecure" + gone + "; Path=/", "user_id__insecure" + gone + "; Path=/app/; Secure", "user_id__insecure" + gone + "; Path=/app"}},
		{"no SameSite=None cross-site", "https://www.example.com/app/page", true,
			[]string{"session_id=; Max-Age=0; Path=/app" + none, "session_id=; Max-Age=0; Path=/app/", "session_id=b" + slow + "; Path=/" + none},
			[]string{"session_id" + gone + "; Path=/" + none, "user_id__insecure" + gone + "; Path=/" + none, "user_id__insecure" + gone + "; Path=/app/", "user_id__insecure" + gone + "; Path=/app" + none}},
		{"a lone refused deletion", "http://www.example.com/app/page", false,
			[]string{"session_id=; Max-Age=0; Path=/app; Secure", "session_id=b" + slow + "; Path=/"},
			[]string{"session_id" + gone + "; Path=/", "user_id__insecure" + gone + "; Path=/", "user_id__insecure" + gone + "; Path=/app; Secure"}},
	} {
		out := serveFieldsFrom(t, h, tc.url, fetchSite(tc.cross), "session_id=a; user_id__insecure=42", date, tc.app...)
		if want := append(slices.Clone(tc.app), tc.want...); !slices.Equal(out, want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, out, want)
		}
		// Every engine refuses them on this host (see refusedOn).
		refused := refusedOn(tc.url, tc.cross)
		for _, fromDate := range []bool{true, false} { // Chromium and Firefox; WebKitGTK
			if held, jar := scopeJarHolds(out, now, date, fromDate, refused); held == 1 {
				t.Errorf("%s, Expires from Date %t: the jar holds one member: %s", tc.name, fromDate, jar.String(now))
			}
		}
	}
}

// TestCascadeEarlierUnsureFieldElsewhere: an app moves session_id from
// Path=/app to Path=/, setting it at / with an Expires in a form the
// engines' date parsers read apart, then deleting it at /app. The
// module cannot tell that every engine keeps the new cookie, so this is
// no certain migration, and it cascades; but an engine that keeps it
// held session_id alone at /, user_id__insecure deleted at /app. The
// browser suite measured both dates (docs/engines.md, exp-junk and
// exp-zone-plus1200): the first kept by all three engines (Chromium and
// Firefox for 400 days, WebKitGTK for the session), the second by
// Chromium alone. The cascade now deletes session_id at / too, as for
// a slow app clock's Expires there
// (TestCascadeSlowClockMigrationLogsOutEveryEngine): an appended
// deletion makes nothing live, and the field itself is left alone.
func TestCascadeEarlierUnsureFieldElsewhere(t *testing.T) {
	h, err := hostileHandler(t, scopeGroup)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	del := "session_id=; Max-Age=0; Path=/app"
	for _, set := range []string{
		"session_id=b; Path=/; Expires=Nov 05abc 2099 12:00:00 07",
		"session_id=b; Path=/; Expires=" + time.Unix(now+6*3600, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05") + " +1200",
	} {
		out := jarSimServePath(t, h, "/app/page", "session_id=a; user_id__insecure=42", now, set, del)
		want := []string{set, del, "session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/", "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/app"}
		if !slices.Equal(out, want) {
			t.Errorf("\n got %q\nwant %q", out, want)
		}
		// The jar simulation reads neither date: a session cookie, as
		// WebKitGTK keeps the first.
		if held, jar := scopeJarHolds(out, now, now, true, nil); held == 1 {
			t.Errorf("%q: the jar holds one member: %s", set, jar.String(now))
		}
	}
}

// TestCascadeSlowClockSeveralMembersDeleted: the cascade takes the old
// place from one deleted member only (the last in config order), so a
// response that deletes two members, one or both moved with a slow app
// clock's Expires, must still end with no member or every member in
// each engine's jar. Every combination for three members at one place
// (each untouched, deleted there, or moved to another Path or Domain
// with the set field first or last), in every config order, both ways
// of reading the Expires.
func TestCascadeSlowClockSeveralMembersDeleted(t *testing.T) {
	members := []string{"session_id", "user_id__insecure", "csrf"}
	now := testClock.Unix()
	date := now - 2*3600 // the app's clock
	slow := "; Expires=" + time.Unix(date+1800, 0).UTC().Format(http.TimeFormat)
	moves := [][2]string{
		{"; Path=/app", "; Path=/"},
		{"; Path=/", "; Path=/app"},
		{"; Path=/", "; Path=/; Domain=example.com"},
		{"; Path=/app; Domain=example.com", "; Path=/app"},
	}
	for _, order := range [][]string{{"session_id", "user_id__insecure", "csrf"}, {"session_id", "csrf", "user_id__insecure"}, {"user_id__insecure", "session_id", "csrf"}, {"user_id__insecure", "csrf", "session_id"}, {"csrf", "session_id", "user_id__insecure"}, {"csrf", "user_id__insecure", "session_id"}} {
		h, err := hostileHandler(t, "cookie_normalizer {\n\tgroup login {\n\t\tcookies "+strings.Join(order, " ")+"\n\t\ton_delete cascade\n\t}\n}")
		if err != nil {
			t.Fatal(err)
		}
		h.norm.now = func() time.Time { return time.Unix(now, 0) }
		for _, mv := range moves {
			from, to := mv[0], mv[1]
			for code := range 4 * 4 * 4 {
				var app []string
				for i, m := range members {
					set, del := m+"=v"+slow+to, m+"=; Max-Age=0"+from
					switch code >> (2 * i) & 3 {
					case 1:
						app = append(app, del)
					case 2:
						app = append(app, set, del)
					case 3:
						app = append(app, del, set)
					}
				}
				if len(app) == 0 {
					continue
				}
				out := serveFieldsAt(t, h, "https://www.example.com/app/page", "session_id=1; user_id__insecure=1; csrf=1", date, app...)
				for _, fromDate := range []bool{true, false} { // Chromium and Firefox; WebKitGTK
					jar := newJarSim()
					jar.fromDate, jar.host = fromDate, "www.example.com"
					for _, m := range members {
						jar.set(m+"=1; Max-Age=43200"+from, "/app/page", now-60, now-60)
					}
					for _, f := range out {
						jar.set(f, "/app/page", now, date)
					}
					if split := jarMigSplit(jar, members, now); len(split) > 0 {
						t.Errorf("order %v, fields %q, Expires from Date %t:\n out %q\n pages %v get part of the group: %s", order, app, fromDate, out, split, jar.String(now))
					}
				}
			}
		}
	}
}

// TestCascadeRefusedLastDeletion: a log-out that deletes session_id at
// /app and then, to be sure, at /app/, the second deletion in a form
// some engine refuses on this request: Secure over plain http (every
// engine on a host that is not a loopback one; on 127.0.0.1 WebKitGTK
// alone), or without SameSite=None on a cross-site request. The
// cascade took the member's last field for the place, and its
// attributes: user_id__insecure's deletion at /app/ was refused alike,
// and every engine (WebKitGTK on 127.0.0.1) kept user_id__insecure at
// /app alone. The last deletion every engine stores, at another place,
// is where the member was deleted: the others are deleted there too,
// besides the last field's place. A lone refused deletion adds nothing
// (the others' deletion is refused with it, and the group stays whole).
// Two deletions every engine stores keep the rule the README documents:
// the others take the place of the member's last one (an app that keeps
// or deletes a cookie at several places deletes each itself).
func TestCascadeRefusedLastDeletion(t *testing.T) {
	h, err := hostileHandler(t, scopeGroup)
	if err != nil {
		t.Fatal(err)
	}
	now := testClock.Unix()
	h.norm.now = func() time.Time { return time.Unix(now, 0) }
	const (
		gone = "user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
		none = "; Secure; SameSite=None"
	)
	for _, tc := range []struct {
		name, url string
		cross     bool
		app, want []string
	}{
		{"Secure over plain http", "http://www.example.com/app/page", false,
			[]string{"session_id=; Max-Age=0; Path=/app", "session_id=; Max-Age=0; Path=/app/; Secure"},
			[]string{gone + "; Path=/app/; Secure", gone + "; Path=/app"}},
		{"Secure over plain http, loopback", "http://127.0.0.1/app/page", false,
			[]string{"session_id=; Max-Age=0; Path=/app", "session_id=; Max-Age=0; Path=/app/; Secure"},
			[]string{gone + "; Path=/app/; Secure", gone + "; Path=/app"}},
		{"no SameSite=None cross-site", "https://www.example.com/app/page", true,
			[]string{"session_id=; Max-Age=0; Path=/app" + none, "session_id=; Max-Age=0; Path=/app/"},
			[]string{gone + "; Path=/app/", gone + "; Path=/app" + none}},
		{"stored everywhere: the last field's place alone", "https://www.example.com/app/page", false,
			[]string{"session_id=; Max-Age=0; Path=/app", "session_id=; Max-Age=0; Path=/app/; Secure"},
			[]string{gone + "; Path=/app/; Secure"}},
		{"a lone refused deletion", "http://www.example.com/app/page", false,
			[]string{"session_id=; Max-Age=0; Path=/app; Secure"},
			[]string{gone + "; Path=/app; Secure"}},
	} {
		out := serveFieldsFrom(t, h, tc.url, fetchSite(tc.cross), "session_id=a; user_id__insecure=42", now, tc.app...)
		if want := append(slices.Clone(tc.app), tc.want...); !slices.Equal(out, want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, out, want)
		}
		// WebKitGTK's reading, on every host, loopback too (see
		// refusedOn).
		refused := refusedOn(tc.url, tc.cross)
		if held, jar := scopeJarHolds(out, now, now, false, refused); held == 1 && !strings.HasPrefix(tc.name, "stored everywhere") {
			t.Errorf("%s: the jar holds one member: %s", tc.name, jar.String(now))
		}
	}
}

// TestCascadeUnknownReadingDeletion: a log-out whose last Expires is in a
// form Chromium and WebKitGTK may not read (no time of day; an asctime
// date; a Max-Age they may read apart) is a deletion by RFC 6265bis,
// which falls back on an earlier Expires in the past, and Firefox; but
// Chromium reads no date there and keeps a session cookie (measured by
// the randomized cascade differential in the browsers: the cascade
// deleted user_id__insecure and Chromium kept session_id alone). The
// cascade now deletes session_id too, after the app's field.
func TestCascadeUnknownReadingDeletion(t *testing.T) {
	const group = "cookie_normalizer {\n\tgroup login {\n\t\tcookies session_id user_id__insecure\n\t\ton_delete cascade\n\t}\n}"
	for _, field := range []string{
		"session_id=x; Expires=Wed, 09-Jun-2021 10:18:14 GMT; Path=/; SameSite=Lax; Expires=Fri, 27 Nov 2026 GMT",
		"session_id=x; Expires=Tue, 24 Nov 2026 11:00:00 GMT; Path=/; SameSite=Lax; Expires=Tue, 24 Nov 2026 13:00 GMT",
	} {
		out := scopeServe(t, group, "session_id=a; user_id__insecure=42", field)
		want := []string{field,
			"session_id=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
			"user_id__insecure=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax",
		}
		if !slices.Equal(out, want) {
			t.Errorf("%q:\n got %q\nwant %q", field, out, want)
		}
	}
}
