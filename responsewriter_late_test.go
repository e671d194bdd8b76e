package cookienormalizer

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/encode"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/encode/gzip"
	"go.uber.org/zap"
)

// encodeBelowServer serves app through Caddy's real encode handler
// (gzip) placed BELOW cookie_normalizer in the writer stack, as in
// `route { encode gzip; cookie_normalizer a {...}; ... }`: encode's
// writer defers the header until its first non-empty Write, and its
// FlushError before that returns nil having sent nothing.
func encodeBelowServer(t *testing.T, config string, app func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	return encodeBelowServerAs(t, config, 0, app)
}

// encodeBelowServerAs is encodeBelowServer with the request's ProtoMajor
// set to proto (unless 0) before the module sees it: 3 makes the module
// treat it as an HTTP/3 request, as it does quic-go's.
func encodeBelowServerAs(t *testing.T, config string, proto int, app func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	var enc encode.Encode
	if err := json.Unmarshal([]byte(`{"encodings":{"gzip":{}},"minimum_length":1}`), &enc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := enc.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	inner := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		app(w, r)
		return nil
	})
	mid := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if proto != 0 {
			r.ProtoMajor = proto
		}
		return h.ServeHTTP(w, r, inner)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := enc.ServeHTTP(w, r, mid); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLateRewriteAfterEmptyWrite: with encode below the module (it sends
// the header map at its first non-empty Write), a cookie the handler
// adds after WriteHeader reaches the client rewritten (the check at the
// first body byte), also when the handler wrote zero bytes in between,
// or flushed (encode answers a flush before the first body byte without
// sending anything; the module cannot tell it from one that sent, and
// checks again at the first body byte): the body has not started. So
// does one the handler adds after a flush before WriteHeader.
func TestLateRewriteAfterEmptyWrite(t *testing.T) {
	flush := func(w http.ResponseWriter) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			panic(err)
		}
	}
	for _, tc := range []struct {
		name          string
		noWriteHeader bool // the handler does not call WriteHeader first
		between       func(w http.ResponseWriter)
	}{
		{"control: nothing in between", false, func(w http.ResponseWriter) {}},
		{"zero-length Write", false, func(w http.ResponseWriter) { _, _ = w.Write(nil) }},
		{"io.Copy of an empty reader (ReadFrom)", false, func(w http.ResponseWriter) { _, _ = io.Copy(w, bytesReader("")) }},
		{"a flush", false, flush},
		{"two flushes", false, func(w http.ResponseWriter) { flush(w); flush(w) }},
		{"a flush before WriteHeader", true, flush},
		{"a flush, then a zero-length Write", true, func(w http.ResponseWriter) { flush(w); _, _ = w.Write(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := encodeBelowServer(t, `{"groups":[{"cookies":["a"],"expire":{"mode":"session"}}]}`, func(w http.ResponseWriter, r *http.Request) {
				if !tc.noWriteHeader {
					w.WriteHeader(http.StatusOK)
				}
				tc.between(w)
				w.Header().Add("Set-Cookie", upstreamCookie)
				io.WriteString(w, "hello hello hello")
			})
			resp, body := getCookies(t, srv.URL)
			if body != "hello hello hello" {
				t.Fatalf("body %q", body)
			}
			if got, want := resp.Header.Values("Set-Cookie"), []string{rewrittenCookie}; !equalStrings(got, want) {
				t.Errorf("Set-Cookie = %q, want %q (encoding %q)", got, want, resp.Header.Get("Content-Encoding"))
			}
		})
	}
}

// TestFlushThenLogOutEveryProtocol: with encode below the module, a
// flush before the first body byte sends nothing on HTTP/3 either, so a
// log-out the handler adds after it gets the whole rewrite at the first
// body byte, the cascade included, as on HTTP/1.1 (it once got the late
// rewrite alone on HTTP/3, which runs no consistency rule: the browser
// kept b alone).
func TestFlushThenLogOutEveryProtocol(t *testing.T) {
	cfg := `{"groups":[{"label":"login","cookies":["sid","b"],"on_delete":"cascade"}]}`
	want := []string{"sid=; Max-Age=0; Path=/", "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"}
	for _, proto := range []int{1, 3} {
		srv := encodeBelowServerAs(t, cfg, proto, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			w.Header().Add("Set-Cookie", "sid=; Max-Age=0; Path=/")
			io.WriteString(w, "hello hello hello")
		})
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Cookie", "sid=1; b=2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, want) {
			t.Errorf("HTTP/%d: Set-Cookie %q, want %q", proto, got, want)
		}
	}
}

