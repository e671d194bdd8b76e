package cookienormalizer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	zapobserver "go.uber.org/zap/zaptest/observer"
)

// The upstream's cookie and what `expire session` makes of it. The wrapper
// tests use a session policy so that no clock is involved.
const (
	upstreamCookie  = "a=1; Max-Age=5; Path=/"
	rewrittenCookie = "a=1; Path=/"
)

// wrapperServer serves app through a provisioned handler with `expire
// session` for cookie a, on an httptest server.
func wrapperServer(t *testing.T, app func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	return handlerServer(t, `{"groups":[{"cookies":["a"],"expire":{"mode":"session"}}]}`, app)
}

// slideConfig is a slide group of cookies a and b, whose stamp is
// cn_slide_login.
const slideConfig = `{"groups":[{"label":"login","cookies":["a","b"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}}]}`

// fieldNames returns the cookie names of Set-Cookie fields, in order.
func fieldNames(fields []string) []string {
	var names []string
	for _, f := range fields {
		name, _ := cookieName(f)
		names = append(names, name)
	}
	return names
}

// handlerServer serves app through a handler provisioned from config, on
// an httptest server.
func handlerServer(t *testing.T, config string, app func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		app(w, r)
		return nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.ServeHTTP(w, r, next); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func getCookies(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestWrapperSendPaths sends the headers each way a handler can, and checks
// that the cookie reaches the client rewritten every time.
func TestWrapperSendPaths(t *testing.T) {
	for _, tc := range []struct {
		name     string
		app      func(w http.ResponseWriter)
		status   int
		wantBody string
	}{
		{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot) }, http.StatusTeapot, ""},
		{"Write", func(w http.ResponseWriter) { io.WriteString(w, "hello") }, http.StatusOK, "hello"},
		{"WriteHeader then Write", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "hello")
		}, http.StatusCreated, "hello"},
		{"nothing written", func(w http.ResponseWriter) {}, http.StatusOK, ""},
		{"ReadFrom via io.Copy", func(w http.ResponseWriter) {
			// strings.Reader implements io.WriterTo, which io.Copy would
			// prefer over our ReadFrom: hide it.
			io.Copy(w, struct{ io.Reader }{strings.NewReader("copied")})
		}, http.StatusOK, "copied"},
		{"flush before write, ResponseController", func(w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			io.WriteString(w, "after")
		}, http.StatusOK, "after"},
		{"flush before write, http.Flusher", func(w http.ResponseWriter) {
			w.(http.Flusher).Flush()
		}, http.StatusOK, ""},
		{"cookie added after a flush is not ours to send", func(w http.ResponseWriter) {
			w.(http.Flusher).Flush()
			w.Header().Add("Set-Cookie", "a=2; Max-Age=5")
		}, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", upstreamCookie)
				w.Header().Add("Set-Cookie", "b=2; Max-Age=5")
				tc.app(w)
			})
			resp, body := getCookies(t, srv.URL)
			if got, want := resp.Header.Values("Set-Cookie"), []string{rewrittenCookie, "b=2; Max-Age=5"}; !equalStrings(got, want) {
				t.Errorf("Set-Cookie = %q, want %q", got, want)
			}
			if resp.StatusCode != tc.status || body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.wantBody)
			}
		})
	}
}

// TestWrapperStreams checks that the body is not buffered: the client reads
// the rewritten headers and a first chunk while the handler still waits.
func TestWrapperStreams(t *testing.T) {
	release := make(chan struct{})
	srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", upstreamCookie)
		io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			t.Error("the client never read the first chunk")
		}
		io.WriteString(w, "second\n")
	})
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{rewrittenCookie}) {
		t.Errorf("Set-Cookie = %q", got)
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk: %q, %v", line, err)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest: %q, %v", rest, err)
	}
}

