package cookienormalizer

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// These tests run the module beside Caddy's other response-touching
// directives (intercept, handle_response, forward_auth, encode, header,
// handle_errors, lb_retries, push, request_body, map, vars), with no
// clock involved: every expected byte is a constant.

// dirPolicy is the module's config in every site: a log-in pair with the
// consistency rules, and two cookies whose rewrite is constant.
const dirPolicy = `cookie_normalizer {
		group login {
			cookies session_id user_id
			on_delete cascade
			on_partial expire
		}
		group misc {
			cookies a b
			expire session
			httponly on
		}
	}`

const (
	dirA       = "a=1; Max-Age=5; Path=/"
	dirB       = "b=2; Max-Age=5; Path=/"
	dirARewr   = "a=1; Path=/; HttpOnly"
	dirBRewr   = "b=2; Path=/; HttpOnly"
	dirLogout  = "session_id=; Max-Age=0; Path=/"
	dirHalfJar = "session_id=abc" // half of the login group: on_partial expires it
)

// dirDelSession is the partial expiry of session_id (plain HTTP).
var dirDelSession = del("session_id", "; Path=/")

// dirUpstream is the app behind reverse_proxy. /stream and /sse write a
// first chunk, flush, and wait for the test to release them (by the id
// query parameter) before writing the second.
type dirUpstream struct {
	srv *httptest.Server
	streamGates
}

func (u *dirUpstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

func newDirUpstream(t *testing.T) *dirUpstream {
	t.Helper()
	u := &dirUpstream{}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "session_id=abc; Path=/")
		w.Header().Add("Set-Cookie", "user_id=42; Path=/")
		io.WriteString(w, "logged in")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", dirLogout)
		io.WriteString(w, "logged out")
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a page")
	})
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", dirA)
		io.WriteString(w, "a")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", dirA)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, strings.Repeat("big body ", 200))
	})
	mux.HandleFunc("/a404", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", dirA)
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "not here")
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", dirB)
		if !strings.Contains(r.Header.Get("Cookie"), "ok=1") {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "who are you")
			return
		}
		w.Header().Set("Remote-User", "alice")
	})
	stream := func(ct, first, second string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			w.Header().Add("Set-Cookie", dirA)
			io.WriteString(w, first)
			http.NewResponseController(w).Flush()
			select {
			case <-u.release(r.URL.Query().Get("id")):
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Second):
				return
			}
			io.WriteString(w, second)
		}
	}
	mux.HandleFunc("/stream", stream("", "first\n", "second\n"))
	mux.HandleFunc("/sse", stream("text/event-stream", "data: first\n", "data: second\n"))
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		w.Header().Add("Set-Cookie", dirA)
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	})
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	return u
}

// dirResult is what a client received.
type dirResult struct {
	status       int
	setCookie    []string
	cacheControl []string
	body         string
	encoding     string // Content-Encoding as sent (the client does not decode)
}

// dirDo sends one request with cookie as its Cookie header, extra as
// header name/value pairs, and returns what came back, body read.
func dirDo(t *testing.T, c *http.Client, method, url, cookie string, body io.Reader, extra ...string) dirResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _ := dirDoContext(ctx, t, c, method, url, cookie, body, extra...)
	return res
}

// dirDoContext is dirDo within ctx; it also returns the response's
// major protocol version.
func dirDoContext(ctx context.Context, t *testing.T, c *http.Client, method, url, cookie string, body io.Reader, extra ...string) (dirResult, int) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return dirResult{resp.StatusCode, resp.Header.Values("Set-Cookie"), resp.Header.Values("Cache-Control"), string(b), resp.Header.Get("Content-Encoding")}, resp.ProtoMajor
}

func (r dirResult) String() string {
	return fmt.Sprintf("status %d Set-Cookie %q Cache-Control %q Content-Encoding %q body %.40q", r.status, r.setCookie, r.cacheControl, r.encoding, r.body)
}

