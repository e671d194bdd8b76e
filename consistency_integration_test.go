package cookienormalizer

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// consistencyApp is an upstream whose log-out deletes only session_id, and
// whose other pages set nothing.
func consistencyApp(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", legacySession)
		w.Header().Add("Set-Cookie", legacyUser)
		io.WriteString(w, "logged in")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "session_id=; Max-Age=0; Path=/; HttpOnly; Secure")
		io.WriteString(w, "logged out")
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a page")
	})
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		io.WriteString(w, "a page for shared caches")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// consistencyCaddyfile is the config of the consistency tests; extra goes
// into the directive's block (report_only). metrics is a site that serves
// the load's metrics through Caddy's metrics handler.
func consistencyCaddyfile(admin, site, metrics, upstream, extra string) string {
	return fmt.Sprintf(`{
	admin %s
	persist_config off
	auto_https off
	log {
		level ERROR
	}
}

http://%s {
	bind 127.0.0.1
	cookie_normalizer {
		%s
		group login {
			cookies session_id user_id__insecure
			on_delete cascade
			on_partial expire
		}
	}
	reverse_proxy %s
}

http://%s {
	bind 127.0.0.1
	metrics
}
`, admin, site, extra, upstream, metrics)
}

// TestCaddyIntegrationConsistency runs the consistency rules through a real
// Caddy, then reads the counters from the admin API's /metrics and from
// Caddy's metrics handler, reloads the config through the admin API (Caddy
// makes a new metrics registry for every load) and checks that the
// counters of the new config move.
func TestCaddyIntegrationConsistency(t *testing.T) {
	upstream := consistencyApp(t)
	admin, site, metrics := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	testcaddy.Start(t, consistencyCaddyfile(admin, site, metrics, upstream, ""))

	// get requests path with cookie as the Cookie header. Right after a
	// config load, a new connection can land on the old server's socket
	// and be reset or dropped unanswered (see "Reloading under load" in
	// the README), so a request without a response is sent again (see
	// retried). Such a request never reached the module, so a retry counts
	// nothing twice; one that did would show in the metrics checked below.
	get := func(path, cookie string) http.Header {
		t.Helper()
		resp := retried(t, http.DefaultTransport.RoundTrip, func() *http.Request {
			req, err := http.NewRequest("GET", "http://"+site+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			return req
		})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header
	}
	for i, tc := range []struct {
		name, path, cookie string
		want               []string
		cacheControl       []string
	}{
		{"a log-out of one member clears the other", "/logout", "session_id=abc; user_id__insecure=42",
			[]string{"session_id=; Max-Age=0; Path=/; HttpOnly; Secure", del("user_id__insecure", "; Path=/; Secure")}, nil},
		// The deletions depend on the request's cookies: no shared cache
		// may store them.
		{"a request carrying only session_id gets it deleted, privately", "/page", "session_id=abc",
			[]string{del("session_id", "; Path=/")}, []string{"private"}},
		{"a complete jar gets nothing", "/page", "user_id__insecure=42; theme=dark; session_id=abc", nil, nil},
		{"an empty jar gets nothing", "/page", "", nil, nil},
		{"a response that sets the members gets nothing appended", "/login", "session_id=old",
			[]string{legacySession, legacyUser}, nil},
		// A shared cache would hand the deletions to every user.
		{"a half jar on a page for shared caches gets nothing", "/public", "session_id=abc",
			nil, []string{"public, max-age=600"}},
	} {
		got := get(tc.path, tc.cookie)
		if !equalStrings(got.Values("Set-Cookie"), tc.want) {
			t.Errorf("%d %s:\n got  %q\n want %q", i, tc.name, got.Values("Set-Cookie"), tc.want)
		}
		if !equalStrings(got.Values("Cache-Control"), tc.cacheControl) {
			t.Errorf("%d %s: Cache-Control %q, want %q", i, tc.name, got.Values("Cache-Control"), tc.cacheControl)
		}
	}

	for _, at := range []string{admin, metrics} {
		wantMetric(t, at, `caddy_http_cookie_normalizer_cookies_total{action="cascaded",group="login",report_only="false"}`, "1")
		wantMetric(t, at, `caddy_http_cookie_normalizer_cookies_total{action="partial expired",group="login",report_only="false"}`, "1")
		wantMetric(t, at, `caddy_http_cookie_normalizer_cookies_total{action="unchanged",group="login",report_only="false"}`, "3")
	}

	// Reload as report_only, through the admin API.
	loadConfig(t, admin, consistencyCaddyfile(admin, site, metrics, upstream, "report_only"))
	if got := get("/page", "session_id=abc"); len(got["Set-Cookie"]) != 0 || len(got["Cache-Control"]) != 0 {
		t.Errorf("report_only: Set-Cookie %q, Cache-Control %q, want neither", got["Set-Cookie"], got["Cache-Control"])
	}
	if got := get("/logout", "").Values("Set-Cookie"); !equalStrings(got, []string{"session_id=; Max-Age=0; Path=/; HttpOnly; Secure"}) {
		t.Errorf("report_only: Set-Cookie %q, want the upstream's only", got)
	}
	for _, at := range []string{admin, metrics} {
		wantMetric(t, at, `caddy_http_cookie_normalizer_cookies_total{action="partial expired",group="login",report_only="true"}`, "1")
		wantMetric(t, at, `caddy_http_cookie_normalizer_cookies_total{action="cascaded",group="login",report_only="true"}`, "1")
	}
}

// adminClient talks to Caddy's admin API, each request on a connection
// of its own, so that no request rides on a connection an earlier admin
// server (Caddy replaces it on every config load) is closing.
var adminClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true},
	Timeout:   30 * time.Second,
}

