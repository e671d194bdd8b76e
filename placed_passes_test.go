package cookienormalizer

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	zapobserver "go.uber.org/zap/zaptest/observer"
)

// These tests cover placed deletions and the cascade after fields the
// engines read apart, on the writer's other paths: a second final pass
// (a field added between WriteHeader and the first body byte), nested
// handlers, report_only, recovered logger panics, failed flushes and
// hijacks, no request, and the allocation rule. (A review found the
// second pass and nesting cases.)

const placedConfig = `{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/","on_delete":"cascade"}]}`

// placedServe serves one HTTPS request for /app/page carrying both
// members through a handler for the placed cascade group: the app adds
// early before WriteHeader, late after it and before the first body
// byte (a second final pass). It returns the response's Set-Cookie
// fields and the non-"unchanged" log lines (cookie action).
func placedServe(t *testing.T, reportOnly bool, early, late []string) ([]string, []string) {
	t.Helper()
	return placedServeWith(t, placedConfig, reportOnly, passesApp(early, late))
}

// placedMemberFields drops the fields of names other than the members.
func placedMemberFields(fields []string) []string {
	var out []string
	for _, f := range fields {
		if n, _ := cookieName(f); n == "session_id" || n == "user_id__insecure" {
			out = append(out, f)
		}
	}
	return out
}

// TestPlacedSecondPassKeepsUnreachedSplit: the app's log-out that
// WebKitGTK reads as a set at a Path over 1024 bytes (before the tab) and
// Chromium/Firefox as a deletion. In one pass the module places a
// deletion at / and does NOT cascade (splitUnreached: WebKitGTK would keep
// session_id alone). When an unrelated field is added between WriteHeader
// and the first body byte, the second final pass must decide the same:
// the placed deletion, then the member's last field, leaves the member
// as the first pass found it (it read as a plain deletion, and the
// cascade deleted user_id__insecure).
func TestPlacedSecondPassKeepsUnreachedSplit(t *testing.T) {
	split := "session_id=v; Path=/" + strings.Repeat("p", 1100) + "; Max-Age=60\t; Max-Age=0"
	one, _ := placedServe(t, false, []string{split, "theme=dark"}, nil)
	two, _ := placedServe(t, false, []string{split}, []string{"theme=dark"})
	if !slices.Equal(placedMemberFields(one), placedMemberFields(two)) {
		t.Errorf("one pass:\n %.120q\ntwo passes (a field added before the first body byte):\n %.120q", placedMemberFields(one), placedMemberFields(two))
	}
}

// TestPlacedSecondPassKeeperDeletion: the log-out that libsoup reads
// as a deletion and Chromium/Firefox as Max-Age=3600 at /app, with the
// other member set and then deleted by a field the handler adds after
// WriteHeader. In one pass the cascade deletes session_id at /app, where
// Chromium and Firefox store it; over two passes too (the second pass
// read the placed deletion as session_id's last field, a plain deletion,
// and appended none at /app: Chromium and Firefox kept session_id alone).
func TestPlacedSecondPassKeeperDeletion(t *testing.T) {
	split := "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"
	set, unset := "user_id__insecure=42; Path=/", "user_id__insecure=; Max-Age=0; Path=/"
	one, _ := placedServe(t, false, []string{split, set, unset}, nil)
	two, _ := placedServe(t, false, []string{split, set}, []string{unset})
	want := placedCascadeDeletion("session_id", "; Path=/app")
	if !slices.Contains(one, want) {
		t.Fatalf("one pass: %q, want %q among them", one, want)
	}
	if !slices.Contains(two, want) {
		t.Errorf("two passes: %q, want %q among them (one pass: %q)", two, want, one)
	}
}

// TestPlacedReportOnlyTwoPasses: report_only logs what the applied
// handler does, over two final passes, for the two scenarios above.
func TestPlacedReportOnlyTwoPasses(t *testing.T) {
	long := "session_id=v; Path=/" + strings.Repeat("p", 1100) + "; Max-Age=60\t; Max-Age=0"
	split := "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"
	for _, tc := range []struct{ early, late []string }{
		{[]string{long}, []string{"theme=dark"}},
		{[]string{split, "user_id__insecure=42; Path=/"}, []string{"user_id__insecure=; Max-Age=0; Path=/"}},
	} {
		_, applied := placedServe(t, false, tc.early, tc.late)
		_, reported := placedServe(t, true, tc.early, tc.late)
		if !slices.Equal(applied, reported) {
			t.Errorf("%.60q then %q:\napplied logged  %q\nreport_only     %q", tc.early, tc.late, applied, reported)
		}
	}
}