// TestFailedFlushAfterWriteHeader: a flush that fails after WriteHeader
// has sent nothing: a cookie the handler adds next is rewritten at the
// first body byte, as without the flush.
func TestFailedFlushAfterWriteHeader(t *testing.T) {
	for _, flush := range []bool{false, true} {
		w := &lateWriter{header: http.Header{}, failFlush: true}
		got := serveLate(t, w, func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusOK)
			if flush {
				if err := http.NewResponseController(w).Flush(); err == nil {
					panic("flush should fail")
				}
			}
			w.Header().Add("Set-Cookie", upstreamCookie)
			io.WriteString(w, "body")
		})
		if want := []string{rewrittenCookie}; !equalStrings(got, want) {
			t.Errorf("failed flush in between: %v: sent %q, want %q", flush, got, want)
		}
	}
}

// BenchmarkLikeFollowerFields times the whole handler on one response of n
// `expire like` follower fields (an upstream that sends many fields of a
// follower's name) after their leader, and reports ns/field: every
// follower changed is recorded in the follower log (followerLog.note),
// which must not cost more per field as the fields grow (it scanned the
// earlier records once, a cost in the square of the fields). The
// control runs the same fields under a fixed-expiry group (no
// followers).
func BenchmarkLikeFollowerFields(b *testing.B) {
	for _, cfg := range []struct{ name, js string }{
		{"like", `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":"1h"}},{"cookies":["f"],"expire":{"mode":"like","like":"lead"}}]}`},
		{"control-fixed", `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":"1h"}},{"cookies":["f"],"expire":{"mode":"fixed","duration":"2h"}}]}`},
	} {
		var h Handler
		if err := json.Unmarshal([]byte(cfg.js), &h); err != nil {
			b.Fatal(err)
		}
		h.setLogger(zap.NewNop()) // no debug lines: time the rewrite, not the logging
		if err := h.provision(); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		for _, n := range []int{250, 1000, 4000, 16000} {
			src := make([]string, 0, n+1)
			src = append(src, "lead=1; Path=/; Max-Age=60")
			for i := 0; i < n; i++ {
				src = append(src, "f="+strconv.Itoa(i)+"; Path=/; Max-Age=100")
			}
			b.Run(cfg.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				rec := &hostileRecorder{header: http.Header{}}
				buf := make([]string, 0, 2*len(src))
				next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
					w.Header()["Set-Cookie"] = append(buf[:0], src...)
					w.Header()["Date"] = []string{"Tue, 24 Nov 2026 12:00:00 GMT"}
					w.WriteHeader(http.StatusOK)
					return nil
				})
				for b.Loop() {
					if err := h.ServeHTTP(rec, req, next); err != nil {
						b.Fatal(err)
					}
				}
				if got := rec.header["Set-Cookie"][n]; !strings.Contains(got, "Max-Age=3600") && cfg.name == "like" {
					b.Fatalf("follower not rewritten: %q", got)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
			})
		}
	}
}

// TestFollowerLogNoteIndexes: a follower noted again in the same rewrite
// (a `like` pass run again) keeps its first orig and takes the new out,
// also past the records note scans and then indexes (followerScanMax).
func TestFollowerLogNoteIndexes(t *testing.T) {
	var l followerLog
	const n = 3*followerScanMax + 7
	for i := range n {
		l.note(i, "orig"+strconv.Itoa(i), "out"+strconv.Itoa(i))
	}
	for i := 0; i < n; i += 3 {
		l.note(i, "again"+strconv.Itoa(i), "new"+strconv.Itoa(i))
	}
	all := append(append([]followedField{}, l.at[:l.n]...), l.more...)
	if len(all) != n {
		t.Fatalf("%d records, want %d", len(all), n)
	}
	for i, f := range all {
		out := "out" + strconv.Itoa(i)
		if i%3 == 0 {
			out = "new" + strconv.Itoa(i)
		}
		if f.index != i || f.orig != "orig"+strconv.Itoa(i) || f.out != out {
			t.Errorf("record %d: %+v, want index %d, orig orig%d, out %s", i, f, i, i, out)
		}
	}
	l.forget()
	if l.n != 0 || l.more != nil || l.where != nil {
		t.Errorf("after forget: n %d, more %d, where %v", l.n, len(l.more), l.where)
	}
}

