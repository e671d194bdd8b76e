package e2e

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// The sliding expiry of slideDirectives: the lifetime each issue grants,
// the shortest time between two re-issues, and the stamp cookie the module
// keeps for the group (cn_slide_<label>). A page "within the interval"
// loads in the second after an issue and must end before a re-issue is
// due: 4 s leaves it almost 4 s (see loadWithinInterval), for a browser
// under -race on a loaded two-core machine.
const (
	slideLifetime = 10 * time.Second
	slideInterval = 4 * time.Second
	slideStamp    = "cn_slide_login"
)

// slideMembers are the cookies slideDirectives re-issues, and its stamp.
var slideMembers = []string{"session_id", "user_id__insecure", slideStamp}

// slideScenarios checks slideDirectives in engine e: a log-in, a page
// after more than the interval (re-issued: later expiries, a new stamp), a
// page within the interval (nothing re-issued), then idleness past the
// lifetime (everything gone); a log-out, which removes the stamp too; and
// an app that renews one member alone.
//
// The module's clock is in whole seconds: the stamp holds the Unix second
// of the last issue, and a re-issue is due once the current second is
// more than the interval after it. The pages are timed against the stamp's
// value, not against when the previous page loaded, so that "after the
// interval" and "within it" hold whatever fraction of a second each load
// began at.
func slideScenarios(t *testing.T, env *policyEnv, e engine) {
	t.Run("slide: log-out removes the members and the stamp", func(t *testing.T) {
		c := e.newClient(t)
		load(t, c, env.slide+"/login")
		wantNames(t, "after /login", jarOf(t, c), slideMembers...)
		load(t, c, env.slide+"/logout")
		jar := jarOf(t, c)
		t.Logf("after /logout: %s", describe(jar))
		wantNames(t, "after /logout", jar)
	})

	// An app that renews session_id on its own (here /half-login sets it
	// alone): the response carries the app's session_id, and the module
	// re-issues user_id__insecure beside it with a new stamp, even within
	// the interval, so that the two keep one expiry. A stamp restarted by
	// the renewal alone left user_id__insecure to run out while
	// session_id lived on; a re-issue once per interval let it run out up
	// to an interval earlier, a half log-in the app's next renewal kept
	// from being expired.
	t.Run("slide: an app renewing one member alone keeps the other alive", func(t *testing.T) {
		c := e.newClient(t)
		start, end := load(t, c, env.slide+"/login")
		login := jarOf(t, c)
		wantNames(t, "after /login", login, slideMembers...)
		issued := stampSecond(t, "after /login", login, start, end)

		// Within the interval, in the next second of the module's clock
		// (so that a new issue shows in the expiries and the stamp).
		start, end = loadWithinInterval(t, c, env.slide+"/half-login", issued)
		renewed := jarOf(t, c)
		t.Logf("after /half-login %s after the log-in: %s", start.Sub(time.Unix(issued, 0)).Round(time.Millisecond), describe(renewed))
		wantNames(t, "after /half-login", renewed, slideMembers...)
		// Every member and the stamp issued by this response: the stamp
		// holds this request's second, a second after the log-in's.
		checkSlideIssue(t, "after /half-login", renewed, start, end)
		stampSecond(t, "after /half-login", renewed, start, end)
	})

	t.Run("slide: activity moves the expiry forward, at most once per interval, and idleness ends the log-in", func(t *testing.T) {
		c := e.newClient(t)

		// A log-in: both members get the fixed lifetime, and the stamp
		// starts.
		start, end := load(t, c, env.slide+"/login")
		login := jarOf(t, c)
		t.Logf("after /login: %s", describe(login))
		wantNames(t, "after /login", login, slideMembers...)
		checkSlideIssue(t, "after /login", login, start, end)
		issued := stampSecond(t, "after /login", login, start, end)

		// A page once the interval has passed by the module's clock: every
		// member and the stamp are issued again, with later expiries.
		sleepUntil(t, time.Unix(issued, 0).Add(slideInterval+time.Second))
		start, end = load(t, c, env.slide+"/page")
		slid := jarOf(t, c)
		t.Logf("after /page %s after the log-in: %s", start.Sub(time.Unix(issued, 0)).Round(time.Millisecond), describe(slid))
		wantNames(t, "after the first /page", slid, slideMembers...)
		checkSlideIssue(t, "after the first /page", slid, start, end)
		reissued := stampSecond(t, "after the first /page", slid, start, end)
		for _, name := range slideMembers {
			before, after := findCookie(login, name), findCookie(slid, name)
			if before == nil || after == nil {
				continue // reported above
			}
			// More than a second later, in the whole seconds that
			// Firefox and WebKit report.
			if moved := after.expires.Sub(before.expires); moved < time.Second {
				t.Errorf("after the first /page: %s expiry moved %s, want forward by the time since the log-in", name, moved)
			}
		}
		if sid := findCookie(slid, "session_id"); sid != nil && sid.attrs != nil && !sid.attrs.httpOnly {
			// A re-issue carries the group's policies, not the
			// upstream's other attributes: the group does not say
			// httponly, so the HttpOnly the upstream set is gone.
			t.Logf("after the first /page: the re-issued session_id is no longer HttpOnly (the group has no httponly policy)")
		}

		// A page within the interval of the re-issue, in the next second
		// of the module's clock: a re-issue now would show as a new stamp
		// value, so nothing may change.
		start, end = loadWithinInterval(t, c, env.slide+"/page", reissued)
		held := jarOf(t, c)
		t.Logf("after /page %s after the re-issue: %s", start.Sub(time.Unix(reissued, 0)).Round(time.Millisecond), describe(held))
		wantNames(t, "after the second /page", held, slideMembers...)
		for _, name := range slideMembers {
			before, after := findCookie(slid, name), findCookie(held, name)
			if before == nil || after == nil {
				continue // reported above
			}
			if after.value != before.value || !after.expires.Equal(before.expires) {
				t.Errorf("after the second /page: %s=%q expiring %s, want %q expiring %s as after the re-issue (throttled)",
					name, after.value, after.expires.Format(time.StampMilli), before.value, before.expires.Format(time.StampMilli))
			}
		}

		// Idle past the lifetime: the browser drops all three, and sends
		// none of them.
		last := time.Time{}
		for _, ck := range held {
			if ck.expires.After(last) {
				last = ck.expires
			}
		}
		// Firefox rounds an expiry to the second and WebKit truncates it;
		// the margin covers both.
		sleepUntil(t, last.Add(1500*time.Millisecond))
		if got := env.app.sent(t, c, env.raw+"/page"); slices.ContainsFunc(got, func(n string) bool { return slices.Contains(slideMembers, n) }) {
			t.Errorf("after %s idle: the browser sent %q, want none of %q", slideLifetime, got, slideMembers)
		}
		jar := jarOf(t, c)
		t.Logf("after %s idle: %s", time.Since(end).Round(time.Millisecond), describe(jar))
		// Firefox's storage.getCookies still lists a cookie whose expiry
		// has passed until Firefox purges it, though Firefox no longer
		// sends it (checked above): such an entry is not a cookie the
		// jar holds (RFC 6265 §5.3 has it evicted), so only live ones
		// count here.
		now := time.Now()
		live := slices.DeleteFunc(slices.Clone(jar), func(c storedCookie) bool {
			return !c.expires.IsZero() && !c.expires.After(now)
		})
		wantNames(t, "after the lifetime passed idle", live)
	})
}

