package cookienormalizer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// lateWriter is a ResponseWriter that serialises the header map at the
// first body byte or flush, as quic-go's HTTP/3 server does, and records
// what it sent. Its Flush and Hijack can be made to fail, as an outer
// writer that cannot flush, or HTTP/2, which cannot hijack.
type lateWriter struct {
	header     http.Header
	status     int
	sent       []string // Set-Cookie as serialised; nil until then
	body       []byte
	failFlush  bool
	failHijack bool
	// early serialises the header map at WriteHeader instead, as
	// net/http does once the handler has asked for the map.
	early bool
}

func newLateWriter() *lateWriter { return &lateWriter{header: http.Header{}} }

func (w *lateWriter) Header() http.Header { return w.header }

func (w *lateWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
		if w.early {
			w.serialise()
		}
	}
}

func (w *lateWriter) serialise() {
	if w.sent == nil {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		w.sent = append([]string{}, w.header.Values("Set-Cookie")...)
	}
}

func (w *lateWriter) Write(p []byte) (int, error) {
	w.serialise()
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *lateWriter) FlushError() error {
	if w.failFlush {
		return errors.New("flush not supported")
	}
	w.serialise()
	return nil
}

func (w *lateWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.failHijack {
		return nil, nil, http.ErrNotSupported
	}
	w.serialise()
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}

// serveLate runs app through the session-policy handler of the wrapper
// tests on w, and returns what w serialised, once the handler returned.
func serveLate(t *testing.T, w *lateWriter, app func(w http.ResponseWriter)) []string {
	t.Helper()
	serveThrough(t, `{"groups":[{"cookies":["a","b"],"expire":{"mode":"session"}}]}`, w, benchRequest(), func(w http.ResponseWriter) error {
		app(w)
		return nil
	})
	w.serialise() // what the server does when the handler returns
	return w.sent
}

// serveThrough provisions a handler from config and serves r through it
// on w, the handler writing with write.
func serveThrough(t *testing.T, config string, w *lateWriter, r *http.Request, write func(w http.ResponseWriter) error) {
	t.Helper()
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error { return write(w) })
	if err := h.ServeHTTP(w, r, next); err != nil {
		t.Fatal(err)
	}
}

func TestWrapperLateSerialisation(t *testing.T) {
	for i, tc := range []struct {
		name string
		w    *lateWriter
		app  func(w http.ResponseWriter)
		want []string
	}{
		{"a cookie added between WriteHeader and the first Write", newLateWriter(), func(w http.ResponseWriter) {
			w.Header().Add("Set-Cookie", upstreamCookie)
			w.WriteHeader(http.StatusOK)
			w.Header().Add("Set-Cookie", "b=2; Max-Age=5")
			io.WriteString(w, "body")
		}, []string{rewrittenCookie, "b=2"}},
		{"a cookie set between WriteHeader and a flush", newLateWriter(), func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
			w.Header().Set("Set-Cookie", "b=2; Max-Age=5")
			http.NewResponseController(w).Flush()
		}, []string{"b=2"}},
		{"a cookie added after WriteHeader, no body", newLateWriter(), func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNoContent)
			w.Header().Add("Set-Cookie", upstreamCookie)
		}, []string{rewrittenCookie}},
		{"a cookie added between ReadFrom's WriteHeader and its body", newLateWriter(), func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
			w.Header().Add("Set-Cookie", upstreamCookie)
			io.Copy(w, struct{ io.Reader }{bytesReader("copied")})
		}, []string{rewrittenCookie}},
		{"a flush that fails does not latch", &lateWriter{header: http.Header{}, failFlush: true}, func(w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err == nil {
				panic("flush should fail")
			}
			w.Header().Add("Set-Cookie", upstreamCookie)
			io.WriteString(w, "body")
		}, []string{rewrittenCookie}},
		{"a hijack that fails does not latch", &lateWriter{header: http.Header{}, failHijack: true}, func(w http.ResponseWriter) {
			if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
				panic("hijack should fail")
			}
			w.Header().Add("Set-Cookie", upstreamCookie)
			io.WriteString(w, "body")
		}, []string{rewrittenCookie}},
		// Where the header map is serialised at WriteHeader, only the
		// rewrite at WriteHeader can reach the client: a failed flush or
		// hijack that latched would let the cookie added after it through
		// as the upstream sent it.
		{"a flush that fails does not latch, header serialised at WriteHeader", &lateWriter{header: http.Header{}, failFlush: true, early: true}, func(w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err == nil {
				panic("flush should fail")
			}
			w.Header().Add("Set-Cookie", upstreamCookie)
			w.WriteHeader(http.StatusOK)
		}, []string{rewrittenCookie}},
		{"a hijack that fails does not latch, header serialised at WriteHeader", &lateWriter{header: http.Header{}, failHijack: true, early: true}, func(w http.ResponseWriter) {
			if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
				panic("hijack should fail")
			}
			w.Header().Add("Set-Cookie", upstreamCookie)
			w.WriteHeader(http.StatusOK)
		}, []string{rewrittenCookie}},
	} {
		if got := serveLate(t, tc.w, tc.app); !equalStrings(got, tc.want) {
			t.Errorf("%d %s: sent %q, want %q", i, tc.name, got, tc.want)
		}
	}
}