// TestFollowerLogUndoIndexed: undo finds the same followers, by identity
// and in order, whether it scans (few) or indexes (many): the handler
// replaced some (equal strings, not the same), removed some, and kept
// the rest.
func TestFollowerLogUndoIndexed(t *testing.T) {
	for _, n := range []int{followerScanMax - 3, 4*followerScanMax + 5} {
		var l followerLog
		outs := make([]string, n)
		for i := range outs {
			outs[i] = "f=" + strconv.Itoa(i) + "; Max-Age=60"
			l.note(i, "orig"+strconv.Itoa(i), outs[i])
		}
		var values, want []string
		for i, o := range outs {
			switch i % 5 {
			case 1: // replaced by an equal string
				values = append(values, strings.Clone(o))
				want = append(want, o)
			case 2: // removed
			default:
				values = append(values, o)
				want = append(want, "orig"+strconv.Itoa(i))
			}
			if i%7 == 0 {
				values = append(values, "other=1") // the handler's own
				want = append(want, "other=1")
			}
		}
		l.undo(values)
		if !slices.Equal(values, want) {
			t.Errorf("%d followers:\n got  %q\n want %q", n, values, want)
		}
		if l.n != 0 || l.more != nil {
			t.Errorf("%d followers: not forgotten", n)
		}
	}
}

// BenchmarkFollowerLogUndoReplaced times undo when no recorded follower
// is found (the handler replaced the strings), per follower: it must not
// grow with their number.
func BenchmarkFollowerLogUndoReplaced(b *testing.B) {
	for _, n := range []int{250, 1000, 4000} {
		outs := make([]string, n)
		values := make([]string, n)
		for i := range outs {
			outs[i] = "f=" + strconv.Itoa(i) + "; Path=/; Max-Age=60"
			values[i] = strings.Clone(outs[i])
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				var l followerLog
				for i := range outs {
					l.note(i, "orig", outs[i])
				}
				l.undo(values)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/field")
		})
	}
}

// TestLateFollowerUnderOuterWriter: over HTTP/3 (the header goes out at
// the first body byte), an expire like follower the handler adds after
// WriteHeader follows its leader also when a writer above the module
// changed the Set-Cookie list meanwhile (a deferred header edit, an outer
// cookie_normalizer's deletion): rewritten alone, it found no leader and
// went out as the app wrote it.
func TestLateFollowerUnderOuterWriter(t *testing.T) {
	const config = `{"groups":[{"label":"prefs","cookies":["pref"],"expire":{"mode":"like","like":"sid"}}]}`
	app := func(w http.ResponseWriter) error {
		w.Header().Set("Date", testDate)
		w.Header().Add("Set-Cookie", "sid=1; Max-Age=3600")
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", "pref=dark")
		_, err := io.WriteString(w, "body")
		return err
	}
	follows := "pref=dark; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"
	for _, tc := range []struct {
		name  string
		serve func(r *http.Request) []string
	}{
		{"no writer above (control)", func(r *http.Request) []string {
			h, err := provisionJSON(t, config)
			if err != nil {
				t.Fatal(err)
			}
			w := newLateWriter()
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error { return app(w) })
			if err := h.ServeHTTP(w, r, next); err != nil {
				t.Fatal(err)
			}
			w.serialise()
			return w.sent
		}},
		{"a deferred header edit above", func(r *http.Request) []string {
			return serveEdited(t, config, "", newLateWriter(), r, app)
		}},
		{"an outer cookie_normalizer that expired a half jar", func(r *http.Request) []string {
			inner, err := provisionJSON(t, config)
			if err != nil {
				t.Fatal(err)
			}
			outer, err := provisionJSON(t, `{"groups":[{"label":"login","cookies":["session_id","user_id__insecure"],"on_partial":"expire"}]}`)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Cookie", "session_id=a")
			w := newLateWriter()
			next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error { return app(w) })
			innerNext := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return inner.ServeHTTP(w, r, next) })
			if err := outer.ServeHTTP(w, r, innerNext); err != nil {
				t.Fatal(err)
			}
			w.serialise()
			var out []string
			for _, v := range w.sent {
				if !strings.HasPrefix(v, "session_id=") {
					out = append(out, v) // the outer partial expiry's deletion
				}
			}
			return out
		}},
	} {
		r := benchRequest()
		r.ProtoMajor, r.ProtoMinor, r.Proto = 3, 0, "HTTP/3.0"
		got := tc.serve(r)
		if len(got) != 2 || got[1] != follows {
			t.Errorf("%s: sent %q, want the follower %q", tc.name, got, follows)
		}
	}
}