// sameResult compares everything but a compressed body's bytes.
func sameResult(got, want dirResult) bool {
	if got.status != want.status || !equalStrings(got.setCookie, want.setCookie) ||
		!equalStrings(got.cacheControl, want.cacheControl) || got.encoding != want.encoding {
		return false
	}
	return want.encoding != "" || got.body == want.body
}

// TestErrorRouteThatFails: when the error route's own handler
// fails too (its reverse_proxy's upstream is down, or its file_server has
// no such file), Caddy logs "error handling handler error" and writes the
// first error's status with the header map as the handlers left it
// (caddyhttp.Server.ServeHTTP): no further error route runs. The error
// route's cookie_normalizer is then the last module to see the response,
// and the bare status gets the consistency rules as any response does (a
// half jar is expired, a log-out another handler put in the map
// cascades), as the same request to a server without error routes (the
// control row) does. Taken for a failed route whose error routes are
// still to run, it would append nothing.
func TestErrorRouteThatFails(t *testing.T) {
	down := testcaddy.FreeAddr(t) // nothing listens there
	proxyFails, fileFails, logoutFails, control := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	invokeFails := testcaddy.FreeAddr(t)
	root := t.TempDir() // empty: every file is missing
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
(cn) {
	%[1]s
}

&(errpage) {
	route {
		import cn
		reverse_proxy %[6]s
	}
}

http://%[9]s {
	bind 127.0.0.1
	import cn
	reverse_proxy %[6]s
	handle_errors {
		invoke errpage
	}
}

http://%[2]s {
	bind 127.0.0.1
	import cn
	reverse_proxy %[6]s
	handle_errors {
		import cn
		reverse_proxy %[6]s
	}
}

http://%[3]s {
	bind 127.0.0.1
	import cn
	reverse_proxy %[6]s
	handle_errors {
		import cn
		root * %[7]s
		rewrite * /{err.status_code}.html
		file_server
	}
}

http://%[4]s {
	bind 127.0.0.1
	import cn
	header Set-Cookie "%[8]s"
	reverse_proxy %[6]s
	handle_errors {
		import cn
		reverse_proxy %[6]s
	}
}

http://%[5]s {
	bind 127.0.0.1
	import cn
	reverse_proxy %[6]s
}
`, dirPolicy, proxyFails, fileFails, logoutFails, control, down, root, dirLogout, invokeFails))
	c := &http.Client{}
	for _, tc := range []struct {
		name, site, cookie string
		want               dirResult
	}{
		{"control: no error routes", control, dirHalfJar,
			dirResult{status: 502, setCookie: []string{dirDelSession}, cacheControl: []string{"private"}}},
		{"error route's reverse_proxy fails", proxyFails, dirHalfJar,
			dirResult{status: 502, setCookie: []string{dirDelSession}, cacheControl: []string{"private"}}},
		{"error route's named route (invoke) fails", invokeFails, dirHalfJar,
			dirResult{status: 502, setCookie: []string{dirDelSession}, cacheControl: []string{"private"}}},
		{"error route's file_server finds no page", fileFails, dirHalfJar,
			dirResult{status: 502, setCookie: []string{dirDelSession}, cacheControl: []string{"private"}}},
		{"a log-out in the map, error route fails", logoutFails, "session_id=abc; user_id=42",
			dirResult{status: 502, setCookie: []string{dirLogout, del("user_id", "; Path=/")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dirDo(t, c, "GET", "http://"+tc.site+"/page", tc.cookie, nil)
			if !sameResult(got, tc.want) {
				t.Errorf("Cookie %q:\n got  %s\n want %s", tc.cookie, got, tc.want)
			}
		})
	}
}

// TestBesideDirectives checks, through one Caddy over HTTP/1.1 and h2c,
// that the fields the client receives are rewritten once, none lost or
// doubled, and the consistency rules' deletion appended exactly once,
// beside intercept, handle_response (copy_response_headers, copy_response),
// forward_auth, encode (inside and outside the module), deferred header
// edits, lb_retries and lb_retry_match, push, map, vars and request_body;
// that bodies stream through encode and intercept (a flushed first chunk
// arrives before the upstream writes the rest, SSE too); and that a
// WebSocket upgrade through encode carries the rewritten fields and the
// deletion on its 101 and then data both ways.
func TestBesideDirectives(t *testing.T) {
	up := newDirUpstream(t)
	// An upstream whose every answer is a 503 with a log-out and a cookie:
	// lb_retry_match retries it, and none of its fields may leak.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "b=9; Max-Age=5; Path=/")
		w.Header().Add("Set-Cookie", dirLogout)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "bad")
	}))
	t.Cleanup(bad.Close)
	down := testcaddy.FreeAddr(t)
	const (
		interceptOut = iota // the module outside intercept (directive order)
		interceptPass
		interceptIn // the module inside intercept (route)
		handleResp
		forwardAuth
		encodeIn  // encode inside the module (directive order)
		encodeOut // encode outside the module (route)
		headerOps
		retries
		retryMatch
		misc
		nSites
	)
	addrs := make([]string, nSites)
	for i := range addrs {
		addrs[i] = testcaddy.FreeAddr(t)
	}
	sites := `