// bytesReader is an io.Reader over s that is not an io.WriterTo, so that
// io.Copy goes through ReadFrom.
func bytesReader(s string) io.Reader { return &onlyReader{s: s} }

type onlyReader struct{ s string }

func (r *onlyReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// TestWrapperTrailers sends Set-Cookie as a trailer over HTTP/1.1, declared
// in the Trailer header and under the "Trailer:" key prefix: both reach the
// client rewritten.
func TestWrapperTrailers(t *testing.T) {
	for i, tc := range []struct {
		name string
		app  func(w http.ResponseWriter)
	}{
		{"declared in Trailer", func(w http.ResponseWriter) {
			w.Header().Set("Trailer", "Set-Cookie")
			io.WriteString(w, "body")
			w.Header().Set("Set-Cookie", upstreamCookie)
		}},
		{"Trailer: key prefix", func(w http.ResponseWriter) {
			io.WriteString(w, "body")
			// Flushed, so that net/http sends the body chunked: a trailer
			// needs that.
			http.NewResponseController(w).Flush()
			w.Header().Set(http.TrailerPrefix+"Set-Cookie", upstreamCookie)
		}},
	} {
		srv := wrapperServer(t, func(w http.ResponseWriter, r *http.Request) { tc.app(w) })
		resp, body := getCookies(t, srv.URL)
		if body != "body" {
			t.Fatalf("%d %s: body %q", i, tc.name, body)
		}
		if got := resp.Trailer.Values("Set-Cookie"); !equalStrings(got, []string{rewrittenCookie}) {
			t.Errorf("%d %s: trailer Set-Cookie %q, want %q", i, tc.name, got, rewrittenCookie)
		}
	}
}

// TestFailedFlushTakesBackTheReissue: a flush before WriteHeader rewrites
// the header map for net/http's implicit 200, which for a slide group with
// a re-issue due appends the re-issued fields, the stamp and
// Cache-Control: private. When the flush fails nothing was sent, and the
// status the handler writes next decides: an error status gets no
// re-issue, so the flush's additions must not stay in the map.
func TestFailedFlushTakesBackTheReissue(t *testing.T) {
	h, err := provisionJSON(t, slideConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusInternalServerError, http.StatusOK} {
		w := &lateWriter{header: http.Header{}, failFlush: true}
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			if err := http.NewResponseController(w).Flush(); err == nil {
				t.Fatal("flush should fail")
			}
			w.WriteHeader(status)
			_, err := io.WriteString(w, "body")
			return err
		})
		req := benchRequest()
		req.Header.Set("Cookie", "a=1; b=2")
		if err := h.ServeHTTP(w, req, next); err != nil {
			t.Fatal(err)
		}
		names := fieldNames(w.sent)
		cacheControl := w.header.Values("Cache-Control")
		if status >= 400 {
			if len(names) != 0 || len(cacheControl) != 0 {
				t.Errorf("status %d after a failed flush: Set-Cookie %q, Cache-Control %q, want neither (no re-issue on an error)", status, names, cacheControl)
			}
			continue
		}
		if !equalStrings(names, []string{"a", "b", "cn_slide_login"}) || !equalStrings(cacheControl, []string{"private"}) {
			t.Errorf("status %d after a failed flush: Set-Cookie %q, Cache-Control %q, want a, b and the stamp once each, and private", status, names, cacheControl)
		}
	}
}

// informationalWriter records the Set-Cookie fields of each 1xx the
// handler sends, as a server sends a 1xx's header at once.
type informationalWriter struct {
	*lateWriter
	informational [][]string
}

