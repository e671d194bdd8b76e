package e2e

import (
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// consistencyScenarios checks consistencyDirectives (session_id and
// user_id__insecure with on_delete cascade and on_partial expire) in
// engine e. Half a log-in is put in the jar through Caddy alone (the raw
// site, on the same host and so the same jar), then a page is loaded
// through the module.
func consistencyScenarios(t *testing.T, env *policyEnv, e engine) {
	t.Run("consistency: on_partial expire deletes half a log-in", func(t *testing.T) {
		c := e.newClient(t)

		// The legacy app sets only session_id; Caddy alone keeps it, page
		// after page.
		load(t, c, env.raw+"/half-login")
		wantNames(t, "after /half-login through Caddy alone", jarOf(t, c), "session_id")
		load(t, c, env.raw+"/page")
		wantNames(t, "after /page through Caddy alone", jarOf(t, c), "session_id")
		// The first page through the module deletes it.
		load(t, c, env.consistency+"/page")
		jar := jarOf(t, c)
		t.Logf("after /page through the module: %s", describe(jar))
		wantNames(t, "after /page through the module", jar)

		// The app's own log-out of session_id alone leaves
		// user_id__insecure behind; the next page through the module
		// deletes that half too.
		load(t, c, env.raw+"/login")
		load(t, c, env.raw+"/logout-session")
		wantNames(t, "after /login and /logout-session through Caddy alone", jarOf(t, c), "user_id__insecure")
		load(t, c, env.consistency+"/page")
		jar = jarOf(t, c)
		t.Logf("after /page through the module: %s", describe(jar))
		wantNames(t, "after the second /page through the module", jar)

		// Half a log-in, and a response that sets the missing member
		// with a field Chromium and Firefox refuse and WebKitGTK stores:
		// expiring session_id there would leave WebKitGTK holding
		// user_id__insecure alone. The module appends nothing: WebKitGTK
		// holds both; Chromium and Firefox hold session_id alone, as
		// without the module, until a page heals it.
		load(t, c, env.raw+"/half-login")
		wantNames(t, "after the second /half-login through Caddy alone", jarOf(t, c), "session_id")
		load(t, c, env.consistency+"/oversized-user")
		jar = jarOf(t, c)
		t.Logf("after /oversized-user through the module: %s", describe(jar))
		if e.name == "WebKit" {
			wantNames(t, "after /oversized-user through the module", jar, "session_id", "user_id__insecure")
		} else {
			wantNames(t, "after /oversized-user through the module", jar, "session_id")
		}
	})

	t.Run("consistency: a link from another site does not log out members with different SameSite", func(t *testing.T) {
		c := e.newClient(t)

		// session_id is Lax, user_id__insecure Strict.
		load(t, c, env.wwwConsistency+"/mixed-login")
		wantNames(t, "after /mixed-login", scopedJarOf(t, c), "session_id", "user_id__insecure")

		// A page on another site (raw, on 127.0.0.1) follows a link to
		// a page of the app: the browser sends the Lax cookie and not
		// the Strict one, a partial group that is no half log-in.
		probe := strconv.FormatInt(env.app.probes.Add(1), 10)
		load(t, c, env.raw+"/go?to="+url.QueryEscape(env.wwwConsistency+"/page?probe="+probe))
		if sent := env.app.awaitProbe(t, probe); !slices.Equal(sent, []string{"session_id"}) {
			t.Fatalf("the cross-site link carried %q, want session_id alone (the scenario needs a partial group)", sent)
		}
		// The upstream has the link's request; the tab is still loading
		// its answer, a navigation the script started, which the next
		// load must not cut short (Chromium's driver then reports no
		// response for it).
		time.Sleep(time.Second)

		// The next page of the app carries both, and keeps both. (The
		// request is what counts: WebKit's driver does not list a Strict
		// cookie to a page reached by a cross-site link.)
		if sent := env.app.sent(t, c, env.wwwConsistency+"/page"); !slices.Equal(sent, []string{"session_id", "user_id__insecure"}) {
			t.Errorf("after the cross-site link, /page carried %q, want both members", sent)
		}
		jar := scopedJarOf(t, c)
		t.Logf("after /page: %s", describeScoped(jar))
		wantNames(t, "after /page", jar, "session_id", "user_id__insecure")
	})

	t.Run("consistency: a domain migration is no log-out", func(t *testing.T) {
		c := e.newClient(t)

		// WebKit's driver clears only 127.0.0.1's cookies between
		// scenarios: an earlier log-in on this host is logged out first.
		load(t, c, env.wwwConsistency+"/logout")
		wantScoped(t, "after /logout", scopedJarOf(t, c))
		// Both members for the parent domain.
		load(t, c, env.wwwConsistency+"/domain-login")
		wantScoped(t, "after /domain-login", scopedJarOf(t, c), "session_id=old ."+parentHost+"/", "user_id__insecure=42 ."+parentHost+"/")
		// The app sets session_id host-only and then deletes the domain
		// one: the browser ends with session_id (host-only), another
		// cookie than the one deleted, so the response sets a member
		// and nothing cascades (deleting user_id__insecure would leave
		// session_id alone). The next page carries both members.
		load(t, c, env.wwwConsistency+"/domain-migrate")
		jar := scopedJarOf(t, c)
		t.Logf("after /domain-migrate: %s", describeScoped(jar))
		wantScoped(t, "after /domain-migrate", jar, "session_id=abc123 "+wwwHost+"/", "user_id__insecure=42 ."+parentHost+"/")
		load(t, c, env.wwwConsistency+"/page")
		wantScoped(t, "after /page", scopedJarOf(t, c), "session_id=abc123 "+wwwHost+"/", "user_id__insecure=42 ."+parentHost+"/")
	})

	t.Run("consistency: a whole log-in survives, on_delete cascade logs out both", func(t *testing.T) {
		c := e.newClient(t)

		start, end := load(t, c, env.consistency+"/login")
		login := jarOf(t, c)
		t.Logf("after /login: %s", describe(login))
		// The group has no expiry policy: both are stored as sent.
		checkJar(t, "after /login", login, step{jar: []wantCookie{
			sessionID(12 * time.Hour), sessionCookie(userID(0)),
		}}, start, end)

		// on_partial leaves a whole log-in alone: the page sets nothing,
		// so the jar is what it was.
		load(t, c, env.consistency+"/page")
		jar := jarOf(t, c)
		wantNames(t, "after /page", jar, "session_id", "user_id__insecure")
		for _, before := range login {
			after := findCookie(jar, before.name)
			if after == nil {
				continue // reported above
			}
			if after.value != before.value || !after.expires.Equal(before.expires) {
				t.Errorf("after /page: %s=%q expiring %s, want %q expiring %s as before", before.name, after.value, after.expires, before.value, before.expires)
			}
		}

		// The app deletes session_id alone; the module deletes
		// user_id__insecure with it. (On the cascade site, without
		// on_partial, so that only the cascade can have deleted it.)
		load(t, c, env.cascade+"/logout-session")
		jar = jarOf(t, c)
		t.Logf("after /logout-session: %s", describe(jar))
		wantNames(t, "after /logout-session", jar)

		// A field for session_id that WebKitGTK reads as a deletion and
		// Chromium and Firefox as an hour: the module takes it for a
		// log-out, deletes user_id__insecure, and deletes session_id
		// too, after the app's field, so that no engine keeps it alone.
		load(t, c, env.cascade+"/login")
		wantNames(t, "after the second /login", jarOf(t, c), "session_id", "user_id__insecure")
		load(t, c, env.cascade+"/split-session")
		jar = jarOf(t, c)
		t.Logf("after /split-session: %s", describe(jar))
		wantNames(t, "after /split-session", jar)
	})

	t.Run("consistency: on_delete cascade logs out both after a log-out the engines read apart in a field passed unchanged", func(t *testing.T) {
		c := e.newClient(t)
		// Fields with a tab, where WebKitGTK stops reading, read apart
		// both ways round: the cascade deletes session_id where the
		// engines that keep the field store it, after the app's field.
		// (On the cascade site, without on_partial, where nothing heals
		// what the cascade left.)
		// And log-outs with a tab inside an attribute's value or the
		// cookie's value, which Chromium refuses (it keeps session_id):
		// the cascade deletes session_id too.
		for _, route := range []string{"/split-tab-session", "/split-tab-session-webkit", "/tab-inside-logout", "/tab-inside-value-logout"} {
			load(t, c, env.cascade+"/login")
			wantNames(t, "before "+route, jarOf(t, c), "session_id", "user_id__insecure")
			load(t, c, env.cascade+route)
			jar := jarOf(t, c)
			t.Logf("after %s: %s", route, describe(jar))
			wantNames(t, "after "+route, jar)
		}
	})

	t.Run("consistency: on_delete cascade deletes a member where only WebKitGTK stored it", func(t *testing.T) {
		c := e.newClient(t)
		// The log-out of session_id comes with a user_id__insecure
		// field at /elsewhere that Chromium and Firefox refuse (a name
		// plus value over 4096 bytes) and WebKitGTK stores there. The
		// cascade deletes user_id__insecure at / and at /elsewhere: no
		// engine keeps it alone.
		load(t, c, env.cascade+"/login")
		wantNames(t, "after /login", jarOf(t, c), "session_id", "user_id__insecure")
		load(t, c, env.cascade+"/logout-oversized-elsewhere")
		jar := jarOf(t, c)
		t.Logf("after /logout-oversized-elsewhere: %s", describe(jar))
		wantNames(t, "after /logout-oversized-elsewhere", jar)
		if sent := env.app.sent(t, c, env.raw+"/elsewhere/page"); len(sent) > 0 {
			t.Errorf("after /logout-oversized-elsewhere, /elsewhere/page carried %q, want no cookie", sent)
		}

		// The same with a user_id__insecure field Chromium and Firefox
		// refuse for SameSite=None without Secure: the deletion where
		// WebKitGTK stores it carries Secure (over https), which
		// WebKitGTK takes.
		load(t, c, env.cascade+"/login")
		load(t, c, env.cascade+"/logout-none-elsewhere")
		jar = jarOf(t, c)
		t.Logf("after /logout-none-elsewhere: %s", describe(jar))
		wantNames(t, "after /logout-none-elsewhere", jar)
		if sent := env.app.sent(t, c, env.raw+"/elsewhere/page"); len(sent) > 0 {
			t.Errorf("after /logout-none-elsewhere, /elsewhere/page carried %q, want no cookie", sent)
		}

		// A log-out of __Secure-sid without Secure, which Chromium and
		// Firefox refuse for its name prefix (they keep __Secure-sid):
		// the cascade deletes uid, and __Secure-sid with a deletion
		// that has Secure.
		load(t, c, env.cascade+"/secure-login")
		wantNames(t, "after /secure-login", jarOf(t, c), "__Secure-sid", "uid")
		load(t, c, env.cascade+"/secure-logout-unflagged")
		jar = jarOf(t, c)
		t.Logf("after /secure-logout-unflagged: %s", describe(jar))
		wantNames(t, "after /secure-logout-unflagged", jar)
	})

	t.Run("consistency: a log-out browsers refuse beside one they take clears the group", func(t *testing.T) {
		c := e.newClient(t)
		// ra's log-out has SameSite=None without Secure: Chromium and
		// Firefox refuse it (they keep ra), WebKitGTK takes it. rb's
		// log-out every engine takes, and the cascade's deletion of rc
		// copies it. The cascade also deletes ra with Secure added,
		// which Chromium and Firefox take: no engine keeps ra alone.
		load(t, c, env.cascade+"/refused-login")
		wantNames(t, "after /refused-login", jarOf(t, c), "ra", "rb", "rc")
		load(t, c, env.cascade+"/refused-logout")
		jar := jarOf(t, c)
		t.Logf("after /refused-logout: %s", describe(jar))
		wantNames(t, "after /refused-logout", jar)
	})

	t.Run("consistency: a __Host- member set without Path is no refused field", func(t *testing.T) {
		c := e.newClient(t)
		// The log-out of hp2 comes with a new __Host-hp without a Path
		// attribute: Chromium refuses it (it keeps the old one);
		// Firefox checks the prefix against the default path of
		// /host-logout-reset, /, and stores it, as WebKitGTK does. The
		// member is set, so nothing cascades: every engine keeps
		// __Host-hp (the old value in Chromium, the new elsewhere).
		load(t, c, env.cascade+"/host-login")
		wantNames(t, "after /host-login", jarOf(t, c), "__Host-hp", "hp2")
		load(t, c, env.cascade+"/host-logout-reset")
		jar := jarOf(t, c)
		t.Logf("after /host-logout-reset: %s", describe(jar))
		wantNames(t, "after /host-logout-reset", jar, "__Host-hp")
		want := "2"
		if e.name == "Chromium" {
			want = "1"
		}
		if hp := findCookie(jar, "__Host-hp"); hp != nil && hp.value != want {
			t.Errorf("after /host-logout-reset: __Host-hp=%q, want %q", hp.value, want)
		}
	})
}

// wantScoped checks that jar holds exactly the members of the group
// (session_id and user_id__insecure) that want lists, each as
// "name=value scope": the domain, with a leading dot unless the cookie
// is host-only, and the path. (Other cookies may be left by earlier
// scenarios on other hosts: WebKit's driver clears only 127.0.0.1's.)
func wantScoped(t *testing.T, label string, jar []scopedCookie, want ...string) {
	t.Helper()
	got := make([]string, 0, len(jar))
	for _, c := range jar {
		if c.name != "session_id" && c.name != "user_id__insecure" {
			continue
		}
		scope := c.domain + c.path
		if !c.hostOnly {
			scope = "." + scope
		}
		got = append(got, c.name+"="+c.value+" "+scope)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s: jar holds %q, want %q", label, got, want)
	}
}

// placedScenarios checks placedDirectives in engine e: the group is logged
// in at the app's Path=/app, which the module moves to /; then the app
// logs session_id out with a field the engines read apart (a tab, where
// WebKitGTK stops reading), which the module passes unchanged. An engine
// that reads a deletion deletes nothing at /app, so the module places a
// deletion at / after the field; and, the field being a log-out in some
// engine, on_delete cascade deletes user_id__insecure at / and session_id
// where the engines that read the field as a cookie store it. No engine
// keeps a member. (Without the module, each engine does what it reads:
// the run logs that.)
func placedScenarios(t *testing.T, env *policyEnv, e engine) {
	for _, logout := range []string{"/app/logout-webkit", "/app/logout-others"} {
		t.Run("placed deletion: "+logout+" logs the whole group out", func(t *testing.T) {
			c := e.newClient(t)
			load(t, c, env.raw+"/app/login")
			load(t, c, env.raw+logout)
			load(t, c, env.raw+"/app/page") // WebKit's driver lists the cookies the page receives
			t.Logf("without the module, after /app/login and %s: %s", logout, describeScoped(scopedJarOf(t, c)))
			load(t, c, env.raw+"/app/logout-all")
			load(t, c, env.raw+"/app/page")
			wantScoped(t, "after /app/logout-all without the module", scopedJarOf(t, c))

			load(t, c, env.placed+"/app/login")
			wantScoped(t, "after /app/login", scopedJarOf(t, c), "session_id=abc123 127.0.0.1/", "user_id__insecure=42 127.0.0.1/")
			load(t, c, env.placed+logout)
			load(t, c, env.placed+"/app/page")
			jar := scopedJarOf(t, c)
			t.Logf("through the module, after %s: %s", logout, describeScoped(jar))
			wantScoped(t, "after "+logout, jar)
		})
	}
}
