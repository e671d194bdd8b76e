package cookienormalizer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// TestOuterDirectiveWinsOnEveryProtocol: of two cookie_normalizer
// directives on one request, the outer one rewrites last and its policy
// wins, and what it appends is not the inner one's to read. The fields
// the outer one appends at WriteHeader (here its partial expiry of a
// half jar) used to look, to the inner one, like fields its own handlers
// added before the first body byte: it rewrote the whole header map
// again there, after the outer one. HTTP/1.1 and HTTP/2 had already sent
// the header map at WriteHeader, but HTTP/3 sends it at the first body
// byte, so there the inner policy won (theme kept 1h where the outer one
// makes it a session cookie), and the inner on_delete cascade read the
// outer partial expiry as a log-out and deleted csrf too. Every protocol
// must send the same fields.
func TestOuterDirectiveWinsOnEveryProtocol(t *testing.T) {
	addr := testcaddy.FreeAddr(t)
	protoStartTLS(t, fmt.Sprintf(`
https://%s {
	bind 127.0.0.1
	tls internal
	cookie_normalizer {
		group login {
			cookies session_id user_id__insecure
			on_partial expire
		}
		group prefs {
			cookies theme
			expire session
		}
	}
	handle /theme {
		cookie_normalizer theme {
			expire 1h
		}
		header +Set-Cookie "theme=dark; Max-Age=5; Path=/"
		respond "page"
	}
	handle /cascade {
		cookie_normalizer {
			group inner {
				cookies session_id csrf
				on_delete cascade
			}
		}
		respond "page"
	}
}
`, addr), addr)
	halfJar := del("session_id", "; Path=/; Secure")
	for _, cl := range tlsClients(t) {
		for _, tc := range []struct {
			path, cookie string
			want         dirResult
		}{
			{"/theme", "session_id=a", dirResult{status: 200, setCookie: []string{"theme=dark; Path=/", halfJar}, cacheControl: []string{"private"}, body: "page"}},
			{"/theme", "session_id=a; user_id__insecure=b", dirResult{status: 200, setCookie: []string{"theme=dark; Path=/"}, body: "page"}},
			{"/cascade", "session_id=a; csrf=c", dirResult{status: 200, setCookie: []string{halfJar}, cacheControl: []string{"private"}, body: "page"}},
		} {
			got := dirDo(t, cl.c, "GET", "https://"+addr+tc.path, tc.cookie, nil)
			if !sameResult(got, tc.want) {
				t.Errorf("%s %s Cookie %q:\n got  %s\n want %s", cl.name, tc.path, tc.cookie, got, tc.want)
			}
		}
	}
}

// TestInnerDirectiveCountsItsOwnFields: a cookie_normalizer counts the
// fields the handlers inside it leave, once per response. An outer
// directive that appended fields at WriteHeader (a cascade, a partial
// expiry) made the inner one rewrite the response again at the first
// body byte and count every field a second time, the outer one's
// appended fields among them: a report_only inner directive counted the
// upstream's log-out twice and the outer cascade once more (3 for 1),
// and an inner directive whose handlers set no cookie counted the outer
// partial expiry and the cascade that followed it (2 for 0).
func TestInnerDirectiveCountsItsOwnFields(t *testing.T) {
	site, metrics := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	testcaddy.Start(t, testcaddy.Globals+fmt.Sprintf(`
(login) {
	cookie_normalizer {
		group {args[0]} {
			cookies session_id user_id__insecure
			on_delete cascade
			on_partial expire
		}
	}
}
(login_report) {
	cookie_normalizer {
		report_only
		group {args[0]} {
			cookies session_id user_id__insecure
			on_delete cascade
			on_partial expire
		}
	}
}
http://%s {
	bind 127.0.0.1
	import login outer
	handle /logout {
		import login_report reported
		header +Set-Cookie "session_id=; Max-Age=0; Path=/"
		respond "bye"
	}
	handle /page {
		import login inner
		respond "page"
	}
}
http://%s {
	bind 127.0.0.1
	metrics
}
`, site, metrics))
	delUser := del("user_id__insecure", "; Path=/")
	for i, tc := range []struct {
		path, cookie string
		want         []string
	}{
		// The inner one only reports; the outer one cascades.
		{"/logout", "session_id=a; user_id__insecure=b", []string{"session_id=; Max-Age=0; Path=/", delUser}},
		// The inner one expires the half jar; the outer one reads that
		// as a log-out and cascades it (documented).
		{"/page", "session_id=a", []string{del("session_id", "; Path=/"), delUser}},
	} {
		req, err := http.NewRequest("GET", "http://"+site+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", tc.cookie)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, tc.want) {
			t.Errorf("%d GET %s Cookie %q:\n got  %q\n want %q", i, tc.path, tc.cookie, got, tc.want)
		}
	}
	series := func(group, action, reportOnly string) string {
		return fmt.Sprintf(`caddy_http_cookie_normalizer_cookies_total{action=%q,group=%q,report_only=%q}`, action, group, reportOnly)
	}
	// The upstream's log-out, once.
	wantMetric(t, metrics, series("reported", "unchanged", "true"), "1")
	wantMetric(t, metrics, series("reported", "cascaded", "true"), "1")
	// Its handlers set no cookie.
	wantMetric(t, metrics, series("inner", "unchanged", "false"), "0")
	wantMetric(t, metrics, series("inner", "partial expired", "false"), "1")
	// The outer one saw the log-out and the partial expiry, and cascaded
	// both.
	wantMetric(t, metrics, series("outer", "unchanged", "false"), "2")
	wantMetric(t, metrics, series("outer", "cascaded", "false"), "2")
}