func (w *informationalWriter) WriteHeader(status int) {
	if status >= 100 && status <= 199 {
		w.informational = append(w.informational, append([]string{}, w.header.Values("Set-Cookie")...))
		return
	}
	w.lateWriter.WriteHeader(status)
}

// TestLikeFollowsTheSentLeader: an `expire like` follower follows the
// leader the final response sends. A flush or hijack that failed, or a
// 103 sent before the handler changed the leader, rewrote the fields in
// place for the leader of that moment: the follower kept that lifetime
// though the final response logs the leader out (then there is no leader,
// and the follower stays as the app sent it). The 103 itself goes out
// rewritten for its own moment.
func TestLikeFollowsTheSentLeader(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["sid"],"on_delete":"cascade"},{"cookies":["pref"],"expire":{"mode":"like","like":"sid"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name   string
		before func(w http.ResponseWriter) // what the handler does before it logs the leader out
	}{
		{"a failed flush", func(w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err == nil {
				t.Fatal("flush should fail")
			}
		}},
		{"a failed hijack", func(w http.ResponseWriter) {
			if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
				t.Fatal("hijack should fail")
			}
		}},
		{"a 103", func(w http.ResponseWriter) { w.WriteHeader(http.StatusEarlyHints) }},
	} {
		w := &informationalWriter{lateWriter: &lateWriter{header: http.Header{}, failFlush: true, failHijack: true}}
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
			w.Header().Add("Set-Cookie", "pref=dark")
			tc.before(w)
			w.Header().Add("Set-Cookie", "sid=; Max-Age=0")
			w.WriteHeader(http.StatusOK)
			_, err := io.WriteString(w, "body")
			return err
		})
		if err := h.ServeHTTP(w, benchRequest(), next); err != nil {
			t.Fatal(err)
		}
		if want := []string{"sid=1; Max-Age=3600", "pref=dark", "sid=; Max-Age=0"}; !equalStrings(w.sent, want) {
			t.Errorf("%d %s: sent %q, want %q (no leader, the follower as the app sent it)", i, tc.name, w.sent, want)
		}
		if len(w.informational) > 0 {
			if got := w.informational[0]; len(got) != 2 || !strings.HasPrefix(got[1], "pref=dark; Expires=") || !strings.HasSuffix(got[1], "; Max-Age=3600") {
				t.Errorf("%d %s: the 103 sent %q, want pref following sid's hour", i, tc.name, got)
			}
		}
	}
}

// TestLikeLeaderLoggedOutAfterWriteHeader: a leader the handler logs out
// between WriteHeader and the first body byte (where the header map is
// rewritten again, for servers that send it only then) leads nothing in
// the response that goes out, so the follower stays as the app sent it.
// The rewrite at WriteHeader gave it the hour of the leader of that
// moment, in place, and the rewrite at the first body byte, finding no
// leader, left that hour.
//
// With six followers, more than the writer keeps room for without
// allocating, every one is put back too.
func TestLikeLeaderLoggedOutAfterWriteHeader(t *testing.T) {
	for _, followers := range []int{1, 6} {
		var fields []string
		for i := range followers {
			fields = append(fields, fmt.Sprintf("pref%d=dark", i))
		}
		w := newLateWriter()
		serveThrough(t, `{"groups":[{"cookies":["pref*"],"expire":{"mode":"like","like":"sid"}}]}`, w, benchRequest(), func(w http.ResponseWriter) error {
			w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
			for _, f := range fields {
				w.Header().Add("Set-Cookie", f)
			}
			w.WriteHeader(http.StatusOK)
			w.Header().Add("Set-Cookie", "sid=; Max-Age=0")
			_, err := io.WriteString(w, "body")
			return err
		})
		want := append(append([]string{"sid=1; Max-Age=3600"}, fields...), "sid=; Max-Age=0")
		if !equalStrings(w.sent, want) {
			t.Errorf("%d followers: sent %q, want %q (no leader, the followers as the app sent them)", followers, w.sent, want)
		}
	}
}

