package cookienormalizer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
)

// benchRecorder is a response writer that keeps nothing but the status and
// reuses its header map, so that the allocations counted are the handler's
// own, not the recorder's (httptest.ResponseRecorder allocates a header map
// and a body buffer per request).
type benchRecorder struct {
	header http.Header
	status int
	bytes  int
}

func (r *benchRecorder) Header() http.Header { return r.header }

func (r *benchRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *benchRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.bytes += len(p)
	return len(p), nil
}

// benchUpstream is the next handler: it sets the Set-Cookie fields and the
// Date an upstream would, then writes a small body, as reverse_proxy does
// (WriteHeader, then Write). Its slices are reused, so that it allocates
// nothing itself.
type benchUpstream struct {
	src     []string
	cookies []string
	date    []string
	body    []byte
}

func newBenchUpstream(src []string) *benchUpstream {
	return &benchUpstream{
		src:     src,
		cookies: make([]string, 0, len(src)),
		date:    []string{benchDate},
		body:    []byte("<!doctype html><title>PyPI</title><p>logged in</p>\n"),
	}
}

func (u *benchUpstream) ServeHTTP(w http.ResponseWriter, _ *http.Request) error {
	hdr := w.Header()
	hdr["Date"] = u.date
	if len(u.src) > 0 {
		hdr["Set-Cookie"] = append(u.cookies[:0], u.src...)
	} else {
		delete(hdr, "Set-Cookie")
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(u.body)
	return err
}

// benchServe runs one request through h (or, with h nil, through the
// upstream alone: the baseline to subtract) per iteration.
func benchServe(b *testing.B, h caddyhttp.MiddlewareHandler, src []string) {
	b.Helper()
	benchServeRequest(b, h, src, benchRequest())
}

// benchServeRequest is benchServe for the request req.
func benchServeRequest(b *testing.B, h caddyhttp.MiddlewareHandler, src []string, req *http.Request) {
	b.Helper()
	up := newBenchUpstream(src)
	rec := &benchRecorder{header: make(http.Header)}
	var next caddyhttp.Handler = up
	b.ReportAllocs()
	for b.Loop() {
		serveBench(b, h, next, rec, req)
	}
}

// serveBench serves req through h into rec, with next as the upstream
// (next alone when h is nil).
func serveBench(b *testing.B, h caddyhttp.MiddlewareHandler, next caddyhttp.Handler, rec *benchRecorder, req *http.Request) {
	rec.status = 0
	var err error
	if h == nil {
		err = next.ServeHTTP(rec, req)
	} else {
		err = h.ServeHTTP(rec, req, next)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// benchRequest is a request as Caddy's server hands it to handlers: with a
// replacer in its context (the headers module needs one; ours does not).
func benchRequest() *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	return req.WithContext(ctx)
}

// BenchmarkServeHTTP times the whole handler: taking the pooled wrapper,
// the upstream writing through it, the rewrite at WriteHeader, the
// finalize after the handler returns, and putting the wrapper back. The
// "upstream-only" runs are the baseline; BENCHMARKS.md holds handler plus
// wrapper to at most 1 µs per request on the PyPI response, and to no
// allocation at all for unmatched cookies or none.
func BenchmarkServeHTTP(b *testing.B) {
	h := benchHandler(b, benchPyPICaddyfile)
	for _, bc := range []struct {
		name   string
		values []string
	}{
		{"pypi", benchPyPIValues},
		{"unmatched", benchUnmatchedValues(3)},
		{"none", nil},
	} {
		b.Run(bc.name+"/upstream-only", func(b *testing.B) { benchServe(b, nil, bc.values) })
		b.Run(bc.name+"/handler", func(b *testing.B) { benchServe(b, h, bc.values) })
	}
}

// fullJarCases are the two responses the load harness drives with the
// full config and a complete jar: the PyPI log-in, and none of
// Set-Cookie.
var fullJarCases = []struct {
	name   string
	values []string
}{
	{"login", benchPyPIValues},
	{"none", nil},
}

// fullJarRequest is benchRequest carrying the 10-cookie jar.
func fullJarRequest() *http.Request {
	req := benchRequest()
	req.Header.Set("Cookie", benchCookieHeader)
	return req
}

// BenchmarkServeHTTPFull times the whole handler with the full-feature
// config for a request carrying a complete 10-cookie jar, as the load
// harness drives it: the PyPI log-in response, and a response without
// Set-Cookie (where only on_partial's read of the Cookie header works).
func BenchmarkServeHTTPFull(b *testing.B) {
	h := benchHandler(b, benchFullCaddyfile)
	req := fullJarRequest()
	for _, bc := range fullJarCases {
		b.Run(bc.name+"/upstream-only", func(b *testing.B) { benchServeRequest(b, nil, bc.values, req) })
		b.Run(bc.name+"/handler", func(b *testing.B) { benchServeRequest(b, h, bc.values, req) })
	}
}

// BenchmarkServeHTTPHeaderRegex is the alternative the load harness
// compares with, in the same harness as BenchmarkServeHTTP: Caddy's
// headers handler with the regex replace the README compares with,
//
//	header >Set-Cookie "^((?:session_id|user_id__insecure)=.*)$" "$1; Max-Age=43200"
//
// which appends Max-Age only (no Expires), and also to deletions.
func BenchmarkServeHTTPHeaderRegex(b *testing.B) {
	hh := &headers.Handler{Response: &headers.RespHeaderOps{
		HeaderOps: &headers.HeaderOps{Replace: map[string][]headers.Replacement{
			"Set-Cookie": {{SearchRegexp: "^((?:session_id|user_id__insecure)=.*)$", Replace: "$1; Max-Age=43200"}},
		}},
		Deferred: true,
	}}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := hh.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("pypi/handler", func(b *testing.B) { benchServe(b, hh, benchPyPIValues) })
	b.Run("unmatched/handler", func(b *testing.B) { benchServe(b, hh, benchUnmatchedValues(3)) })
	b.Run("none/handler", func(b *testing.B) { benchServe(b, hh, nil) })
}

// BenchmarkServeHTTPParallel is BenchmarkServeHTTP/pypi/handler on every
// core at once, which exercises the sync.Pool of wrappers the way a busy
// server does.
func BenchmarkServeHTTPParallel(b *testing.B) {
	h := benchHandler(b, benchPyPICaddyfile)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		up := newBenchUpstream(benchPyPIValues)
		rec := &benchRecorder{header: make(http.Header)}
		req := benchRequest()
		for pb.Next() {
			rec.status = 0
			if err := h.ServeHTTP(rec, req, up); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchFullCaddyfile is the full-feature config: expiry, attributes, both
// consistency rules (metrics are wired by benchHandler's context).
const benchFullCaddyfile = `cookie_normalizer session_id user_id__insecure {
	expire 12h
	secure on
	httponly on
	samesite lax
	on_delete cascade
	on_partial expire
}`

// benchCookieHeader is a 10-cookie Cookie header that holds the whole
// PyPI group.
const benchCookieHeader = "_ga=GA1.2.1234567890.1764000000; _gid=GA1.2.987654321.1764000000; theme=dark; " +
	"session_id=Zm9vYmFyYmF6cXV4LXNlc3Npb24; lang=en; csrf_token=4c1f0e3a9b7d2e61; " +
	"user_id__insecure=8f14e45fceea167a; tz=Europe%2FBerlin; consent=1; _pk_id.1=9a1f3c0e2b7d4e61"

// BenchmarkConsistency compares, in one run, the cost of the consistency
// rules on a request carrying the complete group in a 10-cookie header
// (target: at most the expiry-only PyPI rewrite, 0 allocations) with that
// rewrite, and a cascade that appends a deletion.
func BenchmarkConsistency(b *testing.B) {
	full := benchHandler(b, benchFullCaddyfile)
	expiryOnly := benchHandler(b, benchPyPICaddyfile)
	complete := &request{cookies: []string{benchCookieHeader}}
	b.Run("complete-jar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			full.norm.rewriteResponse(nil, benchDate, complete, full)
		}
	})
	b.Run("pypi-expiry-only", func(b *testing.B) { benchRewrite(b, expiryOnly.norm, benchPyPIValues) })
	b.Run("pypi-full-complete-jar", func(b *testing.B) {
		b.ReportAllocs()
		values := make([]string, len(benchPyPIValues), len(benchPyPIValues)+2)
		for b.Loop() {
			copy(values, benchPyPIValues)
			full.norm.rewriteResponse(values, benchDate, complete, full)
		}
	})
	b.Run("cascade", func(b *testing.B) {
		b.ReportAllocs()
		values := make([]string, 1, 2)
		for b.Loop() {
			values = values[:1]
			values[0] = "session_id=; Max-Age=0; Path=/"
			full.norm.rewriteResponse(values, benchDate, complete, full)
		}
	})
}

// BenchmarkSlideInterleaved times a fresh stamp and the expiry-only PyPI
// rewrite in alternating batches (see interleave), so that the machine's
// drift between sub-benchmarks leaves their ratio alone: that ratio is
// the target (at most 1).
func BenchmarkSlideInterleaved(b *testing.B) {
	slide := benchHandler(b, benchSlideCaddyfile)
	expiryOnly := benchHandler(b, benchPyPICaddyfile)
	fresh := benchCookieHeader + "; cn_slide_session_id=" + strconv.FormatInt(time.Now().Unix(), 10)
	var jar slideJar // as the pooled response writer keeps it
	values := make([]string, len(benchPyPIValues))
	ns := interleave(b, []func(){
		func() {
			req := request{cookies: []string{fresh}, status: 200, slide: &jar}
			slide.norm.rewriteResponse(nil, benchDate, &req, nil)
		},
		func() { copy(values, benchPyPIValues); expiryOnly.norm.rewrite(values, benchDate, nil, nil) },
	})
	b.ReportMetric(ns[0], "fresh-stamp-ns")
	b.ReportMetric(ns[1], "pypi-expiry-only-ns")
	b.ReportMetric(ns[0]/ns[1], "fresh-stamp/pypi-expiry-only")
}

// benchSlideCaddyfile is the PyPI pair with sliding expiry, and the
// attribute policies a slide group should have (see the README).
const benchSlideCaddyfile = `cookie_normalizer session_id user_id__insecure {
	expire 12h
	path /
	secure on
	httponly on
	samesite lax
	partitioned off
	slide 10m
	domain remove
}`

// BenchmarkSlide compares, in one run, a request whose group has a fresh
// stamp (nothing due; target: 0 allocations and at most the expiry-only
// PyPI rewrite) with that rewrite, and a re-issue (allocates only its new
// fields).
func BenchmarkSlide(b *testing.B) {
	slide := benchHandler(b, benchSlideCaddyfile)
	expiryOnly := benchHandler(b, benchPyPICaddyfile)
	now := time.Now().Unix()
	fresh := benchCookieHeader + "; cn_slide_session_id=" + strconv.FormatInt(now, 10)
	b.Run("fresh-stamp", func(b *testing.B) {
		b.ReportAllocs()
		var jar slideJar // as the pooled response writer keeps it
		for b.Loop() {
			req := request{cookies: []string{fresh}, status: 200, slide: &jar}
			slide.norm.rewriteResponse(nil, benchDate, &req, nil)
		}
	})
	b.Run("pypi-expiry-only", func(b *testing.B) { benchRewrite(b, expiryOnly.norm, benchPyPIValues) })
	b.Run("reissue", func(b *testing.B) {
		b.ReportAllocs()
		values := make([]string, 0, 4)
		for b.Loop() {
			req := request{cookies: []string{benchCookieHeader}, status: 200}
			slide.norm.rewriteResponse(values[:0], benchDate, &req, nil)
		}
	})
}
