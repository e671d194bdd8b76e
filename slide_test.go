package cookienormalizer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func TestSlide(t *testing.T) {
	now := testClock.Unix()
	ts := func(d int64) string { return strconv.FormatInt(now+d, 10) }
	login := Group{Label: "login", Cookies: []string{"session_id", "user_id__insecure"},
		Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 43200e9}, Path: "/", Domain: "remove", Secure: on(), SameSite: "lax",
		Slide: &SlidePolicy{Interval: 600e9}}
	const life = "; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200"
	reissued := []string{
		"session_id=abc; Path=/; Secure; SameSite=Lax" + life,
		"user_id__insecure=42; Path=/; Secure; SameSite=Lax" + life,
	}
	stamp := "cn_slide_login=" + ts(0) + "; Path=/; HttpOnly; SameSite=Lax; Secure" + life
	stampDeleted := del("cn_slide_login", "; Path=/; HttpOnly; SameSite=Lax; Secure")
	jar := func(stampValue string) string {
		return "session_id=abc; theme=dark; user_id__insecure=42; cn_slide_login=" + stampValue
	}
	with := func(g Group, f func(g *Group)) Group { f(&g); return g }
	for i, tc := range []struct {
		name        string
		group       Group
		req         request
		in          []string
		want        []string
		wantPrivate bool
	}{
		{name: "stamp absent: re-issued with a new stamp", group: login,
			req:  request{cookies: []string{"session_id=abc; user_id__insecure=42"}, status: 200},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "fresh stamp: nothing (throttled)", group: login,
			req: request{cookies: []string{jar(ts(-599))}, status: 200}},
		{name: "stamp as old as the interval, not older: nothing", group: login,
			req: request{cookies: []string{jar(ts(-600))}, status: 200}},
		{name: "stamp older than the interval: re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-601))}, status: 200},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "stamp a minute in the future: still fresh", group: login,
			req: request{cookies: []string{jar(ts(60))}, status: 200}},
		{name: "stamp more than a minute in the future: re-issued", group: login,
			req:  request{cookies: []string{jar(ts(61))}, status: 200},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "the smallest 64-bit stamp (readable, older than any interval): re-issued", group: login,
			req:  request{cookies: []string{jar("-9223372036854775808")}, status: 200},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "unreadable stamp: re-issued", group: login,
			req:  request{cookies: []string{jar("yesterday")}, status: 200},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "two stamps: unreadable, re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-1)), "cn_slide_login=" + ts(-2)}, status: 200},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "values exactly as the request carried them, across Cookie fields", group: login,
			req: request{cookies: []string{`session_id="a b,c"`, "user_id__insecure=42"}, status: 200},
			want: []string{`session_id="a b,c"; Path=/; Secure; SameSite=Lax` + life,
				"user_id__insecure=42; Path=/; Secure; SameSite=Lax" + life, stamp}, wantPrivate: true},
		{name: "a member missing: nothing", group: login,
			req: request{cookies: []string{"session_id=abc"}, status: 200}},
		{name: "a member's name without '=' (a nameless cookie): missing, nothing", group: login,
			req: request{cookies: []string{"session_id; user_id__insecure=42"}, status: 200}},
		{name: "a member twice (cookie tossing): nothing", group: login,
			req: request{cookies: []string{"session_id=abc; user_id__insecure=42; session_id=evil"}, status: 200}},
		{name: "a value with a control byte: nothing", group: login,
			req: request{cookies: []string{"session_id=a\x01b; user_id__insecure=42"}, status: 200}},
		{name: "a value over the browser limit: nothing", group: login,
			req: request{cookies: []string{"session_id=" + strings.Repeat("v", 4090) + "; user_id__insecure=42"}, status: 200}},
		{name: "the response sets every member (a log-in): the stamp only", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:  []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life, "user_id__insecure=7; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life, "user_id__insecure=7; Path=/; Secure; SameSite=Lax" + life,
				stamp}},
		{name: "a log-in without a jar: the stamp only", group: login,
			req: request{status: 200},
			in:  []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life, "user_id__insecure=7; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life, "user_id__insecure=7; Path=/; Secure; SameSite=Lax" + life,
				stamp}},
		// An app that renews its session cookie on its own: restarting
		// the stamp there would keep user_id__insecure from ever being
		// re-issued, and it would run out while session_id lives on.
		{name: "the response sets one member, the stamp is due: the other re-issued, a new stamp", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:   []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life, reissued[1], stamp}, wantPrivate: true},
		// Chromium and Firefox refuse such a field; WebKitGTK reads it
		// cut short at the control byte, a deletion in the second row:
		// a re-issue after it would make the member live there.
		{name: "a member's field Chromium and Firefox refuse: nothing re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:   []string{"session_id=a\x01b"},
			want: []string{"session_id=a\x01b"}},
		{name: "a log-out beside a member's field Chromium and Firefox refuse: the stamp deleted", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:   []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=Lax", "user_id__insecure=a\x01b"},
			want: []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=Lax", "user_id__insecure=a\x01b", stampDeleted}},
		{name: "a member's deletion Chromium and Firefox refuse, WebKitGTK reads: nothing re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:   []string{"session_id=; Max-Age=0; X=a\x01b"},
			want: []string{"session_id=; Max-Age=0; X=a\x01b"}},
		// Re-issued only once per interval, the other member would run
		// out up to an interval before the renewed one: a half log-in
		// that the app's next renewal keeps from being expired.
		{name: "the response sets one member, the stamp is fresh: the other re-issued beside it all the same", group: login,
			req:  request{cookies: []string{jar(ts(-60))}, status: 200},
			in:   []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life, reissued[1], stamp}, wantPrivate: true},
		{name: "the response sets one member on an error status: nothing added", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 500},
			in:   []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life}},
		{name: "the response sets one member, for shared caches: nothing added", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cache-Control": {"public"}}},
			in:   []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life}},
		{name: "the response sets one member, the other is not in the jar: nothing added", group: login,
			req:  request{cookies: []string{"session_id=abc; cn_slide_login=" + ts(-3600)}, status: 200},
			in:   []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life},
			want: []string{"session_id=new; Path=/; Secure; SameSite=Lax" + life}},
		{name: "the response deletes a member (a log-out): the stamp deleted", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:   []string{"session_id=; Max-Age=0; Path=/"},
			want: []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=Lax", stampDeleted}},
		{name: "a log-out whose request carries no stamp deletes it too (a cross-site POST carries no SameSite=Lax cookie)", group: login,
			req:  request{cookies: []string{"session_id=abc; user_id__insecure=42"}, status: 200},
			in:   []string{"session_id=; Max-Age=0; Path=/"},
			want: []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=Lax", stampDeleted}},
		{name: "status 400: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 400}},
		{name: "status 503: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 503}},
		{name: "status 304: re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 304},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "101 Switching Protocols (written before a hijack) is below 400: re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 101},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "unknown status (a hijack): nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}}},
		{name: "Cache-Control public: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cache-Control": {"max-age=60, Public"}}}},
		{name: "Cache-Control s-maxage: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cache-Control": {"no-cache", "s-maxage=60"}}}},
		// A CDN that obeys a field aimed at it ignores Cache-Control, and
		// the private directive a re-issue adds with it.
		{name: "CDN-Cache-Control (as net/http spells it): nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cdn-Cache-Control": {"max-age=300"}}}},
		{name: "a CDN's own targeted field: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cloudflare-Cdn-Cache-Control": {"max-age=300"}, "Cache-Control": {"no-cache"}}}},
		{name: "Surrogate-Control: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Surrogate-Control": {"max-age=300"}}}},
		{name: "CDN-Cache-Control private=?0 (false): nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cdn-Cache-Control": {"max-age=300, private=?0"}}}},
		{name: "CDN-Cache-Control private with a value other than true: nothing", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cdn-Cache-Control": {`max-age=300, private="X-Foo"`}}}},
		{name: "CDN-Cache-Control private=?1 (true): re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cdn-Cache-Control": {"max-age=300, private=?1"}}},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "CDN-Cache-Control private: re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cdn-Cache-Control": {"max-age=300, Private"}}},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "CDN-Cache-Control no-store, Surrogate-Control no-store-remote: re-issued", group: login,
			req: request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{
				"Cdn-Cache-Control": {"no-store"}, "Surrogate-Control": {"max-age=60", "no-store-remote"}}},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "Cache-Control private, max-age: re-issued", group: login,
			req:  request{cookies: []string{jar(ts(-3600))}, status: 200, header: http.Header{"Cache-Control": {"private, max-age=60"}}},
			want: append(append([]string{}, reissued...), stamp), wantPrivate: true},
		{name: "HTTPS puts Secure on the stamp without a secure policy",
			group: with(login, func(g *Group) { g.Secure, g.SameSite = nil, "" }),
			req:   request{cookies: []string{jar(ts(-3600))}, status: 200, https: true},
			want: []string{"session_id=abc; Path=/" + life, "user_id__insecure=42; Path=/" + life,
				"cn_slide_login=" + ts(0) + "; Path=/; HttpOnly; SameSite=Lax; Secure" + life}, wantPrivate: true},
		{name: "off and remove policies: the re-issued fields lack those attributes; over HTTPS the stamp is Secure all the same",
			group: with(login, func(g *Group) { g.Secure, g.HTTPOnly, g.Partitioned, g.SameSite = off(), off(), off(), "remove" }),
			req:   request{cookies: []string{jar(ts(-3600))}, status: 200, https: true},
			want: []string{"session_id=abc; Path=/" + life, "user_id__insecure=42; Path=/" + life,
				"cn_slide_login=" + ts(0) + "; Path=/; HttpOnly; SameSite=Lax; Secure" + life}, wantPrivate: true},
		{name: "every attribute policy on the re-issued fields; a named stamp, None and Partitioned as the group's cookies are",
			group: with(login, func(g *Group) {
				g.Label, g.Domain, g.HTTPOnly, g.Partitioned, g.Secure, g.SameSite = "", "example.com", on(), on(), on(), "none"
				g.Slide = &SlidePolicy{Interval: 600e9, Cookie: "__Host-stamp"}
			}),
			req: request{cookies: []string{"session_id=abc; user_id__insecure=42"}, status: 200},
			want: []string{"session_id=abc; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=None; Partitioned" + life,
				"user_id__insecure=42; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=None; Partitioned" + life,
				"__Host-stamp=" + ts(0) + "; Path=/; HttpOnly; SameSite=None; Secure; Partitioned" + life}, wantPrivate: true},
		{name: "__Host- and __Secure- members are re-issued Secure without a secure policy (browsers refuse them otherwise)",
			group: with(login, func(g *Group) { g.Cookies, g.Secure = []string{"__Host-sid", "__Secure-uid"}, nil }),
			req:   request{cookies: []string{"__Host-sid=abc; __Secure-uid=42; cn_slide_login=" + ts(-3600)}, status: 200, https: true},
			want: []string{"__Host-sid=abc; Path=/; SameSite=Lax; Secure" + life, "__Secure-uid=42; Path=/; SameSite=Lax; Secure" + life,
				stamp}, wantPrivate: true},
		{name: "__Http- and __Host-Http- members are re-issued Secure and HttpOnly without those policies (Chromium and Firefox refuse them otherwise)",
			group: with(login, func(g *Group) { g.Cookies, g.Secure = []string{"__Http-sid", "__Host-Http-uid"}, nil }),
			req:   request{cookies: []string{"__Http-sid=abc; __Host-Http-uid=42; cn_slide_login=" + ts(-3600)}, status: 200, https: true},
			want: []string{"__Http-sid=abc; Path=/; SameSite=Lax; Secure; HttpOnly" + life, "__Host-Http-uid=42; Path=/; SameSite=Lax; Secure; HttpOnly" + life,
				stamp}, wantPrivate: true},
		{name: "a strict group's stamp stays Lax",
			group: with(login, func(g *Group) { g.SameSite = "strict" }),
			req:   request{cookies: []string{jar(ts(-3600))}, status: 200},
			want: []string{"session_id=abc; Path=/; Secure; SameSite=Strict" + life, "user_id__insecure=42; Path=/; Secure; SameSite=Strict" + life,
				"cn_slide_login=" + ts(0) + "; Path=/; HttpOnly; SameSite=Lax; Secure" + life}, wantPrivate: true},
		{name: "a log-out deletes a None, Partitioned stamp with those attributes",
			group: with(login, func(g *Group) { g.SameSite, g.Partitioned = "none", on() }),
			req:   request{cookies: []string{jar(ts(-60))}, status: 200},
			in:    []string{"session_id=; Max-Age=0"},
			want: []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=None; Partitioned",
				del("cn_slide_login", "; Path=/; HttpOnly; SameSite=None; Secure; Partitioned")}},
		{name: "default stamp name without a label: the first member",
			group: with(login, func(g *Group) { g.Label, g.Secure, g.SameSite = "", nil, "" }),
			req:   request{cookies: []string{"session_id=abc; user_id__insecure=42"}, status: 200},
			want: []string{"session_id=abc; Path=/" + life, "user_id__insecure=42; Path=/" + life,
				"cn_slide_session_id=" + ts(0) + "; Path=/; HttpOnly; SameSite=Lax" + life}, wantPrivate: true},
		{name: "cascade deletes the stamp too",
			group: with(login, func(g *Group) { g.OnDelete = "cascade" }),
			req:   request{cookies: []string{jar(ts(-3600))}, status: 200},
			in:    []string{"session_id=; Max-Age=0; Path=/"},
			want: []string{"session_id=; Max-Age=0; Path=/; Secure; SameSite=Lax",
				del("user_id__insecure", "; Path=/; Secure; SameSite=Lax"), stampDeleted}},
		{name: "partial expiry deletes the stamp too",
			group: with(login, func(g *Group) { g.OnPartial = "expire" }),
			req:   request{cookies: []string{"session_id=abc; cn_slide_login=" + ts(-3600)}, status: 200},
			want:  []string{del("session_id", "; Path=/; Secure; SameSite=Lax"), stampDeleted}, wantPrivate: true},
	} {
		n := testNormalizer(t, tc.group.rule())
		if err := tc.group.validate(); err != nil {
			t.Fatalf("%d %s: %v", i, tc.name, err)
		}
		req := tc.req
		got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, &req, nil)
		if !equalStrings(got, tc.want) {
			t.Errorf("%d %s:\n got  %q\n want %q", i, tc.name, clip(got), clip(tc.want))
		}
		if req.private != tc.wantPrivate {
			t.Errorf("%d %s: private = %t, want %t", i, tc.name, req.private, tc.wantPrivate)
		}
		// With scratch space kept across requests, as the pooled response
		// writer keeps it, and filled by an earlier request (its values
		// not even cleared): the same outcome.
		var scratch slideJar
		dirty := request{cookies: []string{jar(ts(-3600)) + "; cn_slide_login=" + ts(0) + "; cn_slide_session_id=1"}, status: 200, slide: &scratch}
		n.rewriteResponse([]string{"cn_slide_login=1", "cn_slide_session_id=1"}, testDate, &dirty, nil)
		reqScratch := tc.req
		reqScratch.slide = &scratch
		if got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, &reqScratch, nil); !equalStrings(got, tc.want) || reqScratch.private != tc.wantPrivate {
			t.Errorf("%d %s: with scratch space an earlier request used:\n got  %q (private %t)\n want %q", i, tc.name, clip(got), reqScratch.private, clip(tc.want))
		}
		// A second pass (a late re-rewrite) adds nothing.
		req2 := tc.req
		if again := n.rewriteResponse(append([]string(nil), got...), testDate, &req2, nil); !equalStrings(again, got) {
			t.Errorf("%d %s: second pass:\n got  %q\n want %q", i, tc.name, clip(again), clip(got))
		}
	}
}