// TestLikeLeaderRemovedAfterWriteHeader: a handler that removes fields
// after WriteHeader (a middleware filtering Set-Cookie) moves the
// follower to another index; the rewrite at the first body byte still
// finds it, by value, and starts it again from the app's field.
func TestLikeLeaderRemovedAfterWriteHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(fields []string) []string
		want []string
	}{
		{
			name: "the leader taken out",
			edit: func(fields []string) []string { return slices.Delete(fields, 0, 1) },
			want: []string{"theme=x", "pref=dark"},
		},
		{
			name: "the leader taken out, and a log-out of it added",
			edit: func(fields []string) []string { return append(slices.Clone(fields[1:]), "sid=; Max-Age=0") },
			want: []string{"theme=x", "pref=dark", "sid=; Max-Age=0"},
		},
		{
			name: "an unrelated field taken out: the leader stands",
			edit: func(fields []string) []string { return slices.Delete(fields, 1, 2) },
			want: []string{"sid=1; Max-Age=3600", "pref=dark; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"},
		},
	} {
		w := newLateWriter()
		serveThrough(t, `{"groups":[{"cookies":["pref"],"expire":{"mode":"like","like":"sid"}}]}`, w, benchRequest(), func(w http.ResponseWriter) error {
			w.Header().Set("Date", testDate)
			w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
			w.Header().Add("Set-Cookie", "theme=x")
			w.Header().Add("Set-Cookie", "pref=dark")
			w.WriteHeader(http.StatusOK)
			hdr := w.Header()
			hdr["Set-Cookie"] = tc.edit(hdr["Set-Cookie"])
			_, err := io.WriteString(w, "body")
			return err
		})
		if !equalStrings(w.sent, tc.want) {
			t.Errorf("%s: sent %q, want %q", tc.name, w.sent, tc.want)
		}
	}
}

// TestLikeChainLeaderLoggedOutAfterWriteHeader: in a chain (ch follows
// lk2, lk follows ldr) the passes change lk2 before ch1 though ch1 comes
// first among the fields; a log-out of lk2 added after WriteHeader leaves
// ch1 without a leader, and it goes out as the app sent it, while lk2's
// own field still follows ldr.
func TestLikeChainLeaderLoggedOutAfterWriteHeader(t *testing.T) {
	const config = `{"groups":[
		{"label":"ch","cookies":["ch1"],"expire":{"mode":"like","like":"lk2"}},
		{"label":"lk","cookies":["lk2"],"expire":{"mode":"like","like":"ldr"}}]}`
	w := newLateWriter()
	serveThrough(t, config, w, benchRequest(), func(w http.ResponseWriter) error {
		w.Header().Set("Date", testDate)
		w.Header().Add("Set-Cookie", "ldr=1; Max-Age=60")
		w.Header().Add("Set-Cookie", "ch1=y; Max-Age=5")
		w.Header().Add("Set-Cookie", "lk2=x; Max-Age=7")
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "lk2=; Max-Age=0")
		_, err := io.WriteString(w, "body")
		return err
	})
	want := []string{"ldr=1; Max-Age=60", "ch1=y; Max-Age=5", "lk2=x; Expires=Tue, 24 Nov 2026 12:01:00 GMT; Max-Age=60", "lk2=; Max-Age=0"}
	if !equalStrings(w.sent, want) {
		t.Errorf("sent %q, want %q", w.sent, want)
	}
}

// TestLikeLeaderLoggedOutLateHTTP3: on HTTP/3, quic-go encodes the header
// map when its body buffer first goes out, which for a short body is when
// the handler returns: a leader logged out between two body writes, or
// after the last, leads nothing in what goes out, and the follower the
// rewrite at the first body byte gave the leader's hour is put back as
// the app sent it.
func TestLikeLeaderLoggedOutLateHTTP3(t *testing.T) {
	for _, tc := range []struct {
		name       string
		secondPart bool // the deletion comes before a second body write, else after the last
	}{
		{"between two writes", true},
		{"after the last write", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := benchRequest()
			r.ProtoMajor, r.ProtoMinor, r.Proto = 3, 0, "HTTP/3.0"
			w := newLateWriter()
			serveThrough(t, `{"groups":[{"cookies":["pref"],"expire":{"mode":"like","like":"sid"}}]}`, w, r, func(w http.ResponseWriter) error {
				w.Header().Set("Date", testDate)
				w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
				w.Header().Add("Set-Cookie", "pref=dark")
				w.WriteHeader(http.StatusOK)
				if _, err := io.WriteString(w, "first"); err != nil {
					return err
				}
				if got, want := w.Header()["Set-Cookie"][1], "pref=dark; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"; got != want {
					t.Errorf("at the first body byte the follower is %q, want %q", got, want)
				}
				w.Header().Add("Set-Cookie", "sid=; Max-Age=0")
				if tc.secondPart {
					_, err := io.WriteString(w, "second")
					return err
				}
				return nil
			})
			if want := []string{"sid=1; Max-Age=3600", "pref=dark", "sid=; Max-Age=0"}; !equalStrings(w.header["Set-Cookie"], want) {
				t.Errorf("header map as the handler returns %q, want %q (no leader, the follower as the app sent it)", w.header["Set-Cookie"], want)
			}
		})
	}
}