// TestWrapperEarlyHints checks that a 103 carries rewritten cookies and
// does not latch: the final response is rewritten too.
func TestWrapperEarlyHints(t *testing.T) {
	srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", "</style.css>; rel=preload")
		w.Header().Add("Set-Cookie", "a=early; Max-Age=5")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Set-Cookie")
		w.Header().Add("Set-Cookie", "a=final; Max-Age=5")
		w.WriteHeader(http.StatusOK)
	})
	var early []string
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			if code == http.StatusEarlyHints {
				early = header.Values("Set-Cookie")
			}
			return nil
		},
	}
	resp := tracedGet(t, srv.URL, "", trace)
	resp.Body.Close()
	if !equalStrings(early, []string{"a=early"}) {
		t.Errorf("103 Set-Cookie = %q, want [a=early]", early)
	}
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{"a=final"}) {
		t.Errorf("200 Set-Cookie = %q, want [a=final]", got)
	}
}

// TestWrapperEarlyHintsAppendNothing: a 1xx response is not the final
// one, so the consistency rules and slide, which speak for the final
// response, add nothing to it; with a re-issue due, the final 200 carries
// the re-issued members and the stamp once each.
func TestWrapperEarlyHintsAppendNothing(t *testing.T) {
	srv := handlerServer(t, slideConfig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		io.WriteString(w, "page")
	})
	var early []string
	got1xx := false
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			got1xx = got1xx || code == http.StatusEarlyHints
			early = append(early, header.Values("Set-Cookie")...)
			return nil
		},
	}
	resp := tracedGet(t, srv.URL, "a=1; b=2", trace)
	resp.Body.Close()
	if !got1xx || len(early) != 0 {
		t.Errorf("103 seen %v, with Set-Cookie %q: want a 103 without any", got1xx, early)
	}
	if names := fieldNames(resp.Header.Values("Set-Cookie")); !equalStrings(names, []string{"a", "b", "cn_slide_login"}) || resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("200: Set-Cookie for %q, Cache-Control %q; want a, b and the stamp once each, and private", names, resp.Header.Get("Cache-Control"))
	}
}

// TestWrapperHijack covers both ways a hijacking handler sends headers: a
// 101 written before hijacking (reverse_proxy's WebSocket path), and a
// handler that serialises the header map itself after hijacking.
func TestWrapperHijack(t *testing.T) {
	for _, tc := range []struct {
		name string
		app  func(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter)
	}{
		{"101 then hijack", func(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "echo")
			w.WriteHeader(http.StatusSwitchingProtocols)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			return conn, brw
		}},
		{"hijack then write the header map", func(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
			conn, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n")
			w.Header().Write(brw)
			brw.WriteString("\r\n")
			brw.Flush()
			return conn, brw
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", upstreamCookie)
				conn, brw := tc.app(w)
				defer conn.Close()
				line, _ := brw.ReadString('\n')
				brw.WriteString("echo: " + line)
				brw.Flush()
			})
			resp, br, conn := rawUpgrade(t, strings.TrimPrefix(srv.URL, "http://"), "/")
			defer conn.Close()
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{rewrittenCookie}) {
				t.Errorf("Set-Cookie = %q, want [%s]", got, rewrittenCookie)
			}
			echoOverConn(t, conn, br)
		})
	}
}

// rawUpgrade sends an Upgrade request over a raw connection and reads the
// response head.
func rawUpgrade(t *testing.T, addr, path string) (*http.Response, *bufio.Reader, net.Conn) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
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

// echoOverConn checks that the upgraded connection carries bytes both ways.
func echoOverConn(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(conn, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: ping\n" {
		t.Fatalf("echo: %q, %v", line, err)
	}
}

// awaitTunnelClosed reads the client's side of a WebSocket tunnel through
// reverse_proxy to its end, after the upstream has closed its side:
// reverse_proxy closes the client's connection once its copy from the
// upstream has returned. A test that stops Caddy (its cleanup) while
// that copy still writes to the client races with Caddy's own closing
// of tunnels at a config stop (a close frame written from another
// goroutine on the same hijacked connection, which -race reports inside
// Caddy v2.11.9).
func awaitTunnelClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		t.Fatalf("after the echo: %q, %v; want the tunnel closed", rest, err)
	}
}