// TestSlideReportOnly: the re-issue is computed and reported, nothing is
// appended and Cache-Control stays.
func TestSlideReportOnly(t *testing.T) {
	g := Group{Label: "login", Cookies: []string{"a", "b"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Path: "/", Slide: &SlidePolicy{Interval: 60e9}}
	n := testNormalizer(t, g.rule())
	n.reportOnly = true
	var obs recordingObserver
	req := request{cookies: []string{"a=1; b=2"}, status: 200}
	if got := n.rewriteResponse(nil, testDate, &req, &obs); len(got) != 0 || req.private {
		t.Errorf("report_only appended %q (private %t)", got, req.private)
	}
	want := []string{"a #1 reissued", "b #1 reissued", "cn_slide_login #1 stamp set"}
	if !equalStrings(obs, want) {
		t.Errorf("observed %q, want %q", obs, want)
	}
}

func TestAddPrivate(t *testing.T) {
	for i, tc := range []struct{ in, want []string }{
		{nil, []string{"private"}},
		{[]string{"max-age=60"}, []string{"max-age=60, private"}},
		{[]string{"no-cache", "max-age=0"}, []string{"no-cache", "max-age=0, private"}},
		{[]string{"Private, max-age=60"}, []string{"Private, max-age=60"}},
		// A qualified private keeps only the fields it names from shared
		// caches, which may store the rest (a re-issued Set-Cookie too).
		{[]string{`private="X-Foo", max-age=600`}, []string{`private="X-Foo", max-age=600, private`}},
		{[]string{`private="Set-Cookie, X-Foo"`}, []string{`private="Set-Cookie, X-Foo", private`}},
	} {
		if got := addPrivate(tc.in); !equalStrings(got, tc.want) {
			t.Errorf("%d: addPrivate(%q) = %q, want %q", i, tc.in, got, tc.want)
		}
	}
}

// TestParseInt64 checks the stamp's parser against strconv.ParseInt(s,
// 10, 64): the same value and the same success on the edges of int64,
// signs, leading zeros and stray bytes, and on every string of up to
// four bytes over an alphabet of the bytes that matter.
func TestParseInt64(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseInt64(s)
		if ok != (err == nil) || ok && got != want {
			t.Fatalf("parseInt64(%q) = %d, %t; strconv: %d, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{
		"", "+", "-", "0", "-0", "+0", "1764000000", "-1764000000",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"922337203685477580", "9223372036854775800", "9223372036854775810", "18446744073709551615",
		"18446744073709551616", "99999999999999999999", "00000000000000000000000001", "-000000000000000000009223372036854775808",
		"1_000", " 1", "1 ", "0x10", "+-1", "--1", "1e3", "١",
	} {
		check(s)
	}
	everyString("+-019_ ", 4, check)
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		check(strconv.FormatInt(int64(r.Uint64()), 10))
		check(strconv.FormatUint(r.Uint64(), 10))
	}
}

// TestOneClockReadingPerResponse: a response whose rewrite reads the
// proxy's clock (for its base time without a Date, or for an Expires read
// against it) and whose slide group reads it too (a stamp to judge, or a
// log-in to stamp) reads it once, so that both see the same instant.
func TestOneClockReadingPerResponse(t *testing.T) {
	g := Group{Cookies: []string{"session_id", "user_id__insecure"},
		Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 43200e9}, Path: "/", Secure: on(), SameSite: "lax", HTTPOnly: on(),
		Slide: &SlidePolicy{Interval: 600e9}}
	n := testNormalizer(t, g.rule())
	reads := 0
	n.now = func() time.Time { reads++; return testClock }
	for _, tc := range []struct {
		name, date string
		in         []string
	}{
		{"no Date, a stamp to judge", "", []string{"theme=dark; Expires=Tue, 24 Nov 2026 13:00:00 GMT"}},
		{"an Expires read against the clock, a log-in", testDate, []string{"session_id=1; Expires=Tue, 24 Nov 2026 13:00:00 GMT"}},
	} {
		reads = 0
		req := request{cookies: []string{"session_id=1; user_id__insecure=2; cn_slide_session_id=" + strconv.FormatInt(testClock.Unix()-1, 10)}, status: 200}
		n.rewriteResponse(append([]string(nil), tc.in...), tc.date, &req, nil)
		if reads != 1 {
			t.Errorf("%s: the proxy's clock was read %d times for one response, want 1", tc.name, reads)
		}
	}
}