// nestUpstream is the app behind the nested-directive sites: the last
// element of the path picks the response, the query parameter c names
// the cookie it sets ("<c>=1; Max-Age=5; Path=/").
type nestUpstream struct {
	srv *httptest.Server
	streamGates
}

func newNestUpstream(t *testing.T) *nestUpstream {
	t.Helper()
	u := &nestUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("c")
		h := w.Header()
		switch path.Base(r.URL.Path) {
		case "big":
			// Long enough for encode to compress.
			h.Add("Set-Cookie", c+"=1; Max-Age=5; Path=/")
			h.Set("Content-Type", "text/plain")
			io.WriteString(w, strings.Repeat("big body ", 200))
		case "missing":
			h.Add("Set-Cookie", c+"=1; Max-Age=5; Path=/")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "not here")
		case "early":
			// 103 Early Hints with a cookie, then the final response with
			// another value.
			h.Add("Link", "</app.css>; rel=preload")
			h.Add("Set-Cookie", c+"=1; Max-Age=5; Path=/")
			w.WriteHeader(http.StatusEarlyHints)
			h.Del("Link")
			h.Set("Set-Cookie", c+"=2; Max-Age=5; Path=/")
			io.WriteString(w, "final")
		case "stream":
			// The header flushed before any body byte; the body only once
			// the client has the header.
			h.Add("Set-Cookie", c+"=1; Max-Age=5; Path=/")
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			select {
			case <-u.release(r.URL.Query().Get("id")):
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Second):
				return
			}
			io.WriteString(w, "streamed\n")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// nestResult is what a client received, with the Set-Cookie fields of
// the informational responses before it.
type nestResult struct {
	dirResult
	proto int
	early []string
}

func (r nestResult) String() string {
	return fmt.Sprintf("HTTP/%d 1xx Set-Cookie %q %s", r.proto, r.early, r.dirResult)
}

// nestDo is dirDo that also records the protocol and the 1xx fields.
func nestDo(t *testing.T, c *http.Client, url, cookie string, extra ...string) nestResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var early []string
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			early = append(early, header.Values("Set-Cookie")...)
			return nil
		},
	})
	res, proto := dirDoContext(ctx, t, c, "GET", url, cookie, nil, extra...)
	return nestResult{res, proto, early}
}

