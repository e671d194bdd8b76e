package e2e

import (
	"slices"
	"testing"
	"time"
)

// attributeScenarios checks the attribute policies of attributeDirectives
// in engine e: flags added to a cookie sent without them, a Path rewrite
// that scopes a cookie and then lets its deletion find it, and `domain
// remove` turning a domain cookie into a host-only one. Each response also
// carries a cookie no group names, stored as sent, so that what the engine
// does by default is seen beside what the module changed.
func attributeScenarios(t *testing.T, env *policyEnv, e engine) {
	t.Run("attributes: secure, httponly, samesite and path, and a deletion through the path", func(t *testing.T) {
		c := e.newClient(t)
		// The scoped cookie lives under /app, which WebKit's own
		// clearing (from /) does not see.
		clearWebKitAt(t, c, env.attrs+"/app/")
		appPage := env.attrs + "/app/page"

		start, end := load(t, c, env.attrs+"/attrs/set")
		// An /app page, so that WebKit lists the /app cookie too.
		load(t, c, appPage)
		jar := scopedJarOf(t, c)
		t.Logf("after /attrs/set: %s", describeScoped(jar))
		wantNames(t, "after /attrs/set", jar, "flagged", "scoped", "plain", "longflag", "twice")

		if f := findScoped(jar, "longflag"); f != nil {
			// Upstream: Secure and HttpOnly with values over 1024 bytes,
			// which Chromium and Firefox do not read; the group adds
			// both again.
			if !f.attrs.secure || !f.attrs.httpOnly {
				t.Errorf("longflag: Secure=%t HttpOnly=%t, want both (secure on, httponly on; the upstream's have values no engine but WebKit reads)", f.attrs.secure, f.attrs.httpOnly)
			}
		}
		if f := findScoped(jar, "twice"); f != nil {
			// Upstream: Max-Age=100, then max-age=7200, which every
			// engine reads as the one that counts; the group's rewrite
			// keeps only that one, and the lifetime stays 2 h.
			lo, hi := start.Add(2*time.Hour-expiryTolerance), end.Add(2*time.Hour+expiryTolerance)
			if f.expires.Before(lo) || f.expires.After(hi) {
				t.Errorf("twice: expires %s, want 2 h after the load (%s to %s), as the last Max-Age says", f.expires.Format(time.RFC3339), lo.Format(time.RFC3339), hi.Format(time.RFC3339))
			}
			if !f.attrs.secure || !f.attrs.httpOnly {
				t.Errorf("twice: Secure=%t HttpOnly=%t, want both (secure on, httponly on)", f.attrs.secure, f.attrs.httpOnly)
			}
		}
		if f := findScoped(jar, "flagged"); f != nil {
			// Upstream: "flagged=1; Path=/"; the group adds the three.
			checkScope(t, f, "127.0.0.1", "/", true)
			if !f.attrs.secure || !f.attrs.httpOnly {
				t.Errorf("flagged: Secure=%t HttpOnly=%t, want both (secure on, httponly on)", f.attrs.secure, f.attrs.httpOnly)
			}
			if f.attrs.sameSiteKnown {
				if f.attrs.sameSite != "Lax" {
					t.Errorf("flagged: SameSite=%q, want Lax (samesite lax)", f.attrs.sameSite)
				}
			} else {
				t.Errorf("flagged: the driver reports SameSite %q, which does not say Lax; every engine's driver reports Lax as Lax", f.attrs.sameSite)
			}
		}
		if p := findScoped(jar, "plain"); p != nil {
			// Upstream: "plain=1; Path=/", in no group: the control.
			checkScope(t, p, "127.0.0.1", "/", true)
			if p.attrs.secure || p.attrs.httpOnly {
				t.Errorf("plain: Secure=%t HttpOnly=%t, want neither (as sent)", p.attrs.secure, p.attrs.httpOnly)
			}
			// WebKitWebDriver says "None" for no SameSite, so only
			// Chromium and Firefox can show that none was sent.
			if p.attrs.sameSiteKnown && p.attrs.sameSite != "" {
				t.Errorf("plain: SameSite=%q, want none (as sent)", p.attrs.sameSite)
			}
		}
		if s := findScoped(jar, "scoped"); s != nil {
			// Upstream: "scoped=1; Path=/; Secure"; the group says /app.
			checkScope(t, s, "127.0.0.1", "/app", true)
		}

		// Where the browser sends it: /app pages only.
		if got := env.app.sent(t, c, env.attrs+"/app/page"); !slices.Contains(got, "scoped") || !slices.Contains(got, "plain") {
			t.Errorf("GET /app/page sent %q, want scoped and plain among them", got)
		}
		if got := env.app.sent(t, c, env.attrs+"/page"); slices.Contains(got, "scoped") || !slices.Contains(got, "plain") {
			t.Errorf("GET /page sent %q, want plain without scoped (stored for /app)", got)
		}

		// The upstream deletes scoped with Path=/, where it set it. Sent
		// as is (Caddy alone), the deletion misses the cookie the module
		// moved to /app...
		load(t, c, env.raw+"/attrs/unscope")
		load(t, c, appPage)
		jar = scopedJarOf(t, c)
		t.Logf("after /attrs/unscope through Caddy alone: %s", describeScoped(jar))
		wantNames(t, "after /attrs/unscope through Caddy alone", jar, "flagged", "scoped", "plain", "longflag", "twice")
		// ...and through the module, rewritten to Path=/app, it finds it.
		load(t, c, env.attrs+"/attrs/unscope")
		load(t, c, appPage)
		jar = scopedJarOf(t, c)
		t.Logf("after /attrs/unscope through the module: %s", describeScoped(jar))
		wantNames(t, "after /attrs/unscope through the module", jar, "flagged", "plain", "longflag", "twice")
	})

	t.Run("attributes: secure off keeps Secure on a SameSite=None cookie, and its log-out works", func(t *testing.T) {
		c := e.newClient(t)
		// Through the module: stored, with Secure.
		load(t, c, env.attrs+"/crossed/set")
		jar := scopedJarOf(t, c)
		t.Logf("after /crossed/set: %s", describeScoped(jar))
		wantNames(t, "after /crossed/set", jar, "crossed")
		if f := findScoped(jar, "crossed"); f != nil && !f.attrs.secure {
			t.Errorf("crossed: stored without Secure, want Secure")
		}
		wantLogOutThrough(t, c, env, "/crossed", "crossed")
	})

	t.Run("attributes: secure off and httponly off keep an __Http- cookie's flags, and its log-out works", func(t *testing.T) {
		c := e.newClient(t)
		// Through the module: stored (Chromium and Firefox refuse such
		// a cookie without Secure and HttpOnly).
		load(t, c, env.attrs+"/prefixed/set")
		jar := scopedJarOf(t, c)
		t.Logf("after /prefixed/set: %s", describeScoped(jar))
		wantNames(t, "after /prefixed/set", jar, "__Http-sid", "__Host-Http-uid")
		for _, f := range jar {
			if !f.attrs.secure || !f.attrs.httpOnly {
				t.Errorf("%s: Secure=%t HttpOnly=%t, want both (its name prefix needs them)", f.name, f.attrs.secure, f.attrs.httpOnly)
			}
		}
		wantLogOutThrough(t, c, env, "/prefixed", "__Http-sid", "__Host-Http-uid")
	})

	t.Run("attributes: domain remove stores a domain cookie host-only", func(t *testing.T) {
		c := e.newClient(t)
		www, api := env.hostURL(wwwHost), env.hostURL(apiHost)
		clearWebKitAt(t, c, www+"/")

		// Both fields say Domain=app.localhost; shared's group removes it.
		load(t, c, www+"/domain/set")
		jar := scopedJarOf(t, c)
		t.Logf("after /domain/set on %s: %s", wwwHost, describeScoped(jar))
		wantNames(t, "after /domain/set", jar, "shared", "wide")
		if s := findScoped(jar, "shared"); s != nil {
			checkScope(t, s, wwwHost, "/", true)
		}
		if w := findScoped(jar, "wide"); w != nil {
			checkScope(t, w, parentHost, "/", false)
		}

		// A sibling host gets the domain cookie only; the host that set
		// them gets both.
		if got := env.app.sent(t, c, api+"/page"); !slices.Equal(got, []string{"wide"}) {
			t.Errorf("GET %s/page sent %q, want only wide (shared is host-only)", api, got)
		}
		if got := env.app.sent(t, c, www+"/page"); !slices.Equal(got, []string{"shared", "wide"}) {
			t.Errorf("GET %s/page sent %q, want shared and wide", www, got)
		}
	})
}

// checkScope fails the test unless c is stored for domain and path, host-only
// or not as hostOnly says.
func checkScope(t *testing.T, c *scopedCookie, domain, path string, hostOnly bool) {
	t.Helper()
	if c.domain != domain || c.path != path || c.hostOnly != hostOnly {
		t.Errorf("%s: stored for domain %q path %q host-only %t, want %q, %q, %t", c.name, c.domain, c.path, c.hostOnly, domain, path, hostOnly)
	}
}

// wantLogOutThrough checks that the cookies names, set by the app alone
// (route+"/set" on the raw site), are all deleted by its log-out
// (route+"/delete") through the attrs site's module.
func wantLogOutThrough(t *testing.T, c cookieClient, env *policyEnv, route string, names ...string) {
	t.Helper()
	load(t, c, env.raw+route+"/set")
	wantNames(t, "after "+route+"/set without the module", scopedJarOf(t, c), names...)
	load(t, c, env.attrs+route+"/delete")
	jar := scopedJarOf(t, c)
	t.Logf("after %s/delete: %s", route, describeScoped(jar))
	wantNames(t, "after "+route+"/delete", jar)
}
