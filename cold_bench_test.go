package cookienormalizer

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
)

// evictionBuffer is larger than the CPU's per-core caches (L1 and L2:
// 0.5 to 2 MiB on current x86 and ARM server cores): a walk over it
// evicts the module's code and data from them, as a real Caddy's own work
// per proxied request does between two requests the module sees.
var evictionBuffer = make([]byte, 4<<20)

// evictCaches writes one byte of every cache line of evictionBuffer.
func evictCaches() {
	var s byte
	for i := 0; i < len(evictionBuffer); i += 64 {
		s += evictionBuffer[i]
		evictionBuffer[i] = s
	}
}

// BenchmarkServeHTTPFullCold is BenchmarkServeHTTPFull with the caches
// evicted before each request; see ns/request. Through reverse_proxy Caddy
// spends about 100 µs of its own per request, which evicts the module's
// code and data, so the module's share of a CPU profile of Caddy is what
// this benchmark shows, not the warm loop of BenchmarkServeHTTPFull.
// "handler-code-warm" first runs the request through a second handler of
// the same config: the code is back in the caches, the handler's own
// data (its config, memo and counters) not, which splits the cold cost
// between instruction and data fetches.
func BenchmarkServeHTTPFullCold(b *testing.B) {
	h := benchHandler(b, benchFullCaddyfile)
	twin := benchHandler(b, benchFullCaddyfile)
	// Caddy's least response-editing handler, for scale: a deferred
	// delete of a field no one sends wraps the response as the module
	// does, and edits nothing.
	empty := &headers.Handler{Response: &headers.RespHeaderOps{
		HeaderOps: &headers.HeaderOps{Delete: []string{"X-Not-Sent"}},
		Deferred:  true,
	}}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := empty.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	req := fullJarRequest()
	for _, bc := range fullJarCases {
		b.Run(bc.name+"/upstream-only", func(b *testing.B) { benchServeCold(b, nil, nil, bc.values, req) })
		b.Run(bc.name+"/handler", func(b *testing.B) { benchServeCold(b, h, nil, bc.values, req) })
		b.Run(bc.name+"/handler-code-warm", func(b *testing.B) { benchServeCold(b, h, twin, bc.values, req) })
		b.Run(bc.name+"/header-delete-unsent", func(b *testing.B) { benchServeCold(b, empty, nil, bc.values, req) })
	}
}

// benchServeCold times h serving req (the upstream alone when h is nil)
// after evicting the caches, and after warm, if not nil, has served it.
func benchServeCold(b *testing.B, h, warm caddyhttp.MiddlewareHandler, src []string, req *http.Request) {
	b.Helper()
	up := newBenchUpstream(src)
	rec := &benchRecorder{header: make(http.Header)}
	var next caddyhttp.Handler = up
	// The timer runs through the eviction (stopping it for each request
	// would make a run of -benchtime 100ms evict the caches for minutes):
	// the request alone is timed with the clock and reported as
	// ns/request; ns/op is mostly the eviction.
	var served time.Duration
	n := 0
	for b.Loop() {
		evictCaches()
		if warm != nil {
			serveBench(b, warm, next, rec, req)
		}
		start := time.Now()
		serveBench(b, h, next, rec, req)
		served += time.Since(start)
		n++
	}
	b.ReportMetric(float64(served.Nanoseconds())/float64(n), "ns/request")
}