http://%s {
	bind 127.0.0.1
	import cn
	intercept {
		@nf status 404
		handle_response @nf {
			header +Set-Cookie "{$B}"
			respond "replaced" 410
		}
	}
	reverse_proxy {$UP}
}

http://%s {
	bind 127.0.0.1
	import cn
	intercept {
		@nf status 404
		handle_response @nf {
			header X-Intercepted yes
		}
	}
	reverse_proxy {$UP} {
		flush_interval -1
	}
}

http://%s {
	bind 127.0.0.1
	route {
		intercept {
			@nf status 404
			handle_response @nf {
				header +Set-Cookie "{$B}"
				respond "replaced" 410
			}
		}
		import cn
		reverse_proxy {$UP}
	}
}

http://%s {
	bind 127.0.0.1
	import cn
	reverse_proxy {$UP} {
		@nf status 404
		handle_response @nf {
			copy_response_headers {
				include Set-Cookie
			}
			respond "replaced" 410
		}
		@ok status 200
		handle_response @ok {
			copy_response 201
		}
	}
}

http://%s {
	bind 127.0.0.1
	import cn
	forward_auth {$UP} {
		uri /auth
		copy_headers Remote-User
	}
	reverse_proxy {$UP}
}

http://%s {
	bind 127.0.0.1
	import cn
	encode gzip zstd
	reverse_proxy {$UP} {
		flush_interval -1
	}
}

http://%s {
	bind 127.0.0.1
	route {
		encode gzip zstd
		import cn
		reverse_proxy {$UP} {
			flush_interval -1
		}
	}
}

http://%s {
	bind 127.0.0.1
	import cn
	header >Set-Cookie "a=1" "a=3"
	header /login -Set-Cookie
	header /page Set-Cookie "{$B}"
	reverse_proxy {$UP}
}

http://%s {
	bind 127.0.0.1
	import cn
	reverse_proxy {$DOWN} {$UP} {
		lb_policy first
		lb_retries 2
		fail_duration 10s
	}
}

http://%s {
	bind 127.0.0.1
	import cn
	reverse_proxy {$BAD} {$UP} {
		lb_policy round_robin
		lb_retries 2
		lb_retry_match {
			expression {rp.status_code} == 503
		}
	}
}

