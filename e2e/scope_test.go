package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// cookieScope is where a jar stores a cookie: the domain (without the
// leading dot some stores write for a domain cookie), the path, and
// whether the cookie is host-only (sent to its host alone) or a domain
// cookie (sent to subdomains too).
type cookieScope struct {
	domain, path string
	hostOnly     bool
}

// scopedCookie is a stored cookie with its scope.
type scopedCookie struct {
	storedCookie
	cookieScope
}

// scopedJar is a browser client that can say where each cookie is
// stored. What it lists is what the engine's driver shows: every cookie of
// the client's jar in Chromium and Firefox, only those the current page
// would receive in WebKit (WebDriver's Get All Cookies), so a test reading
// a path-scoped cookie in WebKit loads a page under that path first.
type scopedJar interface {
	cookieClient
	scopedCookies(ctx context.Context) ([]scopedCookie, error)
}

// rootCookies is the cookies method of a browser client that can list
// its jar with scopes: that list, through rootScoped.
func rootCookies(ctx context.Context, s interface {
	scopedCookies(ctx context.Context) ([]scopedCookie, error)
}) ([]storedCookie, error) {
	jar, err := s.scopedCookies(ctx)
	if err != nil {
		return nil, err
	}
	return rootScoped(jar)
}

// rootScoped returns the cookies of jar, and fails unless every one is a
// host-only cookie of 127.0.0.1 with Path=/: where the scenarios of
// runScenarios expect every cookie.
func rootScoped(jar []scopedCookie) ([]storedCookie, error) {
	out := make([]storedCookie, 0, len(jar))
	for _, c := range jar {
		if c.domain != "127.0.0.1" || c.path != "/" || !c.hostOnly {
			return nil, fmt.Errorf("cookie %s stored for domain %q path %q (host-only %t), want 127.0.0.1 and / (host-only)", c.name, c.domain, c.path, c.hostOnly)
		}
		out = append(out, c.storedCookie)
	}
	return out, nil
}

// describeScoped prints a jar with each cookie's scope and flags, for logs
// and failure messages.
func describeScoped(jar []scopedCookie) string {
	if len(jar) == 0 {
		return "(empty)"
	}
	parts := make([]string, 0, len(jar))
	for _, c := range jar {
		scope := c.domain + c.path
		if !c.hostOnly {
			scope = "." + scope
		}
		flags := ""
		if a := c.attrs; a != nil {
			if a.secure {
				flags += " Secure"
			}
			if a.httpOnly {
				flags += " HttpOnly"
			}
			if a.sameSite != "" {
				flags += " SameSite=" + a.sameSite
			}
		}
		exp := "session"
		if !c.expires.IsZero() {
			exp = "in " + time.Until(c.expires).Round(time.Second).String()
		}
		parts = append(parts, fmt.Sprintf("%s=%q (%s%s, %s)", c.name, c.value, scope, flags, exp))
	}
	return strings.Join(parts, ", ")
}