// TestStampNotRewrittenByPatterns: the slide stamp is the module's own
// cookie; a group whose pattern matches its name (`*`) leaves it alone, on
// a later pass over the response (a field added before the first body
// byte) and when a response carries it.
func TestStampNotRewrittenByPatterns(t *testing.T) {
	const config = `{"groups":[{"label":"login","cookies":["a","b"],"expire":{"mode":"fixed","duration":"1h"},"path":"/","domain":"remove","slide":{"interval":"1m"}},{"cookies":["*"],"expire":{"mode":"session"},"samesite":"strict"}]}`
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	w := newLateWriter()
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "theme=dark")
		_, err := io.WriteString(w, "page")
		return err
	})
	req := benchRequest()
	req.Header.Set("Cookie", "a=1; b=2")
	if err := h.ServeHTTP(w, req, next); err != nil {
		t.Fatal(err)
	}
	var stamp string
	for _, f := range w.sent {
		if strings.HasPrefix(f, "cn_slide_login=") {
			stamp = f
		}
	}
	if !strings.Contains(stamp, "; Path=/; HttpOnly; SameSite=Lax; Expires=") || !strings.HasSuffix(stamp, "; Max-Age=3600") {
		t.Errorf("the stamp went out as %q, want Path=/; HttpOnly; SameSite=Lax and the group's hour (all sent: %q)", stamp, w.sent)
	}
	if !slices.Contains(w.sent, "theme=dark; SameSite=Strict") {
		t.Errorf("sent %q, want theme=dark rewritten by the `*` group", w.sent)
	}
	carried := stamp
	n := h.norm
	if got := n.rewriteResponse([]string{carried}, testDate, nil, nil); !equalStrings(got, []string{carried}) {
		t.Errorf("a response carrying the stamp: %q, want it unchanged", got)
	}
}

// TestUndoDuplicateFollowersAfterRemoval: two `like` followers of one
// cookie name, f, both given the leader's lifetime: the rewrite made
// values[1] and values[2] read the same. The handler then drops the field
// before them (a middleware that filters Set-Cookie), so they sit at 0
// and 1. Each must get back its own field, in order: looked for at its
// recorded place first, the first would find the second's field there.
func TestUndoDuplicateFollowersAfterRemoval(t *testing.T) {
	const out = "f=1; Path=/; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"
	var l followerLog
	l.note(1, "f=1; Path=/; Max-Age=100", out)
	l.note(2, "f=1; Path=/; Max-Age=200", out)
	values := []string{out, out} // "x=1" at 0 was removed
	l.undo(values)
	want := []string{"f=1; Path=/; Max-Age=100", "f=1; Path=/; Max-Age=200"}
	if !slices.Equal(values, want) {
		t.Errorf("undo after a removal before two identical followers:\n got %q\nwant %q", values, want)
	}
}

// TestDuplicateFollowersLeaderLoggedOutAfterRemoval: the same through the
// Handler. Where the header map goes out at the first body byte (HTTP/3,
// encode), the handler, after WriteHeader, drops a field before the
// followers and logs the leader out: the leader then leads nothing, so
// the followers must go out as the handler wrote them, as when it wrote
// those fields before WriteHeader (f with Max-Age=100, then 200).
func TestDuplicateFollowersLeaderLoggedOutAfterRemoval(t *testing.T) {
	const config = `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":"1h"}},{"cookies":["f"],"expire":{"mode":"like","like":"lead"}}]}`
	fields := []string{"x=1; Path=/", "lead=1; Path=/", "f=1; Path=/; Max-Age=100", "f=1; Path=/; Max-Age=200"}
	const logout = "lead=; Path=/; Max-Age=0"
	want := serveWithLogPanicOn(t, histLate, false, config, "", 0, nil, func(w http.ResponseWriter) error {
		w.Header()["Set-Cookie"] = append(slices.Clone(fields[1:]), logout)
		w.WriteHeader(http.StatusOK)
		_, err := io.WriteString(w, "body")
		return err
	})
	got := serveWithLogPanicOn(t, histLate, false, config, "", 0, nil, func(w http.ResponseWriter) error {
		w.Header()["Set-Cookie"] = slices.Clone(fields)
		w.WriteHeader(http.StatusOK)
		h := w.Header()
		h["Set-Cookie"] = append(h["Set-Cookie"][1:], logout)
		_, err := io.WriteString(w, "body")
		return err
	})
	if !strings.Contains(want.events[0], `"f=1; Path=/; Max-Age=100" "f=1; Path=/; Max-Age=200"`) {
		t.Fatalf("without the earlier rewrite the followers did not go out as written:%s", want)
	}
	if !slices.Equal(got.events, want.events) {
		t.Errorf("fields dropped and the leader logged out after WriteHeader: %s", want.diff(got))
	}
}