http://%s {
	bind 127.0.0.1
	import cn
	map {path} {cv} {
		/a "{$B}"
		default "b=0; Max-Age=5; Path=/"
	}
	vars v x
	push
	request_body {
		max_size 10
	}
	header Link "</a.css>; rel=preload"
	header Set-Cookie {cv}
	reverse_proxy {$UP}
}
`
	for _, a := range addrs { // each site's address, in order
		sites = strings.Replace(sites, "http://%s", "http://"+a, 1)
	}
	sites = strings.NewReplacer("{$UP}", up.addr(), "{$DOWN}", down, "{$BAD}", strings.TrimPrefix(bad.URL, "http://"), "{$B}", dirB).Replace(sites)
	testcaddy.Start(t, testcaddy.GlobalOptions("\tservers {\n\t\tprotocols h1 h2c\n\t}\n")+"(cn) {\n\t"+dirPolicy+"\n}\n"+sites)

	// The clients do not ask for compression themselves, so that the
	// Content-Encoding the server sent is what they report.
	h1 := &http.Transport{DisableCompression: true}
	h2c := &http.Transport{DisableCompression: true, Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(h1.CloseIdleConnections)
	t.Cleanup(h2c.CloseIdleConnections)
	private := []string{"private"}
	gzip := []string{"Accept-Encoding", "gzip"}
	cases := []struct {
		name         string
		site         int
		method, path string
		cookie       string
		body         string
		extra        []string
		want         dirResult
	}{
		// intercept replaces the 404: the upstream's field stays in the
		// map (intercept keeps it), the route's own field is added, both
		// rewritten once, the deletion once, for the status sent.
		{"intercept replaces", interceptOut, "GET", "/a404", dirHalfJar, "", nil,
			dirResult{status: 410, setCookie: []string{dirARewr, dirBRewr, dirDelSession}, cacheControl: private, body: "replaced"}},
		{"intercept passes through", interceptPass, "GET", "/a404", dirHalfJar, "", nil,
			dirResult{status: 404, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, body: "not here"}},
		{"intercept, not matched", interceptOut, "GET", "/a", "", "", nil,
			dirResult{status: 200, setCookie: []string{dirARewr}, body: "a"}},
		// The module inside intercept (route): intercept's handle_response
		// wraps it and adds its field after the rewrite (README, Limits:
		// a handler that wraps the module writes after it).
		{"module inside intercept", interceptIn, "GET", "/a404", dirHalfJar, "", nil,
			dirResult{status: 410, setCookie: []string{dirARewr, dirDelSession, dirB}, cacheControl: private, body: "replaced"}},
		{"handle_response copy_response_headers, respond", handleResp, "GET", "/a404", dirHalfJar, "", nil,
			dirResult{status: 410, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, body: "replaced"}},
		{"handle_response copy_response", handleResp, "GET", "/a", "", "", nil,
			dirResult{status: 201, setCookie: []string{dirARewr}, body: "a"}},
		{"handle_response copy_response, log-out cascades", handleResp, "GET", "/logout", "session_id=abc; user_id=42", "", nil,
			dirResult{status: 201, setCookie: []string{dirLogout, del("user_id", "; Path=/")}, body: "logged out"}},
		// forward_auth: the auth server's 401 is the response; on its
		// 2xx Caddy drops its fields and the app answers.
		{"forward_auth denies", forwardAuth, "GET", "/a", dirHalfJar, "", nil,
			dirResult{status: 401, setCookie: []string{dirBRewr, dirDelSession}, cacheControl: private, body: "who are you"}},
		{"forward_auth allows", forwardAuth, "GET", "/a", "ok=1; " + dirHalfJar, "", nil,
			dirResult{status: 200, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, body: "a"}},
		// encode: a body below the minimum length goes out plain; a long
		// one compressed; the fields the same either way.
		{"encode inside, short body", encodeIn, "GET", "/a", dirHalfJar, "", gzip,
			dirResult{status: 200, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, body: "a"}},
		{"encode inside, long body", encodeIn, "GET", "/big", dirHalfJar, "", gzip,
			dirResult{status: 200, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, encoding: "gzip"}},
		{"encode outside, short body", encodeOut, "GET", "/a", dirHalfJar, "", gzip,
			dirResult{status: 200, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, body: "a"}},
		{"encode outside, long body", encodeOut, "GET", "/big", dirHalfJar, "", gzip,
			dirResult{status: 200, setCookie: []string{dirARewr, dirDelSession}, cacheControl: private, encoding: "gzip"}},
		// header's deferred edits run inside the module: it rewrites what
		// they leave, and appends after a deletion of every field.
		{"header > replace, deferred", headerOps, "GET", "/a", "", "", nil,
			dirResult{status: 200, setCookie: []string{"a=3; Path=/; HttpOnly"}, body: "a"}},
		{"header -Set-Cookie", headerOps, "GET", "/login", dirHalfJar, "", nil,
			dirResult{status: 200, setCookie: []string{dirDelSession}, cacheControl: private, body: "logged in"}},
		{"header Set-Cookie", headerOps, "GET", "/page", "", "", nil,
			dirResult{status: 200, setCookie: []string{dirBRewr}, body: "a page"}},
		{"lb_retries past a dead upstream", retries, "GET", "/login", "", "", nil,
			dirResult{status: 200, setCookie: []string{"session_id=abc; Path=/", "user_id=42; Path=/"}, body: "logged in"}},
		// Round robin: one of the two requests tries the 503 first; its
		// log-out must not reach the client nor cascade.
		{"lb_retry_match 1", retryMatch, "GET", "/page", "session_id=abc; user_id=42", "", nil,
			dirResult{status: 200, body: "a page"}},
		{"lb_retry_match 2", retryMatch, "GET", "/page", "session_id=abc; user_id=42", "", nil,
			dirResult{status: 200, body: "a page"}},
		// push is harmless (no HTTP/2 push in Go's server); map's value in
		// a header field is rewritten like the upstream's.
		{"push, map, vars", misc, "GET", "/a", "", "", nil,
			dirResult{status: 200, setCookie: []string{dirBRewr, dirARewr}, body: "a"}},
		{"request_body over max_size", misc, "POST", "/a", dirHalfJar, strings.Repeat("x", 100), nil,
			dirResult{status: 413, setCookie: []string{dirBRewr, dirDelSession}, cacheControl: private}},
	}
	for _, cl := range []struct {
		name string
		c    *http.Client
	}{{"h1", &http.Client{Transport: h1}}, {"h2c", &http.Client{Transport: h2c}}} {
		for _, tc := range cases {
			t.Run(cl.name+"/"+tc.name, func(t *testing.T) {
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				got := dirDo(t, cl.c, tc.method, "http://"+addrs[tc.site]+tc.path, tc.cookie, body, tc.extra...)
				if !sameResult(got, tc.want) {
					t.Errorf("%s %s Cookie %q:\n got  %s\n want %s", tc.method, tc.path, tc.cookie, got, tc.want)
				}
			})
		}
		for _, tc := range []struct {
			name, path string
			site       int
			first      string
		}{
			{"encode inside", "/stream", encodeIn, "first\n"},
			{"encode inside, SSE", "/sse", encodeIn, "data: first\n"},
			{"encode outside", "/stream", encodeOut, "first\n"},
			{"encode outside, SSE", "/sse", encodeOut, "data: first\n"},
			{"intercept, SSE", "/sse", interceptPass, "data: first\n"},
		} {
			t.Run(cl.name+"/streams "+tc.name, func(t *testing.T) {
				dirStream(t, cl.c, up, "http://"+addrs[tc.site], tc.path, cl.name+tc.name, tc.first)
			})
		}
	}
	for _, site := range []int{encodeIn, encodeOut, interceptOut} {
		t.Run(fmt.Sprintf("WebSocket site %d", site), func(t *testing.T) {
			resp, br, conn := dirUpgrade(t, addrs[site], dirHalfJar)
			defer conn.Close()
			if want := []string{dirARewr, dirDelSession}; resp.StatusCode != http.StatusSwitchingProtocols || !equalStrings(resp.Header.Values("Set-Cookie"), want) {
				t.Fatalf("got %d %q, want 101 %q", resp.StatusCode, resp.Header.Values("Set-Cookie"), want)
			}
			echoOverConn(t, conn, br)
			awaitTunnelClosed(t, br)
		})
	}
}

// dirStream checks a streamed response: the fields rewritten, and the first
// chunk arriving before the upstream is released to write the second. The
// client asks for gzip and decodes it.
func dirStream(t *testing.T, c *http.Client, up *dirUpstream, base, path, id, first string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+path+"?id="+url.QueryEscape(id), nil)
	tr := c.Transport.(*http.Transport).Clone()
	tr.DisableCompression = false
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); resp.StatusCode != 200 || !equalStrings(got, []string{dirARewr}) {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, got, []string{dirARewr})
	}
	br := bufio.NewReader(resp.Body)
	line := make(chan string, 1)
	go func() {
		l, _ := br.ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != first {
			t.Errorf("first chunk %q, want %q", l, first)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the first chunk did not arrive before the upstream wrote the rest: buffered")
	}
	close(up.release(id))
	rest, err := io.ReadAll(br)
	if err != nil || !strings.Contains(string(rest), "second\n") {
		t.Errorf("rest %q, %v", rest, err)
	}
}

// dirUpgrade sends a WebSocket upgrade with cookie and Accept-Encoding:
// gzip (for encode to see) and returns the 101 and the connection.
func dirUpgrade(t *testing.T, addr, cookie string) (*http.Response, *bufio.Reader, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAccept-Encoding: gzip\r\nCookie: " + cookie + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	return resp, br, conn
}

// TestBesideDirectivesTLS runs the intercept, encode and SSE combinations
// over HTTP/2 with TLS and HTTP/3, where quic-go sends the header map at
// the first body byte instead of at WriteHeader.
func TestBesideDirectivesTLS(t *testing.T) {
	up := newDirUpstream(t)
	addr := testcaddy.FreeAddr(t)
	protoStartTLS(t, fmt.Sprintf(`