// TestSlideNotOnHandlerErrors: a handler that returns an error having
// written nothing leaves the response to Caddy, which writes the error's
// status (a HandlerError's, else 500) or runs the error routes after the
// module has returned. The module appends nothing then, so no re-issue,
// stamp or Cache-Control goes out with the error page; the same request
// answered by a handler that returns nil gets its re-issue.
func TestSlideNotOnHandlerErrors(t *testing.T) {
	h, err := provisionJSON(t, slideConfig)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name       string
		err        error
		wantFields []string
	}{
		{"no error: the implicit 200 gets the re-issue", nil, []string{"a", "b", "cn_slide_login"}},
		{"a HandlerError (reverse_proxy's 502)", caddyhttp.Error(http.StatusBadGateway, errors.New("dial")), nil},
		{"a HandlerError (the error directive's 500)", caddyhttp.Error(http.StatusInternalServerError, nil), nil},
		{"a HandlerError without a status (Caddy writes 500)", caddyhttp.HandlerError{Err: errors.New("x")}, nil},
		{"a plain error (Caddy writes 500)", errors.New("x"), nil},
		{"a wrapped HandlerError", fmt.Errorf("route: %w", caddyhttp.Error(http.StatusNotFound, nil)), nil},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/page", nil)
		req.Header.Set("Cookie", "a=1; b=2")
		rec := httptest.NewRecorder()
		next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return tc.err })
		if got := h.ServeHTTP(rec, req, next); got != tc.err {
			t.Errorf("%d %s: ServeHTTP returned %v, want the handler's %v", i, tc.name, got, tc.err)
		}
		if got := fieldNames(rec.Header().Values("Set-Cookie")); !equalStrings(got, tc.wantFields) {
			t.Errorf("%d %s: Set-Cookie for %q, want %q", i, tc.name, got, tc.wantFields)
		}
		wantPrivate := []string(nil)
		if tc.wantFields != nil {
			wantPrivate = []string{"private"}
		}
		if got := rec.Header().Values("Cache-Control"); !equalStrings(got, wantPrivate) {
			t.Errorf("%d %s: Cache-Control %q, want %q", i, tc.name, got, wantPrivate)
		}
	}
}

