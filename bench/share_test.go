package main

import "testing"

// TestShareOut reads a small `go tool pprof -traces` output: the module's
// scan and its allocation are the module's, and so is a stack growth under
// a module frame (counted as such too); a write under its wrapper and the
// proxying inside its ServeHTTP are the host's; a GC worker and a
// preemption at the entry of a module function are no one's.
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
      10ms   runtime.memmove
             runtime.copystack
             runtime.newstack
             runtime.morestack
             runtime.concatstrings
             github.com/cookie-normalizer/caddy-cookie-normalizer.(*normalizer).applyMemo
-----------+-------------------------------------------------------
      10ms   runtime.findRunnable
             runtime.schedule
             runtime.goschedImpl
             runtime.gopreempt_m (inline)
             runtime.newstack
             runtime.morestack
             github.com/cookie-normalizer/caddy-cookie-normalizer.(*normalizer).applyMemo
-----------+-------------------------------------------------------
`
	s, err := shareOut(traces)
	if err != nil {
		t.Fatal(err)
	}
	if s.Samples != 102 || s.Module != 4.0/102 || s.Background != 8.0/102 || s.StackGrowth != 1.0/102 {
		t.Fatalf("shareOut = %d samples, module %v, background %v, stack growth %v; want 102, 4/102, 8/102, 1/102",
			s.Samples, s.Module, s.Background, s.StackGrowth)
	}
}