// nestSites is the site of TestNestedDirectivesBeside: a site-level
// cookie_normalizer (the outer one) around one in each handle or route
// (the inner one), with another response-handling directive inside,
// between or outside them. Every outer group makes its cookies
// SameSite=Strict and keeps their Max-Age; every inner group makes them
// session cookies with SameSite=Lax: an inner rewrite after the outer
// one shows as Lax, an outer one alone keeps the Max-Age.
const nestSites = `
https://%[1]s {
	bind 127.0.0.1
	tls internal
	cookie_normalizer {
		group o_login {
			cookies session_id user_id__insecure
			on_partial expire
		}
		group o_encin {
			cookies e1
			samesite strict
		}
		group o_encmid {
			cookies e2
			samesite strict
		}
		group o_icp {
			cookies ic icx
			samesite strict
		}
		group o_hdrmid {
			cookies hm hmi
			samesite strict
		}
		group o_early {
			cookies eh
			samesite strict
		}
		group o_stream {
			cookies st
			samesite strict
		}
		group o_late {
			cookies a b
			samesite strict
		}
	}
	@encmid path /encmid/*
	encode @encmid gzip
	@hdrmid {
		path /hdrmid/* /app/*
		header X-Nest hdrmid
	}
	header @hdrmid >Set-Cookie "hm=1; Max-Age=5; Path=/"
	handle /encin/* {
		cookie_normalizer e1 {
			expire session
			samesite lax
		}
		encode zstd
		reverse_proxy %[2]s
	}
	handle /encmid/* {
		cookie_normalizer e2 {
			expire session
			samesite lax
		}
		reverse_proxy %[2]s
	}
	handle /icp/* {
		cookie_normalizer ic icx {
			expire session
			samesite lax
		}
		intercept {
			@nf status 404
			handle_response @nf {
				header +Set-Cookie "icx=1; Max-Age=5; Path=/"
				respond "replaced" 410
			}
		}
		reverse_proxy %[2]s
	}
	handle /hdrmid/* {
		cookie_normalizer hmi hm {
			expire session
			samesite lax
		}
		header +Set-Cookie "hmi=1; Max-Age=5; Path=/"
		respond "page"
	}
	route /hdrout/* {
		header >Set-Cookie "ho=1; Max-Age=5; Path=/"
		cookie_normalizer {
			group o_hdrout {
				cookies ho hoi
				samesite strict
			}
		}
		handle {
			cookie_normalizer hoi ho {
				expire session
				samesite lax
			}
			header +Set-Cookie "hoi=1; Max-Age=5; Path=/"
			respond "page"
		}
	}
	handle /early/* {
		cookie_normalizer eh {
			expire session
			samesite lax
		}
		reverse_proxy %[2]s
	}
	handle /stream/* {
		cookie_normalizer st {
			expire session
			samesite lax
		}
		reverse_proxy %[2]s {
			flush_interval -1
		}
	}
	route /app/* {
		cookie_normalizer {
			group a {
				cookies a b hm
				expire session
				samesite lax
			}
			group i_login {
				cookies session_id csrf
				on_delete cascade
			}
		}
		cookie_normalizer_test_app
	}
}
http://%[3]s {
	bind 127.0.0.1
	metrics
}
`