// editAtWriteHeader is a writer above the module that edits the header
// map when the final status is written, as a deferred `header` edit
// does: Caddy's replace operations rebuild the field list (Del, then
// Add), so the Set-Cookie slice is a new one even where no value
// changes (a replacement whose pattern matches none, suffix "").
type editAtWriteHeader struct {
	*lateWriter
	suffix string // appended to every Set-Cookie value
}

func (w editAtWriteHeader) WriteHeader(status int) {
	if status >= 200 {
		if old := w.header["Set-Cookie"]; len(old) > 0 {
			w.header.Del("Set-Cookie")
			for _, v := range old {
				w.header.Add("Set-Cookie", v+w.suffix)
			}
		}
	}
	w.lateWriter.WriteHeader(status)
}

// serveEdited serves r through the handler of config below an
// editAtWriteHeader over w, the handler writing with write, and returns
// what w serialised once the handler returned.
func serveEdited(t *testing.T, config, suffix string, w *lateWriter, r *http.Request, write func(w http.ResponseWriter) error) []string {
	t.Helper()
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error { return write(w) })
	if err := h.ServeHTTP(editAtWriteHeader{w, suffix}, r, next); err != nil {
		t.Fatal(err)
	}
	w.serialise()
	return w.sent
}

// TestOuterHeaderEditLateLogOutCascadesHTTP3: a single module below a
// deferred header edit that rewrites every Set-Cookie field (a
// `header >Set-Cookie (.*) "$1; Secure"`) is the only cookie_normalizer
// of the request: no module further out runs the consistency rules. A
// log-out the handler adds between WriteHeader and the first body byte
// goes out over HTTP/3 (quic-go sends the header map only then), and
// must cascade as it does without the edit.
func TestOuterHeaderEditLateLogOutCascadesHTTP3(t *testing.T) {
	const config = `{"groups":[{"cookies":["session_id","csrf"],"on_delete":"cascade"}]}`
	app := func(w http.ResponseWriter) error {
		w.Header().Set("Date", testDate)
		w.Header().Add("Set-Cookie", "theme=dark")
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "session_id=; Max-Age=0; Path=/")
		_, err := io.WriteString(w, "body")
		return err
	}
	r := benchRequest()
	r.ProtoMajor, r.ProtoMinor, r.Proto = 3, 0, "HTTP/3.0"
	got := serveEdited(t, config, "; Secure", newLateWriter(), r, app)
	want := []string{"theme=dark; Secure", "session_id=; Max-Age=0; Path=/", "csrf=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"}
	if !equalStrings(got, want) {
		t.Errorf("sent %q, want %q (the log-out cascaded)", got, want)
	}
}

// TestOuterHeaderEditLateLeaderLoggedOutHTTP3 is
// TestLikeLeaderLoggedOutLateHTTP3 below a deferred header edit that
// rebuilds the Set-Cookie list and changes no value, the only writer
// above: the follower must not keep the lifetime of a leader
// the handler deleted before the header went out.
func TestOuterHeaderEditLateLeaderLoggedOutHTTP3(t *testing.T) {
	r := benchRequest()
	r.ProtoMajor, r.ProtoMinor, r.Proto = 3, 0, "HTTP/3.0"
	w := newLateWriter()
	got := serveEdited(t, `{"groups":[{"cookies":["pref"],"expire":{"mode":"like","like":"sid"}}]}`, "", w, r, func(w http.ResponseWriter) error {
		w.Header().Set("Date", testDate)
		w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
		w.Header().Add("Set-Cookie", "pref=dark")
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "sid=; Max-Age=0")
		_, err := io.WriteString(w, "body")
		return err
	})
	want := []string{"sid=1; Max-Age=3600", "pref=dark", "sid=; Max-Age=0"}
	if !equalStrings(got, want) {
		t.Errorf("sent %q, want %q (no leader, the follower as the app sent it)", got, want)
	}
}
