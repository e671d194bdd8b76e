package main

import "testing"

// TestShareOut reads a small `go tool pprof -traces` output: the module's
// scan and its allocation are the module's, a write under its wrapper and
// the proxying inside its ServeHTTP are the host's, a GC worker is no
// one's.
func TestShareOut(t *testing.T) {
	const traces = `File: caddy
Type: cpu
Duration: 10s, Total samples = 1s (10.00%)
-----------+-------------------------------------------------------
     300ms   internal/runtime/syscall/linux.Syscall6
             syscall.write
             net.(*conn).Write
             net/http.(*response).finishRequest
             github.com/cookie-normalizer/caddy-cookie-normalizer.(*Handler).ServeHTTP
-----------+-------------------------------------------------------
      20ms   github.com/cookie-normalizer/caddy-cookie-normalizer.(*setCookie).scan
             github.com/cookie-normalizer/caddy-cookie-normalizer.apply
-----------+-------------------------------------------------------
      10ms   runtime.mallocgc
             runtime.slicebytetostring
             github.com/cookie-normalizer/caddy-cookie-normalizer.(*setCookie).rebuild (inline)
             github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.(*Handler).ServeHTTP
-----------+-------------------------------------------------------
     600ms   aeshashbody
             runtime.mapassign_faststr
             github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.(*Handler).ServeHTTP
             github.com/cookie-normalizer/caddy-cookie-normalizer.(*Handler).ServeHTTP
-----------+-------------------------------------------------------
      70ms   runtime.scanobject
             runtime.gcBgMarkWorker
-----------+-------------------------------------------------------
`
	s, err := shareOut(traces)
	if err != nil {
		t.Fatal(err)
	}
	if s.Samples != 100 || s.Module != 0.03 || s.Background != 0.07 {
		t.Fatalf("shareOut = %d samples, module %v, background %v; want 100, 0.03, 0.07", s.Samples, s.Module, s.Background)
	}
}