// TestWrapperUnwrap checks that http.ResponseController reaches the
// underlying writer for what we do not override.
func TestWrapperUnwrap(t *testing.T) {
	srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		w.Header().Add("Set-Cookie", upstreamCookie)
	})
	resp, _ := getCookies(t, srv.URL)
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{rewrittenCookie}) {
		t.Errorf("Set-Cookie = %q", got)
	}
}

// headerCounter is a ResponseWriter that counts the calls of its Header.
type headerCounter struct {
	http.ResponseWriter
	calls int
}

func (c *headerCounter) Header() http.Header {
	c.calls++
	return c.ResponseWriter.Header()
}

// TestWrapperAsksHeaderOnce: until the final response is sent, the
// wrapper answers Header from the map it got from the writer below when it
// was made, so that the handler's calls (reverse_proxy makes about ten)
// and the wrapper's own checks (the final rewrite, the first body byte, the
// handler's return, trailers) do not each walk Caddy's chain of writers.
// After the final response is sent, Header asks the writer below again,
// which net/http's snapshot of the header relies on.
func TestWrapperAsksHeaderOnce(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["a"],"expire":{"mode":"session"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []bool{true, false} {
		rec := httptest.NewRecorder()
		below := &headerCounter{ResponseWriter: rec}
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			for range 3 {
				w.Header().Add("X-Before", "1")
			}
			w.Header().Add("Set-Cookie", upstreamCookie)
			if got := below.calls; got != 1 {
				t.Errorf("body %v: before WriteHeader, Header called %d times below the wrapper, want 1 (when the wrapper was made)", body, got)
			}
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-After", "1")
			if body {
				_, err := io.WriteString(w, "body")
				return err
			}
			return nil
		})
		if err := h.ServeHTTP(below, httptest.NewRequest(http.MethodGet, "/", nil), next); err != nil {
			t.Fatal(err)
		}
		res := rec.Result()
		if got := res.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != rewrittenCookie {
			t.Fatalf("body %v: Set-Cookie %q, want %q", body, got, rewrittenCookie)
		}
		if got := res.Header.Values("X-Before"); len(got) != 3 {
			t.Errorf("body %v: X-Before %q, want three fields", body, got)
		}
		if below.calls != 2 {
			t.Errorf("body %v: Header called %d times below the wrapper, want 2 (when the wrapper was made, and the handler's call after WriteHeader)", body, below.calls)
		}
	}
}

// TestRepeatedFinalPassAppendsOnce: the final rewrite runs again when a
// field is added between WriteHeader and the first body byte (HTTP/3
// sends the header map only then) and when a hijack fails before the
// handler writes its status. The group's rules spoke in the first pass:
// the partial expiry's deletion of session_id must not read as a log-out
// in the second and cascade to user_id__insecure, which the request never
// carried; and a report-only handler reports the partial expiry once. (A
// failed hijack takes back what its rewrite appended, as a failed flush
// does, so the final rewrite appends it again and counts it again.)
func TestRepeatedFinalPassAppendsOnce(t *testing.T) {
	const config = `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire","on_delete":"cascade"}]%s}`
	for i, tc := range []struct {
		name       string
		reportOnly bool
		next       caddyhttp.HandlerFunc
		want       []string
		logged     int
	}{
		{"a field added before the first body byte", false, func(w http.ResponseWriter, _ *http.Request) error {
			w.WriteHeader(http.StatusOK)
			w.Header().Add("Set-Cookie", "theme=dark")
			_, err := io.WriteString(w, "page")
			return err
		}, []string{del("session_id", "; Path=/"), "theme=dark"}, 1},
		{"a hijack that fails, then the status", false, func(w http.ResponseWriter, _ *http.Request) error {
			if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
				t.Fatal("the recorder hijacked")
			}
			w.WriteHeader(http.StatusOK)
			return nil
		}, []string{del("session_id", "; Path=/")}, 2},
		{"report_only: a field added before the first body byte", true, func(w http.ResponseWriter, _ *http.Request) error {
			w.WriteHeader(http.StatusOK)
			w.Header().Add("Set-Cookie", "theme=dark")
			_, err := io.WriteString(w, "page")
			return err
		}, []string{"theme=dark"}, 1},
	} {
		extra := ""
		if tc.reportOnly {
			extra = `,"report_only":true`
		}
		h, err := provisionJSON(t, strings.Replace(config, "%s", extra, 1))
		if err != nil {
			t.Fatal(err)
		}
		core, logs := zapobserver.New(zapcore.DebugLevel)
		h.setLogger(zap.New(core))
		req := httptest.NewRequest(http.MethodGet, "http://example.com/page", nil)
		req.Header.Set("Cookie", "session_id=abc")
		rec := httptest.NewRecorder()
		if err := h.ServeHTTP(rec, req, tc.next); err != nil {
			t.Fatal(err)
		}
		if got := rec.Header()["Set-Cookie"]; !equalStrings(got, tc.want) {
			t.Errorf("%d %s: Set-Cookie %q, want %q", i, tc.name, got, tc.want)
		}
		var partial []string
		for _, e := range logs.All() {
			if a := e.ContextMap()["action"]; a != "unchanged" {
				partial = append(partial, fmt.Sprintf("%v %v", e.ContextMap()["cookie"], a))
			}
		}
		if want := slices.Repeat([]string{"session_id partial expired"}, tc.logged); !equalStrings(partial, want) {
			t.Errorf("%d %s: logged %q, want %q", i, tc.name, partial, want)
		}
	}
}

