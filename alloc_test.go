//go:build !race

package cookienormalizer

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The allocation assertions. They are not built under the race detector,
// where sync.Pool drops objects on purpose and allocation counts of pooled
// paths mean nothing; CI runs them in a run without -race.
//
// The responses that must cost nothing: no Set-Cookie at all,
// fields that no group matches, and fields the rewrite leaves as they are
// (deletions, already normalized values). These are counts, not timings,
// so they are exact and safe in unit tests; the timings are in the
// benchmarks.

func TestRewriteAllocsZero(t *testing.T) {
	h := benchHandler(t, benchPyPICaddyfile)
	normalized := append([]string(nil), benchPyPIValues...)
	h.norm.rewrite(normalized, benchDate, nil, nil)
	for i, tc := range []struct {
		name   string
		values []string
	}{
		{"no Set-Cookie", nil},
		{"unmatched", benchUnmatchedValues(3)},
		{"not cookies", []string{"", "no-equals-sign; Path=/", "=nameless; Path=/"}},
		{"deletions", []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=x; expires=Thu, 01-Jan-1970 00:00:01 GMT; Path=/"}},
		{"already normalized", normalized},
	} {
		values := make([]string, len(tc.values))
		got := testing.AllocsPerRun(100, func() {
			copy(values, tc.values)
			h.norm.rewrite(values, benchDate, h, nil)
		})
		if got != 0 {
			t.Errorf("%d (%s): rewrite(%q) allocates %v times per run, want 0", i, tc.name, tc.values, got)
		}
	}
}

// TestRewriteAllocsPyPI holds the PyPI response to its budget: one string
// per rewritten field, two in all.
func TestRewriteAllocsPyPI(t *testing.T) {
	h := benchHandler(t, benchPyPICaddyfile)
	values := make([]string, len(benchPyPIValues))
	got := testing.AllocsPerRun(100, func() {
		copy(values, benchPyPIValues)
		h.norm.rewrite(values, benchDate, h, nil)
	})
	if got > 2 {
		t.Errorf("rewrite of the PyPI response allocates %v times per run, want at most 2", got)
	}
}

func TestMatchAllocsZero(t *testing.T) {
	h := benchHandler(t, "cookie_normalizer {\n\tgroup {\n\t\tcookies app_*\n\t\texpire 1h\n\t}\n\tgroup {\n\t\tcookies ~^wh_[0-9]+$\n\t\texpire 1h\n\t}\n\tgroup {\n\t\tcookies session_id\n\t\texpire 12h\n\t}\n}")
	for _, name := range []string{"session_id", "app_theme", "wh_42", "csrf_token"} {
		if got := testing.AllocsPerRun(100, func() { h.norm.matcher.match(name) }); got != 0 {
			t.Errorf("match(%q) allocates %v times per run, want 0", name, got)
		}
	}
}

func TestParseCookieDateAllocsZero(t *testing.T) {
	for _, date := range []string{"Wed, 09 Jun 2021 10:18:14 GMT", "Wed, 09-Jun-2021 10:18:14 GMT", "Wed Jun  9 10:18:14 2021", "not a date"} {
		if got := testing.AllocsPerRun(100, func() { parseCookieDate(date) }); got != 0 {
			t.Errorf("parseCookieDate(%q) allocates %v times per run, want 0", date, got)
		}
	}
}

// TestFieldJoinsFlushAllocatesOnce: the fields the memo answered for
// cost one allocation in all.
func TestFieldJoinsFlushAllocatesOnce(t *testing.T) {
	src := make([]string, maxJoins)
	for i := range src {
		src[i] = "c" + strconv.Itoa(i) + "=value; Path=/"
	}
	values := make([]string, len(src))
	var j fieldJoins
	got := testing.AllocsPerRun(100, func() {
		copy(values, src)
		for i := range values {
			j.add(i, len("c0=value"), "; Path=/; Secure; Max-Age=60")
		}
		j.flush(values)
	})
	if got != 1 {
		t.Errorf("flush of %d fields allocates %v times, want 1", maxJoins, got)
	}
	if want := "c7=value; Path=/; Secure; Max-Age=60"; values[7] != want {
		t.Errorf("last field %q, want %q", values[7], want)
	}
}

// TestServeHTTPAllocsZero covers the whole handler: the pooled wrapper, the
// write through it and the rewrite must allocate nothing when no cookie
// matches.
func TestServeHTTPAllocsZero(t *testing.T) {
	h := benchHandler(t, benchPyPICaddyfile)
	req := benchRequest()
	for i, tc := range []struct {
		name   string
		values []string
	}{
		{"no Set-Cookie", nil},
		{"unmatched", benchUnmatchedValues(3)},
		{"deletions", []string{"session_id=; Max-Age=0; Path=/", "user_id__insecure=; Max-Age=0; Path=/"}},
	} {
		rec := &benchRecorder{header: make(http.Header)}
		if got := serveAllocs(t, h, req, newBenchUpstream(tc.values), rec, nil); got != 0 {
			t.Errorf("%d (%s): ServeHTTP allocates %v times per run, want 0", i, tc.name, got)
		}
		if rec.status != http.StatusOK {
			t.Errorf("%d (%s): status %d, want 200", i, tc.name, rec.status)
		}
	}
}

// TestServeHTTPAllocsConsistency: with the full-feature config, a request
// carrying a complete (or no) group, whose response sets no member, costs
// no allocation: reading the Cookie header and counting included.
func TestServeHTTPAllocsConsistency(t *testing.T) {
	h := benchHandler(t, benchFullCaddyfile)
	if h.counters.byGroupAction == nil {
		t.Fatal("metrics are not wired; the test would not count them")
	}
	for i, tc := range []struct {
		name, cookie string
		values       []string
	}{
		{"complete jar, no Set-Cookie", benchCookieHeader, nil},
		{"complete jar, unmatched cookies", benchCookieHeader, benchUnmatchedValues(3)},
		{"empty jar", "theme=dark; _ga=GA1.2.3", nil},
		{"complete jar, already normalized", benchCookieHeader, []string{
			"session_id=abc; Path=/; HttpOnly; Secure; SameSite=Lax; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Max-Age=43200",
		}},
	} {
		req := benchRequest()
		req.Header.Set("Cookie", tc.cookie)
		rec := &benchRecorder{header: make(http.Header)}
		if got := serveAllocs(t, h, req, newBenchUpstream(tc.values), rec, nil); got != 0 {
			t.Errorf("%d (%s): ServeHTTP allocates %v times per run, want 0", i, tc.name, got)
		}
		if len(tc.values) == 0 && len(rec.header["Set-Cookie"]) != 0 {
			t.Errorf("%d (%s): Set-Cookie %q, want none", i, tc.name, rec.header["Set-Cookie"])
		}
	}
}

// TestServeHTTPAllocsSlideFresh: a request with the complete group and a
// fresh stamp, nothing due, costs no allocation.
func TestServeHTTPAllocsSlideFresh(t *testing.T) {
	h := benchHandler(t, benchSlideCaddyfile)
	req := benchRequest()
	req.Header.Set("Cookie", benchCookieHeader+"; cn_slide_session_id="+strconv.FormatInt(time.Now().Unix(), 10))
	rec := &benchRecorder{header: make(http.Header)}
	if got := serveAllocs(t, h, req, newBenchUpstream(nil), rec, nil); got != 0 {
		t.Errorf("ServeHTTP with a fresh stamp allocates %v times per run, want 0", got)
	}
	if got := rec.header["Set-Cookie"]; len(got) != 0 {
		t.Errorf("fresh stamp: Set-Cookie %q, want none", got)
	}
}

// TestServeHTTPAllocsLogIn holds the PyPI log-in through the handler to
// one allocation, with the expiry-only config and with the full one (a
// complete jar in the request): the two rewritten fields, built together
// once the memo has seen their attributes.
func TestServeHTTPAllocsLogIn(t *testing.T) {
	for _, directive := range []string{benchPyPICaddyfile, benchFullCaddyfile} {
		h := benchHandler(t, directive)
		want := rewriteAll(benchHandler(t, directive).norm, benchPyPIValues, benchDate)
		req := benchRequest()
		req.Header.Set("Cookie", benchCookieHeader)
		rec := &benchRecorder{header: make(http.Header)}
		wrong := 0
		got := serveAllocs(t, h, req, newBenchUpstream(benchPyPIValues), rec, func() {
			if !equalStrings(rec.header["Set-Cookie"], want) {
				wrong++
			}
		})
		if got != 1 {
			t.Errorf("%q: ServeHTTP of the log-in allocates %v times per run, want 1", directive, got)
		}
		if wrong > 0 {
			t.Errorf("%q: %d responses of 101 with Set-Cookie other than %q (the last: %q)", directive, wrong, want, rec.header["Set-Cookie"])
		}
	}
}

// serveAllocs returns the allocations per ServeHTTP of req through h, with
// up answering into rec; after, if not nil, runs after each request.
// AllocsPerRun's warm-up request fills the writer pool, whose first Get
// allocates the wrapper.
func serveAllocs(t *testing.T, h *Handler, req *http.Request, up *benchUpstream, rec *benchRecorder, after func()) float64 {
	t.Helper()
	return testing.AllocsPerRun(100, func() {
		rec.status = 0
		if err := h.ServeHTTP(rec, req, up); err != nil {
			t.Fatal(err)
		}
		if after != nil {
			after()
		}
	})
}

// TestParseHTTPDateAllocsLong: an upstream's Date of a megabyte that
// starts like an obsolete HTTP date costs no allocation (time.Parse would
// build an error quoting all of it, on every response).
func TestParseHTTPDateAllocsLong(t *testing.T) {
	long := "Wednesday, 09-Nov-94 08:49:37 GMT" + strings.Repeat("\x80", 1<<20)
	if got := testing.AllocsPerRun(5, func() { parseHTTPDate(long) }); got != 0 {
		t.Errorf("parseHTTPDate of a %d-byte Date allocates %v times per run, want 0", len(long), got)
	}
}

// TestRewriteResponseAllocsStackRequest: the rules keep no reference to
// the request they read, so a request built on the caller's stack (as
// the benchmarks build one) stays there. Escape analysis is not
// field-sensitive: a function on any path, however rare (a cascade's
// check of where a member was set), that lets a field of the request
// escape (a parser whose error keeps the Host, say) moves the whole
// request, and its Cookie slice, to the heap on every call.
func TestRewriteResponseAllocsStackRequest(t *testing.T) {
	slide := benchHandler(t, benchSlideCaddyfile)
	fresh := benchCookieHeader + "; cn_slide_session_id=" + strconv.FormatInt(time.Now().Unix(), 10)
	var jar slideJar
	got := testing.AllocsPerRun(200, func() {
		req := request{cookies: []string{fresh}, status: 200, slide: &jar, host: "example.com:443"}
		slide.norm.rewriteResponse(nil, benchDate, &req, nil)
	})
	if got != 0 {
		t.Errorf("a fresh stamp with the request on the stack allocates %v times per run, want 0", got)
	}
}

// TestServeHTTPAllocsPlacedConfig: a config whose group has path and
// domain policies (placed deletions possible) and cascade: a response
// whose cookies match nothing allocates nothing.
func TestServeHTTPAllocsPlacedConfig(t *testing.T) {
	h := benchHandler(t, "cookie_normalizer session_id user_id__insecure {\n\texpire 12h\n\tpath /\n\tdomain remove\n\ton_delete cascade\n\ton_partial expire\n}")
	for i, tc := range []struct {
		name, cookie string
		values       []string
	}{
		{"no Set-Cookie", benchCookieHeader, nil},
		{"unmatched", benchCookieHeader, benchUnmatchedValues(3)},
		{"unmatched, empty jar", "theme=dark", benchUnmatchedValues(3)},
	} {
		req := benchRequest()
		req.Header.Set("Cookie", tc.cookie)
		rec := &benchRecorder{header: make(http.Header)}
		if got := serveAllocs(t, h, req, newBenchUpstream(tc.values), rec, nil); got != 0 {
			t.Errorf("%d (%s): ServeHTTP allocates %v times per run, want 0", i, tc.name, got)
		}
	}
}