// placedNested serves a request for /app/page carrying x=1 through an
// outer handler whose partial expiry appends x's deletion at WriteHeader
// (so the inner writer records that a writer above changed the list),
// around an inner handler with a path policy for session_id (no
// consistency rules); the app adds field after WriteHeader and before
// the first body byte. withOuter false serves the inner handler alone.
func placedNested(t *testing.T, withOuter bool, field string) []string {
	t.Helper()
	inner, err := provisionJSON(t, `{"groups":[{"cookies":["session_id"],"path":"/"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := provisionJSON(t, `{"groups":[{"cookies":["x","y"],"on_partial":"expire"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	app := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.WriteHeader(http.StatusOK)
		w.Header().Add("Set-Cookie", field)
		_, err := io.WriteString(w, "page")
		return err
	})
	innerH := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return inner.ServeHTTP(w, r, app)
	})
	req := httptest.NewRequest(http.MethodGet, "https://example.com/app/page", nil)
	req.Header.Set("Cookie", "x=1")
	rec := httptest.NewRecorder()
	if withOuter {
		err = outer.ServeHTTP(rec, req, innerH)
	} else {
		err = innerH(rec, req)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec.Header()["Set-Cookie"]
}

// TestPlacedNestedAddedSplit: a split log-out added after
// WriteHeader gets its placed deletion from the inner handler alone, and
// also when an outer cookie_normalizer changed the list at WriteHeader
// (rewriteAdded took it for a field no rule reads across, and appended
// nothing: see readsAcross).
func TestPlacedNestedAddedSplit(t *testing.T) {
	split := "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"
	want := placedCascadeDeletion("session_id", "; Path=/")
	alone := placedNested(t, false, split)
	if !slices.Contains(alone, want) {
		t.Fatalf("inner alone: %q, want %q among them", alone, want)
	}
	if nested := placedNested(t, true, split); !slices.Contains(nested, want) {
		t.Errorf("inside an outer cookie_normalizer: %q, want %q among them (alone: %q)", nested, want, alone)
	}
}

// placedServeWith serves one HTTPS request for /app/page carrying both
// members through a handler for config (report_only as said), the app
// being app; it returns the Set-Cookie fields and the non-"unchanged"
// log lines.
func placedServeWith(t *testing.T, config string, reportOnly bool, app caddyhttp.HandlerFunc) ([]string, []string) {
	t.Helper()
	if reportOnly {
		config = strings.TrimSuffix(config, "}") + `,"report_only":true}`
	}
	h, err := provisionJSON(t, config)
	if err != nil {
		t.Fatal(err)
	}
	h.norm.now = func() time.Time { return testClock }
	core, logs := zapobserver.New(zapcore.DebugLevel)
	h.setLogger(zap.New(core))
	req := httptest.NewRequest(http.MethodGet, "https://example.com/app/page", nil)
	req.Header.Set("Cookie", "session_id=a; user_id__insecure=42")
	rec := httptest.NewRecorder()
	if err := h.ServeHTTP(rec, req, app); err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range logs.All() {
		if a := e.ContextMap()["action"]; a != "unchanged" {
			acts = append(acts, fmt.Sprintf("%v %v", e.ContextMap()["cookie"], a))
		}
	}
	return rec.Header()["Set-Cookie"], acts
}

// TestPlacedRecoveredLogPanic: the logger's core panics at
// each line of a final rewrite that places a deletion (and cascades);
// the handler recovers and answers: what is sent must be what is sent
// without a panic.
func TestPlacedRecoveredLogPanic(t *testing.T) {
	panics := 0
	defer func() {
		if panics < 10 {
			t.Errorf("only %d panics", panics)
		}
	}()
	for _, config := range []string{
		`{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/","on_delete":"cascade"}]}`,
		`{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/"}]}`,
		`{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/","on_delete":"cascade"}],"report_only":true}`,
	} {
		for _, fields := range [][]string{
			{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"},
			{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/app", "user_id__insecure=; Max-Age=0; Path=/"},
			{"session_id=x; Max-Age=60\t; Max-Age=0; Path=/app", "theme=1"},
		} {
			for _, late := range []string{"", "theme=dark"} {
				write := func(w http.ResponseWriter, recov bool) (bool, error) {
					w.Header()["Set-Cookie"] = slices.Clone(fields)
					if recov {
						if recoverWriteHeader(w, http.StatusOK) == nil {
							return false, nil
						}
					}
					w.WriteHeader(http.StatusOK)
					if late != "" {
						w.Header().Add("Set-Cookie", late)
					}
					_, err := io.WriteString(w, "page")
					return true, err
				}
				want := serveWithLogPanic(t, config, "session_id=a; user_id__insecure=42", 0, func(w http.ResponseWriter) error {
					_, err := write(w, false)
					return err
				})
				for panicAt := 1; panicAt <= 8; panicAt++ {
					got := serveWithLogPanic(t, config, "session_id=a; user_id__insecure=42", panicAt, func(w http.ResponseWriter) error {
						_, err := write(w, true)
						return err
					})
					if got.logPanicked {
						panics++
					}
					if got.logPanicked && !slices.Equal(got.events, want.events) {
						t.Errorf("%s %q late %q: panic at line %d: %s", config, fields, late, panicAt, want.diff(got))
					}
				}
			}
		}
	}
}

// TestPlacedWithoutRequest: the rewrite with no request (req nil) or
// a request with no *http.Request (from nil) must not panic for placed
// split deletions, their cascades, slide and partial rules, applied or
// report_only.
func TestPlacedWithoutRequest(t *testing.T) {
	groups := []Group{
		{Cookies: []string{"session_id", "user_id__insecure"}, Path: "/", OnDelete: "cascade"},
		{Cookies: []string{"session_id", "user_id__insecure"}, Path: "/", OnDelete: "cascade", OnPartial: "expire"},
		{Cookies: []string{"session_id", "user_id__insecure"}, Domain: "example.com", OnDelete: "cascade"},
	}
	for _, g := range groups {
		for _, in := range [][]string{
			{"session_id=; Max-Age=0\t; Max-Age=3600"},
			{"session_id=x; Max-Age=60\t; Max-Age=0"},
			{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"},
			{"session_id=x; Max-Age=60\t; Max-Age=0; Path=/x", "user_id__insecure=; Max-Age=0"},
		} {
			for _, reportOnly := range []bool{false, true} {
				for _, req := range []*request{nil, {}, {https: true}} {
					n := testNormalizer(t, g.rule())
					n.reportOnly = reportOnly
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Errorf("%+v %q report_only %t req %+v: panic %v", g, in, reportOnly, req, r)
							}
						}()
						n.rewriteResponse(slices.Clone(in), testDate, perResponse(req), &recordingObserver{})
					}()
				}
			}
		}
	}
}

// TestPlacedAfterFailedFlushOrHijack: a flush or hijack that fails
// before the status takes back its rewrite; the final rewrite then
// places the deletion (and cascades) once, as without the failed call,
// applied or report_only.
func TestPlacedAfterFailedFlushOrHijack(t *testing.T) {
	for _, config := range []string{
		`{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/","on_delete":"cascade"}]}`,
		`{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/","on_delete":"cascade"}],"report_only":true}`,
	} {
		for _, fields := range [][]string{
			{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"},
			{"session_id=x; Max-Age=60\t; Max-Age=0; Path=/app", "user_id__insecure=; Max-Age=0; Path=/"},
		} {
			plain := func(w http.ResponseWriter) error {
				w.Header()["Set-Cookie"] = slices.Clone(fields)
				w.WriteHeader(http.StatusOK)
				_, err := io.WriteString(w, "page")
				return err
			}
			want := serveWithLogPanicOn(t, histEarly, true, config, "session_id=a; user_id__insecure=42", 0, nil, plain)
			for _, fail := range []func(w http.ResponseWriter){
				func(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() },
				func(w http.ResponseWriter) { _, _, _ = http.NewResponseController(w).Hijack() },
			} {
				got := serveWithLogPanicOn(t, histEarly, true, config, "session_id=a; user_id__insecure=42", 0, nil, func(w http.ResponseWriter) error {
					w.Header()["Set-Cookie"] = slices.Clone(fields)
					fail(w)
					fail(w)
					w.WriteHeader(http.StatusOK)
					_, err := io.WriteString(w, "page")
					return err
				})
				if !slices.Equal(got.events, want.events) {
					t.Errorf("%s %q: %s", config, fields, want.diff(got))
				}
			}
		}
	}
}

// TestPlacedReleadKeepsKeeperDeletion: in a single pass, a cascading
// `expire like` group with a path policy: relead runs the `like` passes
// again over the fields the cascade appended, and must leave the
// cascade's deletion at the keepers' place (written without the
// policies) where it is.
func TestPlacedReleadKeepsKeeperDeletion(t *testing.T) {
	const config = `{"groups":[{"cookies":["lead"],"expire":{"mode":"fixed","duration":3600000000000}},{"cookies":["session_id","user_id__insecure"],"expire":{"mode":"like","like":"lead"},"path":"/","on_delete":"cascade"}]}`
	split := "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"
	keeper := placedCascadeDeletion("session_id", "; Path=/app")
	out, logs := placedServeWith(t, config, false, func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Add("Set-Cookie", split)
		_, err := io.WriteString(w, "page")
		return err
	})
	if !slices.Contains(out, keeper) {
		t.Errorf("one pass: %q (logged %q), want %q among them", out, logs, keeper)
	}
}

// TestPlacedApartHostOnlyDomain: on a host that is an IP address or one
// label, Chromium and Firefox store a cookie whose Domain is the host as
// a host-only one (WebKitGTK as a Domain cookie): a deletion placed with
// Domain=localhost would be the cookie Chromium and Firefox keep from the
// app's field, which they read as Max-Age=3600. Nothing may be placed.
func TestPlacedApartHostOnlyDomain(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1"} {
		n := testNormalizer(t, attrRule(Group{Cookies: []string{"a"}, Domain: host}))
		in := []string{"a=v; Max-Age=0\t; Max-Age=3600"}
		req := &request{from: requestFor("/login"), host: host}
		got := n.rewriteResponse(append([]string(nil), in...), testDate, req, nil)
		if added := got[len(in):]; len(added) != 0 {
			t.Errorf("host %s: appended %q after %q: Chromium and Firefox store the app's a=v host-only at /, and read Domain=%s on this host as host-only: the deletion deletes the cookie they keep", host, added, in[0], host)
		}
	}
}