// TestReleaseForgetsCookies: the pooled writer keeps the request's Cookie
// fields in its own array while it serves the request, and clears them
// when it goes back to the pool, so that an idle writer keeps no user's
// cookies alive.
func TestReleaseForgetsCookies(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://example.com/page", nil)
	req.Header["Cookie"] = []string{"session_id=abc", "theme=dark"}
	rw := newResponseWriter(httptest.NewRecorder(), req, h)
	if !equalStrings(rw.req.cookies, req.Header["Cookie"]) || rw.cookieFields[0] != "session_id=abc" {
		t.Fatalf("the writer holds %q in %q, want the request's Cookie fields", rw.req.cookies, rw.cookieFields)
	}
	rw.release() // no test of this package runs in parallel: the pool hands rw to no one else
	if rw.cookieFields != [len(rw.cookieFields)]string{} || rw.req.cookies != nil {
		t.Errorf("after release the writer holds %q and %q, want nothing", rw.cookieFields, rw.req.cookies)
	}
}

// TestReleaseForgetsJoins: a panic in the middle of a rewrite (in a
// logger's core, say) leaves fields recorded for the build; release
// forgets them, or the next response through the pooled writer would be
// built from another response's fields.
func TestReleaseForgetsJoins(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id"],"expire":{"mode":"session"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	rw := newResponseWriter(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://example.com/", nil), h)
	if !rw.joins.add(0, 3, "; Path=/") {
		t.Fatal("joins.add refused a field")
	}
	rw.release() // no test of this package runs in parallel: the pool hands rw to no one else
	if rw.joins != (fieldJoins{}) {
		t.Errorf("after release the writer's joins are %+v, want none", rw.joins)
	}
}

// TestWrapper100ContinueDoesNotLatch: a handler may send 100 Continue
// itself (net/http sends any 1xx the handler writes). Like 103, it is
// not the final response: a cookie added after it must still be
// rewritten in the final 200.
func TestWrapper100ContinueDoesNotLatch(t *testing.T) {
	srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusContinue)
		w.Header().Add("Set-Cookie", upstreamCookie)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "body")
	})
	got100 := false
	trace := &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			got100 = got100 || code == http.StatusContinue
			return nil
		},
		Got100Continue: func() { got100 = true },
	}
	resp := tracedGet(t, srv.URL, "", trace)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "body" {
		t.Fatalf("got %d %q, want 200 \"body\"", resp.StatusCode, body)
	}
	if got := resp.Header.Values("Set-Cookie"); !equalStrings(got, []string{rewrittenCookie}) {
		t.Errorf("Set-Cookie after a 100 = %q, want [%s] (the 100 is not the final response)", got, rewrittenCookie)
	}
}

