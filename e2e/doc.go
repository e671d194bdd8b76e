// Package e2e proves cookie_normalizer in real cookie stores: three browser
// engines (headless Chromium over the DevTools protocol with chromedp,
// headless Firefox over WebDriver BiDi, WebKitGTK's MiniBrowser over
// classic WebDriver with WebKitWebDriver on Xvfb), Go's net/http/cookiejar
// and curl's cookie jar. Each test starts Caddy in-process with the module
// in front of a small legacy app on 127.0.0.1, runs the same scenarios
// through one client, and asserts what that client stored: value, whether
// it is a session cookie, its expiry, and its attributes where the client
// exposes them.
//
// The browsers and curl go through Caddy over HTTPS, with a certificate
// from a local CA made afresh for each scenario: the scenarios' cookies are
// Secure, and WebKitGTK's cookie store (libsoup) drops Secure cookies
// received over plain http even from 127.0.0.1. WebKitGTK's store is not
// Safari's (CFNetwork), which cannot run here.
//
// TestBrowsers runs every scenario in every engine of engines, reported as
// TestBrowsers/<engine>/<scenario>; each engine is one browser process for
// the whole package, and each scenario gets an empty jar.
//
// TestPolicies runs the attribute policies (secure, httponly, samesite,
// path, domain), group consistency (on_delete cascade, on_partial expire)
// and sliding expiry in every engine, reported as
// TestPolicies/<engine>/<scenario>, and asserts where each engine stores
// a cookie and what it sends back, besides what it stores.
//
// TestRandomDifferential sends random odd Set-Cookie fields (seeded:
// DIFF_SEED) to every engine, once through reverse_proxy alone and once
// through the module, and checks per engine and field that the module
// never stores what the engine does not store raw, that expire max never
// lengthens a lifetime, that the other policies give their lifetime
// unless the module left the field unchanged, and that nothing but the
// lifetime changes.
//
// A missing browser or curl skips its test with the Debian package to
// install, except under CI=true, where it fails: CI must not go green
// having run nothing.
//
//	go test -race -v ./e2e/
package e2e
