// Package e2e proves cookie_normalizer in real cookie stores: headless
// Chromium (driven with chromedp), Go's net/http/cookiejar and curl's cookie
// jar. Each test starts Caddy in-process with the module in front of a small
// legacy app on 127.0.0.1, runs the same scenarios through one client, and
// asserts what that client stored: value, whether it is a session cookie,
// its expiry, and its attributes where the client exposes them.
//
// A missing browser or curl skips its test with the Debian package to
// install, except under CI=true, where it fails: CI must not go green
// having run nothing.
//
//	go test -race -v ./e2e/
package e2e