// TestHandlerErrorAppendsNothing: a handler that returns an error without
// sending, on a server with error routes, leaves the response to them
// (they may have a cookie_normalizer of their own). The fields already in
// the header map get the policies, trailers included; nothing is
// appended, whatever the request's jar, and Cache-Control is left alone,
// also after a hijack that failed. Without error routes Caddy writes the
// bare status with the header map as it stands, and the consistency rules
// apply to it.
func TestHandlerErrorAppendsNothing(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"secure":true,"on_partial":"expire","on_delete":"cascade"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	withRoutes := &caddyhttp.Server{Errors: &caddyhttp.HTTPErrorConfig{Routes: caddyhttp.RouteList{{}}}}
	partialDel := del("session_id", "; Path=/; Secure")
	for i, tc := range []struct {
		name              string
		server            *caddyhttp.Server
		hijack            bool
		fields, trailers  []string
		want, wantTrailer []string
		wantCacheControl  []string
	}{
		{"error routes, a half jar, no fields: nothing appended", withRoutes, false, nil, nil, nil, nil, nil},
		{"error routes, a hijack that failed first: nothing appended", withRoutes, true, nil, nil, nil, nil, nil},
		{"error routes, a field and a trailer in the map: the policies, nothing appended", withRoutes, false,
			[]string{"session_id=; Max-Age=0; Path=/"}, []string{"theme=dark", "user_id__insecure=42"},
			[]string{"session_id=; Max-Age=0; Path=/; Secure"}, []string{"theme=dark", "user_id__insecure=42; Secure"}, nil},
		{"no error routes, a half jar: the bare status gets the partial expiry", &caddyhttp.Server{}, false,
			nil, nil, []string{partialDel}, nil, []string{"private"}},
		{"no server in the context: as without error routes", nil, false,
			nil, nil, []string{partialDel}, nil, []string{"private"}},
		{"no error routes, a log-out in the map: it cascades", &caddyhttp.Server{}, false,
			[]string{"session_id=; Max-Age=0; Path=/"}, nil,
			[]string{"session_id=; Max-Age=0; Path=/; Secure", del("user_id__insecure", "; Path=/; Secure")}, nil, nil},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/page", nil)
		if tc.server != nil {
			req = req.WithContext(context.WithValue(req.Context(), caddyhttp.ServerCtxKey, tc.server))
		}
		req.Header.Set("Cookie", "session_id=abc")
		rec := httptest.NewRecorder()
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			w.Header()["Set-Cookie"] = append([]string(nil), tc.fields...)
			if tc.trailers != nil {
				w.Header()[http.TrailerPrefix+"Set-Cookie"] = append([]string(nil), tc.trailers...)
			}
			if tc.hijack {
				if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
					t.Fatal("the recorder hijacked")
				}
			}
			return caddyhttp.Error(http.StatusBadGateway, errors.New("dial"))
		})
		if err := h.ServeHTTP(rec, req, next); err == nil {
			t.Fatalf("%d %s: the handler's error was not returned", i, tc.name)
		}
		if got := rec.Header()["Set-Cookie"]; !equalStrings(got, tc.want) {
			t.Errorf("%d %s: Set-Cookie %q, want %q", i, tc.name, got, tc.want)
		}
		if got := rec.Header()[http.TrailerPrefix+"Set-Cookie"]; !equalStrings(got, tc.wantTrailer) {
			t.Errorf("%d %s: trailer Set-Cookie %q, want %q", i, tc.name, got, tc.wantTrailer)
		}
		if got := rec.Header()["Cache-Control"]; !equalStrings(got, tc.wantCacheControl) {
			t.Errorf("%d %s: Cache-Control %q, want %q", i, tc.name, got, tc.wantCacheControl)
		}
	}
}