// loadConfig replaces the config through the admin API's /load. Under
// -race, after the other tests of the package, this POST has failed about
// once in twenty runs, on a new connection, with EOF or a reset: what
// Caddy's config loads do to connections that arrive as a server is
// replaced (each load replaces the admin server too; see "Reloading under
// load" in the README and golang/go#75591), though which replacement was
// under way then is not known. So it is sent again if it got no response
// (see retried): loading the same config again is harmless, it makes a
// new metrics registry either way. A response other than 200 fails at
// once.
func loadConfig(t *testing.T, admin, caddyfile string) {
	t.Helper()
	resp := retried(t, adminClient.Do, func() *http.Request {
		load, err := http.NewRequest("POST", "http://"+admin+"/load", strings.NewReader(caddyfile))
		if err != nil {
			t.Fatal(err)
		}
		load.Header.Set("Content-Type", "text/caddyfile")
		load.Header.Set("Cache-Control", "must-revalidate")
		return load
	})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /load: %s: %s", resp.Status, body)
	}
}

// retried sends the request newReq makes with send, and sends a new one
// if it got no response at all (a transport error), twice at most, saying
// so in the test's log. Any response, whatever its status, is returned.
func retried(t *testing.T, send func(*http.Request) (*http.Response, error), newReq func() *http.Request) *http.Response {
	t.Helper()
	for attempt := 1; ; attempt++ {
		req := newReq()
		resp, err := send(req)
		if err == nil {
			return resp
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("%s %s, attempt %d: %v; sending it again", req.Method, req.URL.Path, attempt, err)
	}
}

// wantMetric scrapes /metrics at addr (the admin API, or a site with
// Caddy's metrics handler) and checks one sample. The scrape is retried
// on a transport error, as the requests to a site are after a reload.
func wantMetric(t *testing.T, addr, series, want string) {
	t.Helper()
	resp := retried(t, adminClient.Do, func() *http.Request {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	})
	defer resp.Body.Close()
	var seen []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "caddy_http_cookie_normalizer_") {
			seen = append(seen, line)
		}
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			if value != want {
				t.Errorf("%s = %s, want %s", series, value, want)
			}
			return
		}
	}
	t.Errorf("%s not in /metrics; the module's series there:\n%s", series, strings.Join(seen, "\n"))
}

// TestCaddyIntegrationErrorRoutes: when reverse_proxy fails (nothing
// listens upstream), the handler returns an error and Caddy answers it
// after the module has returned, through handle_errors or with the bare
// status.
//   - With error routes, the module of the failed route appends nothing:
//     the error route's own cookie_normalizer decides for the error page,
//     so its partial expiry is the only deletion (before, the failed
//     route's deletion of session_id was already in the header map, and
//     the error route's module cascaded it to a user_id__insecure the
//     browser never sent).
//   - The error route's module reads the jar as it arrived, though a
//     request_header of the failed route thinned the Cookie header in
//     place and Caddy does not restore it: a complete jar gets nothing.
//   - Without error routes, Caddy sends the header map with the bare
//     status, and the rules apply to it: a half jar is expired, and a
//     log-out a handler put in the map cascades.
func TestCaddyIntegrationErrorRoutes(t *testing.T) {
	down := testcaddy.FreeAddr(t) // nothing listens there
	withRoutes, thinned, bare, bareLogout := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
(cn) {
	cookie_normalizer session_id user_id__insecure {
		on_delete cascade
		on_partial expire
	}
}

http://%[1]s {
	bind 127.0.0.1
	import cn
	reverse_proxy %[5]s
	handle_errors {
		import cn
		respond "error {err.status_code}"
	}
}

http://%[2]s {
	bind 127.0.0.1
	import cn
	request_header Cookie "(^|;\s*)user_id__insecure=[^;]*" ""
	reverse_proxy %[5]s
	handle_errors {
		import cn
		respond "error {err.status_code}"
	}
}

http://%[3]s {
	bind 127.0.0.1
	import cn
	reverse_proxy %[5]s
}