https://%s {
	bind 127.0.0.1
	tls internal
	%s
	intercept {
		@nf status 404
		handle_response @nf {
			header +Set-Cookie "%s"
			respond "replaced" 410
		}
	}
	encode gzip
	reverse_proxy %s {
		flush_interval -1
	}
}
`, addr, dirPolicy, dirB, up.addr()), addr)
	delSecure := del("session_id", "; Path=/; Secure")
	for _, cl := range tlsClients(t)[1:] { // HTTP/2 and HTTP/3
		for _, tc := range []struct {
			path, cookie string
			want         dirResult
		}{
			{"/a404", dirHalfJar, dirResult{status: 410, setCookie: []string{dirARewr, dirBRewr, delSecure}, cacheControl: []string{"private"}, body: "replaced"}},
			{"/big", dirHalfJar, dirResult{status: 200, setCookie: []string{dirARewr, delSecure}, cacheControl: []string{"private"}, encoding: "gzip"}},
			{"/logout", "session_id=abc; user_id=42", dirResult{status: 200, setCookie: []string{dirLogout, del("user_id", "; Path=/")}, body: "logged out"}},
		} {
			got := dirDo(t, cl.c, "GET", "https://"+addr+tc.path, tc.cookie, nil, "Accept-Encoding", "gzip")
			if !sameResult(got, tc.want) {
				t.Errorf("%s %s Cookie %q:\n got  %s\n want %s", cl.name, tc.path, tc.cookie, got, tc.want)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		id := cl.name + "-sse"
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/sse?id="+id, nil)
		resp, err := cl.c.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if resp.ProtoMajor != cl.major || !equalStrings(resp.Header.Values("Set-Cookie"), []string{dirARewr}) {
			t.Errorf("%s SSE: %s Set-Cookie %q", cl.name, resp.Proto, resp.Header.Values("Set-Cookie"))
		}
		br := bufio.NewReader(resp.Body)
		line := make(chan string, 1)
		go func() {
			l, _ := br.ReadString('\n')
			line <- l
		}()
		select {
		case l := <-line:
			if l != "data: first\n" {
				t.Errorf("%s SSE first event %q", cl.name, l)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s SSE: first event not received before the rest: buffered", cl.name)
		}
		close(up.release(id))
		io.Copy(io.Discard, br)
		resp.Body.Close()
		cancel()
	}
}

// TestSubrouteErrorRouteThatFails: a subroute's own error routes (JSON
// "subroute" with "errors") set the same error in the request's context
// as the server's, but when one of them fails the subroute hands that
// error to the server, which then runs its own error routes (handle_errors)
// with it. So the module in the subroute's error route must append
// nothing, as in any failed route of a server with error routes: had it
// appended the partial expiry of session_id, the server's error route's
// module would read that deletion as the response's own log-out and
// cascade it. The server's error route answers the half jar with the
// partial expiry alone, as it does when the subroute's error route has
// no module (the control site).
func TestSubrouteErrorRouteThatFails(t *testing.T) {
	down := testcaddy.FreeAddr(t) // nothing listens there
	site, control := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	cn := `{"handler":"cookie_normalizer","groups":[{"label":"login","cookies":["session_id","user_id"],"on_delete":"cascade","on_partial":"expire"}]}`
	proxy := fmt.Sprintf(`{"handler":"reverse_proxy","upstreams":[{"dial":%q}]}`, down)
	server := func(addr, subErrorRoute string) string {
		return fmt.Sprintf(`{
			"listen": [%q],
			"automatic_https": {"disable": true},
			"routes": [{"handle": [{
				"handler": "subroute",
				"routes": [{"handle": [%s]}],
				"errors": {"routes": [{"handle": [%s]}]}
			}]}],
			"errors": {"routes": [{"handle": [%s, {"handler": "static_response", "status_code": 503, "body": "sorry"}]}]}
		}`, addr, proxy, subErrorRoute, cn)
	}
	cfg := fmt.Sprintf(`{
		"admin": {"disabled": true, "config": {"persist": false}},
		"logging": {"logs": {"default": {"level": "ERROR"}}},
		"apps": {
			"tls": {"disable_storage_clean": true},
			"http": {"servers": {"a": %s, "b": %s}}
		}
	}`, server(site, cn+","+proxy), server(control, proxy))
	testcaddy.LoadJSON(t, []byte(cfg))
	c := &http.Client{}
	want := dirResult{status: 503, setCookie: []string{dirDelSession}, cacheControl: []string{"private"}, body: "sorry"}
	for _, addr := range []string{control, site} {
		got := dirDo(t, c, "GET", "http://"+addr+"/page", dirHalfJar, nil)
		if !sameResult(got, want) {
			t.Errorf("%s, Cookie %q:\n got  %s\n want %s", addr, dirHalfJar, got, want)
		}
	}
}

// tlsClient is a client of a `tls internal` test site over one protocol.
type tlsClient struct {
	name  string
	c     *http.Client
	major int
}

// tlsClients returns clients over HTTP/1.1, HTTP/2 and HTTP/3, in that
// order, that take any certificate (the sites' CA is a throwaway nobody
// trusts) and ask for no compression.
func tlsClients(t *testing.T) []tlsClient {
	insecure := &tls.Config{InsecureSkipVerify: true}
	h1 := &http.Transport{TLSClientConfig: insecure, DisableCompression: true}
	h2 := &http.Transport{TLSClientConfig: insecure, DisableCompression: true, Protocols: new(http.Protocols)}
	h2.Protocols.SetHTTP2(true)
	h3 := &http3.Transport{TLSClientConfig: insecure, DisableCompression: true}
	t.Cleanup(h1.CloseIdleConnections)
	t.Cleanup(h2.CloseIdleConnections)
	t.Cleanup(func() { h3.Close() })
	return []tlsClient{{"h1", &http.Client{Transport: h1}, 1}, {"h2", &http.Client{Transport: h2}, 2}, {"h3", &http.Client{Transport: h3}, 3}}
}