// TestPlacedLaterPassNoCascadeUnreached: a log-out Chromium and Firefox
// read as a set at a place no deletion can be written for (a tab inside
// its Path), or WebKitGTK under a Path over 1024 bytes: the module places
// its deletion at the policy's place and does not cascade (an engine
// would keep session_id alone), also when a field added before the first
// body byte makes the final rewrite run again.
func TestPlacedLaterPassNoCascadeUnreached(t *testing.T) {
	h, err := provisionJSON(t, `{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/","on_delete":"cascade"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		logout string
		late   bool
	}{
		{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/ap\tp", false},
		{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/ap\tp", true},
		// TestCascadeAfterPlacedSplitDeletion's "a long Path libsoup
		// reads": WebKitGTK keeps it under a Path no deletion reaches.
		{"session_id=v; Path=/" + strings.Repeat("p", 1100) + "; Max-Age=60\t; Max-Age=0", false},
		{"session_id=v; Path=/" + strings.Repeat("p", 1100) + "; Max-Age=60\t; Max-Age=0", true},
	} {
		logout, late := tc.logout, tc.late
		req := httptest.NewRequest(http.MethodGet, "http://example.com/app/logout", nil)
		req.Header.Set("Cookie", "session_id=a; user_id__insecure=42")
		rec := httptest.NewRecorder()
		next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
			w.Header().Add("Set-Cookie", logout)
			w.WriteHeader(http.StatusOK)
			if late {
				w.Header().Add("Set-Cookie", "theme=dark")
			}
			_, err := io.WriteString(w, "bye")
			return err
		})
		if err := h.ServeHTTP(rec, req, next); err != nil {
			t.Fatal(err)
		}
		got := rec.Header()["Set-Cookie"]
		for _, v := range got {
			if strings.HasPrefix(v, "user_id__insecure=") {
				t.Errorf("late field %v: Set-Cookie %.300q: user_id__insecure deleted, while an engine keeps session_id where no deletion reaches it (no cascade without the late field)", late, got)
			}
		}
	}
}

// TestPlacedLaterPassKeepsKeeperDeletion: the cascade's deletion of a
// member where the engines that keep its field store it (written at a
// place the policies do not give) stays there on a later pass over the
// same response: a field added before the first body byte, or over
// HTTP/3 one added after it. Moved to the policy's place, Chromium and
// Firefox kept session_id at /app alone while the cascade deleted
// user_id__insecure.
func TestPlacedLaterPassKeepsKeeperDeletion(t *testing.T) {
	split := "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app"
	keeper := placedCascadeDeletion("session_id", "; Path=/app")
	one, _ := placedServe(t, false, []string{split, "theme=dark"}, nil)
	if !slices.Contains(one, keeper) {
		t.Fatalf("one pass: %q, want %q among them", one, keeper)
	}
	two, _ := placedServe(t, false, []string{split}, []string{"theme=dark"})
	if !slices.Contains(two, keeper) {
		t.Errorf("a field added before the first body byte: %q, want %q among them (one pass: %q)", two, keeper, one)
	}
	late := placedServeHTTP3(t, []string{split}, []string{"theme=dark"})
	if !slices.Contains(late, keeper) {
		t.Errorf("HTTP/3, a field added after the first body byte: %q, want %q among them", late, keeper)
	}
}

// placedServeHTTP3 is placedServe over HTTP/3, the fields late added
// after the first body byte (quic-go writes the header map later).
func placedServeHTTP3(t *testing.T, early, late []string) []string {
	t.Helper()
	h, err := provisionJSON(t, placedConfig)
	if err != nil {
		t.Fatal(err)
	}
	h.norm.now = func() time.Time { return testClock }
	req := httptest.NewRequest(http.MethodGet, "https://example.com/app/page", nil)
	req.Header.Set("Cookie", "session_id=a; user_id__insecure=42")
	req.ProtoMajor = 3
	rec := httptest.NewRecorder()
	err = h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Date", testClock.UTC().Format(http.TimeFormat))
		for _, f := range early {
			w.Header().Add("Set-Cookie", f)
		}
		if _, err := io.WriteString(w, "page"); err != nil {
			return err
		}
		for _, f := range late {
			w.Header().Add("Set-Cookie", f)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return rec.Header()["Set-Cookie"]
}

// TestPlacedReportOnlyReplacedList: the handler replaces its Set-Cookie
// list between WriteHeader and the first body byte with a new split
// log-out (at another Path). Applied, the second pass places a deletion
// after it and counts it; report_only counts it too (it took the new
// list's first field for one it had read: its count of fields read is a
// position in the list it read, which the handler replaced).
func TestPlacedReportOnlyReplacedList(t *testing.T) {
	const config = `{"groups":[{"cookies":["session_id","user_id__insecure"],"path":"/"}]}`
	app := func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Add("Set-Cookie", "session_id=; Max-Age=0\t; Max-Age=3600; Path=/app")
		w.WriteHeader(http.StatusOK)
		w.Header()["Set-Cookie"] = []string{"session_id=; Max-Age=0\t; Max-Age=3600; Path=/other"}
		_, err := io.WriteString(w, "page")
		return err
	}
	out, applied := placedServeWith(t, config, false, app)
	_, reported := placedServeWith(t, config, true, app)
	if !slices.Equal(applied, reported) {
		t.Errorf("applied sent %q and logged %q\nreport_only logged %q", out, applied, reported)
	}
}

// passesApp is an app handler for placedServeWith: early fields before
// WriteHeader, late ones after it and before the first body byte (the
// writer then runs its final rewrite a second time).
func passesApp(early, late []string) func(w http.ResponseWriter, _ *http.Request) error {
	return func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Date", testClock.UTC().Format(http.TimeFormat))
		for _, f := range early {
			w.Header().Add("Set-Cookie", f)
		}
		if len(late) > 0 {
			w.WriteHeader(http.StatusOK)
			for _, f := range late {
				w.Header().Add("Set-Cookie", f)
			}
		}
		_, err := io.WriteString(w, "page")
		return err
	}
}