// checkSlideIssue fails the test unless every cookie of slideMembers in
// jar was issued between start and end with slideLifetime, with the
// group's secure on and samesite lax, the members with their values from
// the log-in and the stamp HttpOnly.
func checkSlideIssue(t *testing.T, label string, jar []storedCookie, start, end time.Time) {
	t.Helper()
	values := map[string]string{"session_id": "abc123", "user_id__insecure": "42"}
	for _, name := range slideMembers {
		c := findCookie(jar, name)
		if c == nil {
			continue // reported by wantNames
		}
		if want, ok := values[name]; ok && c.value != want {
			t.Errorf("%s: %s=%q, want %q", label, name, c.value, want)
		}
		lo, hi := start.Add(slideLifetime-expiryTolerance), end.Add(slideLifetime+expiryTolerance)
		if c.expires.Before(lo) || c.expires.After(hi) {
			t.Errorf("%s: %s expires %s, want between %s and %s (now + %s)", label, name,
				c.expires.Format(time.StampMilli), lo.Format(time.StampMilli), hi.Format(time.StampMilli), slideLifetime)
		}
		if a := c.attrs; a != nil {
			if !a.secure {
				t.Errorf("%s: %s is not Secure, want Secure (secure on)", label, name)
			}
			if a.sameSiteKnown && a.sameSite != "Lax" {
				t.Errorf("%s: %s SameSite=%q, want Lax (samesite lax)", label, name, a.sameSite)
			}
			// The stamp is the module's own; no page script needs it.
			if name == slideStamp && !a.httpOnly {
				t.Errorf("%s: %s is not HttpOnly, want HttpOnly", label, name)
			}
		}
	}
}

// stampSecond returns the stamp's value, the Unix second of the issue,
// and fails the test unless it lies between start and end.
func stampSecond(t *testing.T, label string, jar []storedCookie, start, end time.Time) int64 {
	t.Helper()
	c := findCookie(jar, slideStamp)
	if c == nil {
		t.Fatalf("%s: no %s in the jar: %s", label, slideStamp, describe(jar))
	}
	at, err := strconv.ParseInt(c.value, 10, 64)
	if err != nil || at < start.Unix() || at > end.Unix() {
		t.Fatalf("%s: %s=%q, want the Unix second of the request, between %d and %d", label, slideStamp, c.value, start.Unix(), end.Unix())
	}
	return at
}

// maxSlideWait bounds every wait of the slide scenario: none is longer
// than the lifetime and the rounding margin.
const maxSlideWait = slideLifetime + 3*time.Second

// loadWithinInterval loads url in the second after issued (a stamp's
// Unix second) by the module's clock, and fails the test if the load
// ended once a re-issue was due: the page would then tell nothing of what
// happens within the interval. The module's clock is in whole seconds,
// and a re-issue is due once the current second is more than the
// interval after issued, from issued + interval + 1 s on.
func loadWithinInterval(t *testing.T, c cookieClient, url string, issued int64) (start, end time.Time) {
	t.Helper()
	sleepUntil(t, time.Unix(issued, 0).Add(time.Second+50*time.Millisecond))
	start, end = load(t, c, url)
	if due := time.Unix(issued, 0).Add(slideInterval + time.Second); !end.Before(due) {
		t.Fatalf("%s took until %s, when a re-issue was due after the issue at %s", url, end.Format(time.StampMilli), time.Unix(issued, 0).Format(time.StampMilli))
	}
	return start, end
}

// sleepUntil sleeps until when, and fails the test if that is further away
// than maxSlideWait.
func sleepUntil(t *testing.T, when time.Time) {
	t.Helper()
	d := time.Until(when)
	if d > maxSlideWait {
		t.Fatalf("asked to wait %s, more than %s", d, maxSlideWait)
	}
	if d > 0 {
		time.Sleep(d)
	}
}