// TestNestedDirectivesBeside: two cookie_normalizer directives on one
// request, the site-level one (outer) around one in a handle or route
// (inner), beside encode (zstd inside the inner one, gzip between the
// two), intercept's handle_response adding a cookie, a deferred
// `header >Set-Cookie` between the two and outside both, 103 Early
// Hints with a cookie, an upstream that flushes its header before the
// body (flush_interval -1), and a handler that adds a cookie between
// WriteHeader and the first Write. Every protocol must send the same
// fields, the outer policy winning for a cookie both match, but for the
// documented difference: net/http (HTTP/1.1, HTTP/2) sends the header
// map as it was at WriteHeader, so the late cookie is never sent there,
// and HTTP/3 sends it at the first body byte, rewritten by both.
func TestNestedDirectivesBeside(t *testing.T) {
	up := newNestUpstream(t)
	addr, metrics := testcaddy.FreeAddr(t), testcaddy.FreeAddr(t)
	protoStartTLS(t, fmt.Sprintf(nestSites, addr, strings.TrimPrefix(up.srv.URL, "http://"), metrics), addr)
	const (
		lateA = "a=1; Path=/; SameSite=Strict"
		lateB = "b=2; Path=/; SameSite=Strict"
		lateZ = protoUnmatched
		hm    = "hm=1; Max-Age=5; Path=/; SameSite=Strict"
	)
	halfJar := del("session_id", "; Path=/; Secure")
	for _, cl := range tlsClients(t) {
		for _, tc := range []struct {
			path, cookie, nest string
			want               nestResult
			h3                 *nestResult // where HTTP/3 differs (documented)
		}{
			// encode inside the inner one and between the two.
			{path: "/encin/big?c=e1", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{"e1=1; Path=/; SameSite=Strict"}, encoding: "zstd"}}},
			{path: "/encmid/big?c=e2", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{"e2=1; Path=/; SameSite=Strict"}, encoding: "gzip"}}},
			// intercept's handle_response adds icx inside the inner one.
			{path: "/icp/missing?c=ic", want: nestResult{dirResult: dirResult{status: 410, setCookie: []string{"ic=1; Path=/; SameSite=Strict", "icx=1; Path=/; SameSite=Strict"}, body: "replaced"}}},
			// A deferred `header >Set-Cookie` between the two replaces the
			// inner one's field after its rewrite: the outer policy
			// alone applies (no inner expire session).
			{path: "/hdrmid/x", nest: "hdrmid", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{hm}, body: "page"}}},
			// Outside both, it writes after them (README, Limits).
			{path: "/hdrout/x", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{"ho=1; Max-Age=5; Path=/"}, body: "page"}}},
			// The 103 goes out with the copy both rewrote.
			{path: "/early/early?c=eh", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{"eh=2; Path=/; SameSite=Strict"}, body: "final"}, early: []string{"eh=1; Path=/; SameSite=Strict"}}},
			// A cookie added after WriteHeader: never sent by net/http,
			// rewritten by both on HTTP/3.
			{path: "/app/late", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{lateA, lateZ}, body: "late body"}},
				h3: &nestResult{dirResult: dirResult{status: 200, setCookie: []string{lateA, lateZ, lateB}, body: "late body"}}},
			// The same with the outer partial expiry: the inner cascade
			// of session_id must not read it, on HTTP/3 either.
			{path: "/app/late", cookie: "session_id=x; csrf=c", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{lateA, lateZ, halfJar}, cacheControl: []string{"private"}, body: "late body"}},
				h3: &nestResult{dirResult: dirResult{status: 200, setCookie: []string{lateA, lateZ, halfJar, lateB}, cacheControl: []string{"private"}, body: "late body"}}},
			// The same with a deferred `header >Set-Cookie` between the
			// two: hm is the outer one's alone, whose policy keeps its
			// Max-Age, on HTTP/3 too.
			{path: "/app/late", nest: "hdrmid", want: nestResult{dirResult: dirResult{status: 200, setCookie: []string{hm}, body: "late body"}},
				h3: &nestResult{dirResult: dirResult{status: 200, setCookie: []string{hm, lateB}, body: "late body"}}},
		} {
			want := tc.want
			if cl.major == 3 && tc.h3 != nil {
				want = *tc.h3
			}
			want.proto = cl.major
			got := nestDo(t, cl.c, "https://"+addr+tc.path, tc.cookie, "Accept-Encoding", "gzip, zstd", "X-Nest", tc.nest)
			if !sameResult(got.dirResult, want.dirResult) || got.proto != want.proto || !equalStrings(got.early, want.early) {
				t.Errorf("%s %s Cookie %q X-Nest %q:\n got  %s\n want %s", cl.name, tc.path, tc.cookie, tc.nest, got, want)
			}
		}
		nestStream(t, cl, up, "https://"+addr+"/stream/stream?c=st&id="+cl.name, cl.name, "st=1; Path=/; SameSite=Strict")
	}
	series := func(group, action string) string {
		return fmt.Sprintf(`caddy_http_cookie_normalizer_cookies_total{action=%q,group=%q,report_only="false"}`, action, group)
	}
	// Each directive counts each field of its own once per response
	// (three protocols): the 103's copy is a second count (documented).
	for _, m := range []struct {
		group, action, want string
	}{
		{"e1", "rewritten", "3"}, {"o_encin", "rewritten", "3"},
		{"e2", "rewritten", "3"}, {"o_encmid", "rewritten", "3"},
		{"ic", "rewritten", "6"}, {"o_icp", "rewritten", "6"},
		{"hmi", "rewritten", "3"}, {"hoi", "rewritten", "3"}, {"o_hdrout", "rewritten", "3"},
		{"eh", "rewritten", "6"}, {"o_early", "rewritten", "6"},
		{"st", "rewritten", "3"}, {"o_stream", "rewritten", "3"},
		{"o_login", "partial expired", "3"},
		// The outer partial expiry is not the inner one's to count or
		// cascade, on any protocol.
		{"i_login", "unchanged", "0"}, {"i_login", "cascaded", "0"},
	} {
		wantMetric(t, metrics, series(m.group, m.action), m.want)
	}
}

// nestStream checks a response whose upstream flushes the header before
// any body byte: the client has the header, rewritten, before the
// upstream is let go to write the body.
func nestStream(t *testing.T, cl tlsClient, up *nestUpstream, url, id, want string) {
	t.Helper()
	// The upstream writes the body only once released, which is after
	// Do returns: a header held back until the body would come only when
	// the upstream gives up waiting (after 10 s, before this context
	// ends), with no body, so the body check below fails (no clock
	// needed).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.c.Do(req) // returns with the header; the upstream still waits
	if err != nil {
		t.Fatalf("%s GET %s: %v", cl.name, url, err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); resp.ProtoMajor != cl.major || !equalStrings(got, []string{want}) {
		t.Errorf("%s stream: %s Set-Cookie %q, want HTTP/%d %q", cl.name, resp.Proto, got, cl.major, []string{want})
	}
	close(up.release(id))
	if body, err := io.ReadAll(resp.Body); err != nil || string(body) != "streamed\n" {
		t.Errorf("%s stream body %q, %v", cl.name, body, err)
	}
}