// TestTrailerEditedInPlaceBetweenWrites: on HTTP/1 the header map is
// sent with the first body byte, so a Set-Cookie added later can only
// go out as a trailer, and is rewritten once, when the handler returns,
// as the handler left it. Rewriting it at the next body write instead
// (what only HTTP/3 needs) would miss an edit made after that write.
func TestTrailerEditedInPlaceBetweenWrites(t *testing.T) {
	srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Set-Cookie")
		io.WriteString(w, "one ")
		w.Header().Set("Set-Cookie", "a=1; Max-Age=5")
		io.WriteString(w, "two")
		w.Header()["Set-Cookie"][0] = upstreamCookie // edited in place
	})
	resp, body := getCookies(t, srv.URL)
	if body != "one two" {
		t.Fatalf("body %q", body)
	}
	if got := resp.Trailer.Values("Set-Cookie"); !equalStrings(got, []string{rewrittenCookie}) {
		t.Errorf("trailer Set-Cookie %q, want [%s]", got, rewrittenCookie)
	}
}

// TestSlideReissueThroughReadFrom: a body sent by io.Copy (the
// wrapper's ReadFrom, sendfile's path) is net/http's implicit 200 like
// any first Write, so a slide re-issue that is due goes out with it.
func TestSlideReissueThroughReadFrom(t *testing.T) {
	srv := handlerServer(t, slideConfig, func(w http.ResponseWriter, r *http.Request) {
		// strings.Reader implements io.WriterTo, which io.Copy would
		// prefer over the wrapper's ReadFrom: hide it.
		io.Copy(w, struct{ io.Reader }{strings.NewReader("copied")})
	})
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", "a=1; b=2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "copied" {
		t.Fatalf("body %q", body)
	}
	if names := fieldNames(resp.Header.Values("Set-Cookie")); !equalStrings(names, []string{"a", "b", "cn_slide_login"}) || resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("Set-Cookie for %q, Cache-Control %q; want a, b and the stamp re-issued, and private", names, resp.Header.Get("Cache-Control"))
	}
}

// TestTLSRequestIgnoresForwardedProto: X-Forwarded-Proto speaks only
// for a request Caddy received over plain HTTP (from a trusted proxy).
// Over TLS, Caddy's own connection says HTTPS, whatever a client writes
// in that header: the partial expiry's deletion carries Secure.
func TestTLSRequestIgnoresForwardedProto(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"", "http"} {
		req := httptest.NewRequest(http.MethodGet, "https://example.com/page", nil)
		req.Header.Set("Cookie", "session_id=abc")
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		rec := httptest.NewRecorder()
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			_, err := io.WriteString(w, "page")
			return err
		})
		if err := h.ServeHTTP(rec, req, next); err != nil {
			t.Fatal(err)
		}
		if got, want := rec.Header()["Set-Cookie"], []string{del("session_id", "; Path=/; Secure")}; !equalStrings(got, want) {
			t.Errorf("TLS request, X-Forwarded-Proto %q: Set-Cookie %q, want %q", proto, got, want)
		}
	}
}

// TestKeepCookiesFillsTheArray: a request with as many Cookie fields as
// the writer's own array holds (HTTP/2 sends one field per cookie)
// keeps them there, allocating nothing; only more fields are cloned.
func TestKeepCookiesFillsTheArray(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	arrayLen := len(new(responseWriter).cookieFields)
	for n := 1; n <= arrayLen+1; n++ {
		req := httptest.NewRequest(http.MethodGet, "http://example.com/page", nil)
		for i := range n {
			req.Header.Add("Cookie", "c"+strconv.Itoa(i)+"=v")
		}
		rw := newResponseWriter(httptest.NewRecorder(), req, h)
		inArray := &rw.req.cookies[0] == &rw.cookieFields[0]
		if !equalStrings(rw.req.cookies, req.Header["Cookie"]) || inArray != (n <= arrayLen) {
			t.Errorf("%d Cookie fields: kept %q, in the writer's array %v; want them all, in the array up to %d fields", n, rw.req.cookies, inArray, arrayLen)
		}
		rw.release()
	}
}

// tracedGet sends a GET for url with trace, and cookie as its Cookie
// field unless it is empty.
func tracedGet(t *testing.T, url, cookie string, trace *httptrace.ClientTrace) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