// TestErrorStatus: the status Caddy's server writes for a handler's
// error when no error route writes one.
func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{caddyhttp.Error(http.StatusBadGateway, nil), http.StatusBadGateway},
		{fmt.Errorf("wrapped: %w", caddyhttp.Error(http.StatusNotFound, nil)), http.StatusNotFound},
		{caddyhttp.HandlerError{}, http.StatusInternalServerError},
		{errors.New("x"), http.StatusInternalServerError},
	} {
		if got := errorStatus(tc.err); got != tc.want {
			t.Errorf("errorStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestSlideNotInErrorRoutes: an error route reads the Cookie header as
// the failed route's handlers left it (Caddy does not restore request
// headers), so a module there re-issues nothing: a value edited for the
// upstream must not be written back into the browser. The same request
// outside an error route gets its re-issue.
func TestSlideNotInErrorRoutes(t *testing.T) {
	h, err := provisionJSON(t, slideConfig)
	if err != nil {
		t.Fatal(err)
	}
	for i, inError := range []bool{false, true} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/page", nil)
		if inError {
			req = req.WithContext(context.WithValue(req.Context(), caddyhttp.ErrorCtxKey, errors.New("dial")))
		}
		req.Header.Set("Cookie", "a=internal-1; b=2")
		rec := httptest.NewRecorder()
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			_, err := io.WriteString(w, "backup page")
			return err
		})
		if err := h.ServeHTTP(rec, req, next); err != nil {
			t.Fatal(err)
		}
		want := []string{"a", "b", "cn_slide_login"}
		if inError {
			want = nil
		}
		if got := fieldNames(rec.Header().Values("Set-Cookie")); !equalStrings(got, want) {
			t.Errorf("%d in an error route %t: Set-Cookie for %q, want %q", i, inError, got, want)
		}
	}
}