http://%[4]s {
	bind 127.0.0.1
	import cn
	header Set-Cookie "session_id=; Max-Age=0; Path=/"
	reverse_proxy %[5]s
}
`, withRoutes, thinned, bare, bareLogout, down))
	for i, tc := range []struct {
		site, cookie, body string
		want               []string
		cacheControl       []string
	}{
		{withRoutes, "theme=dark; session_id=abc", "error 502", []string{del("session_id", "; Path=/")}, []string{"private"}},
		{thinned, "session_id=abc; user_id__insecure=42", "error 502", nil, nil},
		{thinned, "theme=dark; session_id=abc", "error 502", []string{del("session_id", "; Path=/")}, []string{"private"}},
		{bare, "theme=dark; session_id=abc", "", []string{del("session_id", "; Path=/")}, []string{"private"}},
		{bareLogout, "session_id=abc; user_id__insecure=42", "", []string{"session_id=; Max-Age=0; Path=/", del("user_id__insecure", "; Path=/")}, nil},
	} {
		resp, body := getPage(t, tc.site, tc.cookie)
		if resp.StatusCode != http.StatusBadGateway || body != tc.body {
			t.Errorf("%d: %s %q, want 502 %q", i, resp.Status, body, tc.body)
		}
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, tc.want) {
			t.Errorf("%d Cookie %q: Set-Cookie %q, want %q", i, tc.cookie, got, tc.want)
		}
		if got := resp.Header.Values("Cache-Control"); !equalStrings(got, tc.cacheControl) {
			t.Errorf("%d Cookie %q: Cache-Control %q, want %q", i, tc.cookie, got, tc.cacheControl)
		}
	}
}

// TestCaddyIntegrationRequestHeaderEdit: request_header runs after the
// module (Caddy's directive order) and its search and replace edits the
// request's Cookie field in place. The module reads the jar as the
// browser sent it: a complete jar thinned for the upstream is not a
// partial one.
func TestCaddyIntegrationRequestHeaderEdit(t *testing.T) {
	upstream := consistencyApp(t)
	site := testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
http://%s {
	bind 127.0.0.1
	cookie_normalizer session_id user_id__insecure {
		on_partial expire
	}
	request_header Cookie "(^|;\s*)user_id__insecure=[^;]*" ""
	reverse_proxy %s
}
`, site, upstream))
	for i, tc := range []struct {
		cookie string
		want   []string
	}{
		{"session_id=abc; user_id__insecure=42", nil},
		{"user_id__insecure=42", []string{del("user_id__insecure", "; Path=/")}},
	} {
		resp, _ := getPage(t, site, tc.cookie)
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, tc.want) {
			t.Errorf("%d Cookie %q: Set-Cookie %q, want %q", i, tc.cookie, got, tc.want)
		}
	}
}

// getPage GETs /page from site with cookie as the Cookie header, and
// returns the response and its body, read and closed.
func getPage(t *testing.T, site, cookie string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+site+"/page", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestCaddyIntegrationForwardedProto: behind a load balancer that
// terminates TLS, Caddy serves plain HTTP while the browser is on HTTPS.
// From a proxy the server trusts (trusted_proxies), X-Forwarded-Proto:
// https makes the request count as HTTPS, as reverse_proxy passes it on:
// on_partial's deletion then carries Secure. From one it does not trust,
// or without the header, the request is plain HTTP.
func TestCaddyIntegrationForwardedProto(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprintf("trusted=%t", trusted), func(t *testing.T) {
			site := testcaddy.FreeAddr(t)
			extra := ""
			if trusted {
				extra = "\tservers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}\n"
			}
			testcaddy.Start(t, testcaddy.GlobalOptions(extra)+`
http://`+site+` {
	bind 127.0.0.1
	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			on_partial expire
		}
	}
	respond "a page"
}
`)
			for i, tc := range []struct {
				proto  []string // X-Forwarded-Proto fields
				secure bool
			}{
				{nil, false},
				{[]string{"https"}, trusted},
				{[]string{"HTTPS"}, trusted},
				{[]string{"http"}, false},
				{[]string{"http", "https"}, trusted}, // the last field, as reverse_proxy reads it
				{[]string{"https, http"}, false},     // not one value: unsure, plain HTTP
			} {
				resp := retried(t, http.DefaultTransport.RoundTrip, func() *http.Request {
					req, err := http.NewRequest("GET", "http://"+site+"/page", nil)
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Cookie", "session_id=abc")
					req.Header["X-Forwarded-Proto"] = tc.proto
					return req
				})
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				want := del("session_id", "; Path=/")
				if tc.secure {
					want = del("session_id", "; Path=/; Secure")
				}
				if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{want}) {
					t.Errorf("%d: X-Forwarded-Proto %q: got %q, want %q", i, tc.proto, got, want)
				}
			}
		})
	}
}
