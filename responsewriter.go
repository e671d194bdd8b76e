package cookienormalizer

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// responseWriter rewrites the Set-Cookie fields of the header map at the
// last moment before net/http sends them, whichever way that happens. It
// never buffers the body.
//
// Overriding WriteHeader and Write (the shape of Caddy's headers module) is
// not enough: the embedded ResponseWriterWrapper's ReadFrom (io.Copy of a
// body), a flush through http.ResponseController (which uses FlushError if
// we have it and unwraps us otherwise) and a Hijack all reach the client
// without calling our WriteHeader, and so would send the upstream's cookies
// unrewritten. Each of those paths is overridden below and has a test.
type responseWriter struct {
	// Embedded by value, not by pointer as in Caddy's modules: together with
	// the pool below this makes the wrapper free for every request.
	caddyhttp.ResponseWriterWrapper

	h   *Handler
	req request // what the consistency rules read of the request

	// sent is set once the header map has been rewritten for the final
	// response; later calls go straight through.
	sent bool
}

var responseWriterPool = sync.Pool{
	New: func() any { return new(responseWriter) },
}

func newResponseWriter(w http.ResponseWriter, r *http.Request, h *Handler) *responseWriter {
	rw := responseWriterPool.Get().(*responseWriter)
	rw.ResponseWriter, rw.h, rw.sent = w, h, false
	rw.req = request{https: r.TLS != nil}
	if h.norm.consistency != nil && h.norm.consistency.partial {
		rw.req.cookies = r.Header["Cookie"] // every field: HTTP/2 may send several
	}
	return rw
}

// release returns rw to the pool. It is called when ServeHTTP returns: by
// then net/http has no further use for the writer, and a handler that went
// on writing after returning would already be breaking net/http's contract.
func (rw *responseWriter) release() {
	rw.ResponseWriter, rw.h, rw.req = nil, nil, request{}
	responseWriterPool.Put(rw)
}

// rewriteHeader applies the policies to the Set-Cookie fields in the header
// map as it stands now; for the final response (final) it also appends
// what the consistency rules call for. The rewrite is idempotent, so doing
// it for a 1xx response and again for the final one is safe; an appended
// deletion is not appended twice, since the response then deletes the
// members itself.
func (rw *responseWriter) rewriteHeader(final bool) {
	hdr := rw.ResponseWriter.Header()
	values := hdr["Set-Cookie"]
	norm := rw.h.norm
	if len(values) == 0 && (!final || norm.consistency == nil) {
		return
	}
	var date string
	if d := hdr["Date"]; len(d) > 0 {
		date = d[0]
	}
	if !final {
		norm.rewrite(values, date, rw.h)
		return
	}
	if out := norm.rewriteResponse(values, date, &rw.req, rw.h); len(out) != len(values) {
		hdr["Set-Cookie"] = out
	}
}

// finalize rewrites the header map unless that has been done for the final
// response already.
func (rw *responseWriter) finalize() {
	if !rw.sent {
		rw.sent = true
		rw.rewriteHeader(true)
	}
}

// WriteHeader rewrites the header map, then writes the status. An
// informational status (1xx other than 101) sends the header map as it is
// at that moment (103 Early Hints may carry cookies) without being the
// final response, so it is rewritten without latching. 101 Switching
// Protocols is final.
func (rw *responseWriter) WriteHeader(status int) {
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		if !rw.sent {
			rw.rewriteHeader(false)
		}
	} else {
		rw.finalize()
	}
	rw.ResponseWriter.WriteHeader(status)
}

// Write sends the headers (net/http's implicit 200) on the first call.
func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.finalize()
	return rw.ResponseWriter.Write(p)
}

// ReadFrom keeps sendfile and the underlying io.ReaderFrom working; the
// embedded wrapper's ReadFrom alone would bypass our WriteHeader.
func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	rw.finalize()
	return rw.ResponseWriterWrapper.ReadFrom(r)
}

// FlushError is what http.ResponseController.Flush calls. A flush before
// any write sends the headers, so they are rewritten first.
func (rw *responseWriter) FlushError() error {
	rw.finalize()
	//nolint:bodyclose
	return http.NewResponseController(rw.ResponseWriter).Flush()
}

// Flush implements http.Flusher for handlers that assert it directly.
func (rw *responseWriter) Flush() {
	_ = rw.FlushError()
}

// Hijack rewrites the header map before the connection is taken over: a
// handler that hijacks may still serialise it (as reverse_proxy does for a
// 101 written before hijacking).
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	rw.finalize()
	//nolint:bodyclose
	return http.NewResponseController(rw.ResponseWriter).Hijack()
}

// Interface guards.
var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)