// TestSlideReissueLeadsLike: a leader that slide re-issues is the last
// field of its name, the one the browser keeps, so its `expire like`
// followers take its lifetime, as they would from a leader the app sent;
// the followers it changes count once more, as rewritten, and no other
// field counts again.
func TestSlideReissueLeadsLike(t *testing.T) {
	login := Group{Label: "login", Cookies: []string{"sid"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Path: "/", Domain: "remove", Slide: &SlidePolicy{Interval: 60e9}}
	if err := login.validate(); err != nil {
		t.Fatal(err)
	}
	n := testNormalizer(t, login.rule(), like("sid", "pref"), like("absent", "theme"))
	const life = "; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"
	stamp := "cn_slide_login=" + strconv.FormatInt(testClock.Unix(), 10) + "; Path=/; HttpOnly; SameSite=Lax" + life
	for _, tc := range []struct {
		name    string
		cookies string
		in      []string
		want    []string
		obs     []string
	}{
		{name: "re-issued leader", cookies: "sid=abc", in: []string{"pref=dark; Max-Age=60", "theme=1"},
			want: []string{"pref=dark" + life, "theme=1", "sid=abc; Path=/" + life, stamp},
			obs:  []string{"pref #2 unchanged", "theme #3 unchanged", "sid #1 reissued", "cn_slide_login #1 stamp set", "pref #2 rewritten"}},
		{name: "fresh stamp: no re-issue, no leader", cookies: "sid=abc; cn_slide_login=" + strconv.FormatInt(testClock.Unix(), 10),
			in: []string{"pref=dark; Max-Age=60"}, want: []string{"pref=dark; Max-Age=60"},
			obs: []string{"pref #2 unchanged"}},
		{name: "the app's own leader", cookies: "sid=abc", in: []string{"pref=dark; Max-Age=60", "sid=abc; Path=/"},
			want: []string{"pref=dark" + life, "sid=abc; Path=/" + life, stamp},
			obs:  []string{"sid #1 rewritten", "pref #2 rewritten", "cn_slide_login #1 stamp set"}},
	} {
		var obs recordingObserver
		req := request{cookies: []string{tc.cookies}, status: 200}
		got := n.rewriteResponse(append([]string(nil), tc.in...), testDate, &req, &obs)
		if !equalStrings(got, tc.want) {
			t.Errorf("%s:\n got  %q\n want %q", tc.name, got, tc.want)
		}
		if !equalStrings(obs, tc.obs) {
			t.Errorf("%s: observed %q, want %q", tc.name, obs, tc.obs)
		}
		req2 := request{cookies: []string{tc.cookies}, status: 200}
		if again := n.rewriteResponse(append([]string(nil), got...), testDate, &req2, nil); !equalStrings(again, got) {
			t.Errorf("%s: second pass:\n got  %q\n want %q", tc.name, again, got)
		}
	}
}

// TestSlideNotBesideClearSiteData: a response whose Clear-Site-Data clears
// cookies is a log-out that names no cookie; a browser may store fields
// set beside it before it clears the site's cookies or after, so nothing
// is re-issued there. Read leniently: any case, quoted or not, in any of
// several fields.
func TestSlideNotBesideClearSiteData(t *testing.T) {
	login := Group{Label: "login", Cookies: []string{"sid"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Path: "/", Domain: "remove", Slide: &SlidePolicy{Interval: 60e9}}
	if err := login.validate(); err != nil {
		t.Fatal(err)
	}
	n := testNormalizer(t, login.rule())
	const life = "; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"
	reissued := []string{"sid=abc; Path=/" + life,
		"cn_slide_login=" + strconv.FormatInt(testClock.Unix(), 10) + "; Path=/; HttpOnly; SameSite=Lax" + life}
	for _, tc := range []struct {
		clear []string
		want  []string
	}{
		{nil, reissued},
		{[]string{`"cookies"`}, nil},
		{[]string{`"cache", "cookies", "storage"`}, nil},
		{[]string{`"*"`}, nil},
		{[]string{`"cache"`, `"Cookies"`}, nil},
		{[]string{`cookies`}, nil},
		{[]string{`"cache", "storage"`}, reissued},
		{[]string{`"executionContexts"`}, reissued},
		{[]string{`"cookiesx"`}, reissued},
	} {
		hdr := http.Header{}
		if tc.clear != nil {
			hdr["Clear-Site-Data"] = tc.clear
		}
		req := request{cookies: []string{"sid=abc"}, status: 200, header: hdr}
		got := n.rewriteResponse(nil, testDate, &req, nil)
		if !equalStrings(got, tc.want) || req.private != (tc.want != nil) {
			t.Errorf("Clear-Site-Data %q: got %q (private %t), want %q", tc.clear, got, req.private, tc.want)
		}
	}
}

// slideLoginAlone is the one-member slide group of TestSlideReissueLeadsLike.
func slideLoginAlone(t *testing.T) (*normalizer, string) {
	t.Helper()
	login := Group{Label: "login", Cookies: []string{"sid"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Path: "/", Domain: "remove", Slide: &SlidePolicy{Interval: 60e9}}
	if err := login.validate(); err != nil {
		t.Fatal(err)
	}
	stamp := "cn_slide_login=" + strconv.FormatInt(testClock.Unix(), 10) + "; Path=/; HttpOnly; SameSite=Lax" + slideHourLife
	return testNormalizer(t, login.rule()), stamp
}

// slideHourLife is the lifetime slideLoginAlone gives, from the tests' Date.
const slideHourLife = "; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"

// TestReleadCountsNoEditSkipped: the second `like` pass over what
// slide appended (relead) counts only the followers it rewrites; an
// attribute edit left out was counted by the first pass, and is not
// counted again.
func TestReleadCountsNoEditSkipped(t *testing.T) {
	login := Group{Label: "login", Cookies: []string{"sid"}, Expire: &ExpiryPolicy{Mode: modeFixed, Duration: 3600e9},
		Path: "/", Domain: "remove", Slide: &SlidePolicy{Interval: 60e9}}
	if err := login.validate(); err != nil {
		t.Fatal(err)
	}
	follower := Group{Cookies: []string{"__Host-pref"}, Expire: &ExpiryPolicy{Mode: modeLike, Like: "sid"}, Path: "/app"}
	n := testNormalizer(t, login.rule(), attrRule(follower))
	const life = "; Expires=Tue, 24 Nov 2026 13:00:00 GMT; Max-Age=3600"
	stamp := "cn_slide_login=" + strconv.FormatInt(testClock.Unix(), 10) + "; Path=/; HttpOnly; SameSite=Lax" + life
	var obs recordingObserver
	req := request{cookies: []string{"sid=abc"}, status: 200}
	got := n.rewriteResponse([]string{"__Host-pref=dark; Secure; Path=/; Max-Age=60"}, testDate, &req, &obs)
	want := []string{"__Host-pref=dark; Secure; Path=/" + life, "sid=abc; Path=/" + life, stamp}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	wantObs := []string{"__Host-pref #2 unchanged", "__Host-pref #2 edit skipped", "sid #1 reissued", "cn_slide_login #1 stamp set", "__Host-pref #2 rewritten"}
	if !slices.Equal(obs, wantObs) {
		t.Errorf("observed %q\nwant     %q", obs, wantObs)
	}
}

// TestSlideClearSiteDataWithEquals: a Clear-Site-Data item with '='
// is not the "cookies" type (nor "*"): the re-issue goes ahead.
func TestSlideClearSiteDataWithEquals(t *testing.T) {
	n, stamp := slideLoginAlone(t)
	for _, clear := range []string{`cookies=1`, `*=x`} {
		req := request{cookies: []string{"sid=abc"}, status: 200, header: http.Header{"Clear-Site-Data": {clear}}}
		got := n.rewriteResponse(nil, testDate, &req, nil)
		if want := []string{"sid=abc; Path=/" + slideHourLife, stamp}; !slices.Equal(got, want) {
			t.Errorf("Clear-Site-Data %q: got %q, want %q", clear, got, want)
		}
	}
}

// TestSlideValueAtBrowserLimit: a member whose name and value are
// exactly maxNameValueLen bytes is one browsers store, and is re-issued;
// one byte more and nothing is.
func TestSlideValueAtBrowserLimit(t *testing.T) {
	n, stamp := slideLoginAlone(t)
	value := strings.Repeat("v", maxNameValueLen-len("sid"))
	req := request{cookies: []string{"sid=" + value}, status: 200}
	got := n.rewriteResponse(nil, testDate, &req, nil)
	if want := []string{"sid=" + value + "; Path=/" + slideHourLife, stamp}; !slices.Equal(got, want) {
		t.Errorf("at the limit: got %d fields, want the re-issue and the stamp", len(got))
	}
	req = request{cookies: []string{"sid=" + value + "v"}, status: 200}
	if got := n.rewriteResponse(nil, testDate, &req, nil); len(got) != 0 {
		t.Errorf("over the limit: got %d fields, want none", len(got))
	}
}

// TestSlideNotUnderTargetedNoStoreRemote: no-store-remote forbids
// storing only in Surrogate-Control; a CDN-Cache-Control field with it
// still lets that cache store the response, so nothing is re-issued.
func TestSlideNotUnderTargetedNoStoreRemote(t *testing.T) {
	n, stamp := slideLoginAlone(t)
	for _, tc := range []struct {
		header string
		want   []string
	}{
		{"CDN-Cache-Control", nil},
		{"Surrogate-Control", []string{"sid=abc; Path=/" + slideHourLife, stamp}},
	} {
		req := request{cookies: []string{"sid=abc"}, status: 200, header: http.Header{http.CanonicalHeaderKey(tc.header): {"no-store-remote"}}}
		if got := n.rewriteResponse(nil, testDate, &req, nil); !slices.Equal(got, tc.want) {
			t.Errorf("%s: no-store-remote: got %q, want %q", tc.header, got, tc.want)
		}
	}
}
