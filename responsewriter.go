package cookienormalizer

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
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

	// sent is set once the final response's header has been sent (or
	// handed to the server): later calls go straight through, but for the
	// re-check below.
	sent bool
	// bodyStarted is set at the first body write or ReadFrom of at least
	// a byte after sent (not at a flush: see flushedBeforeBody).
	bodyStarted bool
	// seen is the Set-Cookie slice as the last rewrite left it: HTTP/3
	// (quic-go) encodes the header map at the first body byte or flush,
	// not at WriteHeader, so a cookie added in between reaches the client.
	// At that moment the map is rewritten again if its Set-Cookie fields
	// are not the ones already rewritten.
	seen    []string
	seenLen int
	// hdr is the header map of the writer below, asked for once when the
	// wrapper is made. A ResponseWriter hands out one header map for the
	// whole response (net/http's, HTTP/2's, quic-go's and Caddy's
	// wrappers all do), so until the final response is sent Header
	// answers from here instead of walking the chain of writers below on
	// each of the handler's calls (reverse_proxy makes about ten), and
	// the rewrites and checks read it here too. Once the final response
	// is sent, Header asks the writer below again: net/http snapshots
	// the header when it is asked for between WriteHeader and the first
	// body byte, and that stays its business.
	hdr http.Header
	// late is set for HTTP/3 requests (see startBody).
	late bool
	// outer is set when a writer above this one (another
	// cookie_normalizer further out, a deferred header edit) changed the
	// Set-Cookie list during a call that sends the header (see
	// keepBelow): a field the handler adds later is then rewritten alone
	// (see rewriteAdded).
	outer bool
	// rewriting is set while rewriteHeader runs: still set when it starts
	// again, the last one was cut short by a panic (a logger's core, say)
	// that a handler below recovered, and spokeBefore and placedBefore
	// are what request.spoke and request.placedFrom were when it began
	// (see resumeRewrite).
	rewriting    bool
	spokeBefore  uint64
	placedBefore int
	// joins are the fields the final rewrite leaves for rewriteHeader to
	// build (see fieldJoins); empty between rewrites. Before jar, so that
	// a log-in touches the cache lines next to the fields above.
	joins fieldJoins
	// jar is the slide groups' scratch space (request.slide), kept with
	// the pooled writer.
	jar slideJar
	// cookieFields holds the request's Cookie fields as they arrived (see
	// keepCookies).
	cookieFields [4]string
	// follow is what the last final rewrite did to `like` followers, for
	// the next rewrite of the same response to start from the handler's
	// fields (see followerLog).
	follow followerLog
}

var responseWriterPool = sync.Pool{
	New: func() any { return new(responseWriter) },
}

// forwardedHTTPS reports whether a request Caddy received over plain
// HTTP came from a browser on HTTPS, as a load balancer that terminates
// TLS says in X-Forwarded-Proto (proto, the header's fields): only from a
// proxy the server trusts (its trusted_proxies), and only when the last
// field is "https", which is what reverse_proxy passes on upstream in
// that case. The consistency rules and slide read it: where browsers
// store a Secure cookie, and whether the deletions they add carry
// Secure. Out of line: only requests with the header ask.
//
//go:noinline
func forwardedHTTPS(r *http.Request, proto []string) bool {
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	return trusted && strings.EqualFold(strings.TrimSpace(proto[len(proto)-1]), "https")
}

func newResponseWriter(w http.ResponseWriter, r *http.Request, h *Handler) *responseWriter {
	rw := responseWriterPool.Get().(*responseWriter)
	rw.ResponseWriter, rw.h, rw.sent, rw.bodyStarted, rw.seen, rw.seenLen, rw.rewriting = w, h, false, false, nil, 0, false
	rw.hdr = w.Header()
	rw.req = request{https: r.TLS != nil, header: rw.hdr, from: r, host: r.Host}
	rw.late, rw.outer = r.ProtoMajor >= 3, false
	if c := h.norm.consistency; c != nil {
		// Read now, as the Cookie fields are: a later handler may edit
		// the request's header map (request_header runs after this one).
		// on_partial reads it, and so does on_delete (a browser refuses a
		// cross-site cookie without SameSite=None: see storedWithPolicies).
		site := r.Header["Sec-Fetch-Site"]
		rw.req.crossSiteFetch = len(site) > 0 && site[0] == "cross-site"
		if proto := r.Header["X-Forwarded-Proto"]; !rw.req.https && len(proto) > 0 {
			rw.req.https = forwardedHTTPS(r, proto)
		}
		if c.partial {
			rw.req.cookies = rw.keepCookies(r.Header["Cookie"]) // every field: HTTP/2 may send several
			if ctx := r.Context(); ctx.Value(caddyhttp.ErrorCtxKey) != nil {
				rw.req.errorRoute = true
				rw.req.arrived, _ = caddyhttp.GetVar(ctx, arrivedVar).(*arrivedJar)
			}
			if c.slides {
				rw.req.slide = &rw.jar
			}
		}
	}
	return rw
}

// keepCookies returns the request's Cookie fields as they are now. The
// consistency rules read them when the response is written, and by then a
// later handler may have edited them: request_header's search and
// replace rewrites the elements of the request's slice in place, so
// keeping the slice would not do. The strings themselves never change;
// copying the few fields a request has into the writer's own array
// allocates nothing.
func (rw *responseWriter) keepCookies(fields []string) []string {
	switch {
	case len(fields) == 0:
		return nil
	case len(fields) <= len(rw.cookieFields):
		n := copy(rw.cookieFields[:], fields)
		return rw.cookieFields[:n:n]
	}
	return slices.Clone(fields) // more fields than browsers send
}

// release returns rw to the pool. It is called when ServeHTTP returns: by
// then net/http has no further use for the writer, and a handler that went
// on writing after returning would already be breaking net/http's contract.
func (rw *responseWriter) release() {
	if rw.req.slide != nil {
		rw.h.norm.consistency.clearValues(rw.req.slide)
	}
	if rw.req.cookies != nil {
		clear(rw.cookieFields[:]) // not to keep a request's cookies alive
	}
	if rw.follow.n != 0 {
		rw.follow.forget()
	}
	if rw.joins.n != 0 {
		// A panic between a rewrite's joins.add and its flush (in a
		// logger's core, say) left fields recorded: the next response
		// would be built from them.
		rw.joins = fieldJoins{}
	}
	rw.follow.keepers = nil
	rw.ResponseWriter, rw.h, rw.req, rw.seen, rw.hdr = nil, nil, request{}, nil, nil
	responseWriterPool.Put(rw)
}

// rewriteHeader applies the policies to the Set-Cookie fields of the
// final response in the header map as it stands now, and appends what the
// consistency rules call for. The rewrite is idempotent, so doing it
// again (a field added before the first body byte) is safe; the groups
// whose rules have spoken for the response add nothing more (see
// request.spoke).
func (rw *responseWriter) rewriteHeader() {
	rw.settleCutRewrite()
	hdr := rw.hdr
	values := hdr["Set-Cookie"]
	norm := rw.h.norm
	if len(values) == 0 && norm.consistency == nil {
		return
	}
	if norm.reportOnly && rw.req.placedFrom > 0 {
		rw.placedFromReplaced(values)
	}
	rw.rewriting, rw.spokeBefore, rw.placedBefore = true, rw.req.spoke, rw.req.placedFrom
	// The Date is the base time of the fields' lifetimes and of slide's
	// stamps: a response without fields and a config without slide need
	// none looked up.
	date := ""
	if len(values) > 0 || norm.consistency != nil && norm.consistency.slides {
		date = responseDate(hdr)
	}
	out := norm.rewriteResponseJoins(values, date, &rw.req, rw.h, &rw.joins, &rw.follow)
	if rw.req.keepTo > 0 {
		rw.keepKeepers(out)
	}
	rw.joins.flush(out)
	if len(out) != len(values) {
		hdr["Set-Cookie"] = out
	}
	if rw.req.private {
		rw.req.private = false
		hdr["Cache-Control"] = addPrivate(hdr["Cache-Control"])
	}
	rw.seen, rw.seenLen = out, len(out)
	rw.rewriting = false
}

// settleCutRewrite clears what the last rewrite left behind if a panic
// cut it short (see resumeRewrite), before the header map is rewritten,
// saved or handed to error routes again.
func (rw *responseWriter) settleCutRewrite() {
	if rw.rewriting {
		rw.resumeRewrite()
	}
}

// resumeRewrite clears what a rewrite cut short by a panic left behind,
// when a handler below recovered from it and the header map is to be
// rewritten again: the fields it recorded to build (which would be built
// into whatever fields the map holds now), the groups it marked as having
// spoken (what they appended never reached the map: the map's field list
// is replaced only once the rewrite is done), the Cache-Control directive
// it was to add, and the followers it changed in place. The rewrite is
// idempotent, so the fields it had rewritten in place are read again as
// they stand. Out of line: a logger's panic is no part of a response.
//
//go:noinline
func (rw *responseWriter) resumeRewrite() {
	rw.joins = fieldJoins{}
	rw.req.spoke, rw.req.placedFrom, rw.req.private = rw.spokeBefore, rw.placedBefore, false
	rw.follow.undo(rw.hdr["Set-Cookie"])
	rw.rewriting = false
}

// Header is the header map of the response: the one kept from the writer
// below until the final response is sent, the writer below's after that.
func (rw *responseWriter) Header() http.Header {
	if !rw.sent {
		return rw.hdr
	}
	return rw.ResponseWriter.Header()
}

// changedSinceRewrite reports whether the Set-Cookie fields of the header
// map are not the slice the last final rewrite left: a field was added,
// or the slice replaced. Comparing the slice header costs nothing.
func (rw *responseWriter) changedSinceRewrite() bool {
	return rw.changedFrom(rw.hdr["Set-Cookie"])
}

// changedFrom reports whether values, the Set-Cookie fields of the header
// map, are another list than the one last recorded.
func (rw *responseWriter) changedFrom(values []string) bool {
	if len(values) != rw.seenLen {
		return true
	}
	return len(values) > 0 && &values[0] != &rw.seen[0]
}

// startBody is called before the first body byte, ReadFrom or flush of
// the final response: it rewrites the header map again if a cookie was
// added since WriteHeader (the rewrite is idempotent), for servers that
// serialise the header map only now.
//
// On HTTP/3 it is called before every body write: quic-go holds a short
// body in its buffer and encodes the header map only when the buffer
// overflows, at a flush or when the handler returns, so a cookie added
// between two writes can still reach the client. The check compares a
// slice header; the rewrite runs only when a field was added.
func (rw *responseWriter) startBody() {
	if rw.bodyStarted {
		if rw.late && rw.changedSinceRewrite() {
			rw.rewriteLate()
		}
		return
	}
	if rw.changedSinceRewrite() && !(rw.outer && rw.rewriteAdded()) {
		// The final rewrite runs again (unless only the handler's added
		// fields need it: see rewriteAdded): its followers start from
		// the handler's fields (see followerLog).
		rw.follow.undo(rw.hdr["Set-Cookie"])
		rw.rewriteHeader()
	}
	// Only now: a rewrite cut short by a panic is done again.
	rw.bodyStarted = true
}

// finalize rewrites the header map unless that has been done for the final
// response already. Unless WriteHeader said otherwise, the status is
// net/http's implicit 200.
func (rw *responseWriter) finalize() {
	if !rw.sent {
		if rw.req.status == 0 {
			rw.req.status = http.StatusOK
		}
		rw.rewriteHeader()
		// Only now: a rewrite cut short by a panic (a logger's core) that
		// a handler below recovers from is done again when it answers.
		rw.sent = true
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
			rw.writeInformational(status)
			return
		}
	} else if !rw.sent {
		rw.req.status = status
		rw.finalize()
		rw.ResponseWriter.WriteHeader(status)
		rw.keepBelow()
		return
	}
	rw.ResponseWriter.WriteHeader(status)
}

// keepBelow records the Set-Cookie fields as the writers below this one
// left them when a call that sends the header returns: what changed
// during that call was done by a writer that wraps this one (another
// cookie_normalizer further out, a deferred header edit), after this
// rewrite, as on every protocol whose server sends the header map at
// WriteHeader. Taking those fields for the handler's own would rewrite
// them again at the next body byte (HTTP/3 sends the map only then), so
// that this module's policies would override the outer one's, its
// consistency rules would read what the outer one appended, and its
// counters would count the response's fields twice.
func (rw *responseWriter) keepBelow() {
	values := rw.hdr["Set-Cookie"]
	if rw.changedFrom(values) {
		rw.outer = true
	}
	rw.seen, rw.seenLen = values, len(values)
}

// writeInformational sends an informational response with the policies
// applied to a copy of the Set-Cookie fields (103 Early Hints may carry
// cookies), and puts the handler's own fields back for the final
// response: its rewrite reads them as the handler leaves them, so that
// an `expire like` follower follows the leader the final response sends,
// not the one of the 1xx. The server sends a 1xx's header at once.
func (rw *responseWriter) writeInformational(status int) {
	values, ok := rw.hdr["Set-Cookie"]
	if len(values) > 0 {
		sent := slices.Clone(values)
		rw.rewriteFields(sent, rw.hdr)
		rw.hdr["Set-Cookie"] = sent
	}
	rw.ResponseWriter.WriteHeader(status)
	if ok {
		rw.hdr["Set-Cookie"] = values
	}
}

// Write sends the headers (net/http's implicit 200) on the first call.
func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.finalize()
	first := !rw.bodyStarted
	rw.startBody()
	n, err := rw.ResponseWriter.Write(p)
	if first {
		rw.bodyWritten(int64(n))
	}
	return n, err
}

// bodyWritten follows the first write of body bytes, n of them. The
// writers below send the header (their own rewrite) with the first
// byte; a write of none sends nothing through a writer that sends the
// header map at the first byte (Caddy's encode), so the body has not
// started: a field the handler adds next is rewritten at the next one.
func (rw *responseWriter) bodyWritten(n int64) {
	if n == 0 {
		rw.bodyStarted = false
		return
	}
	rw.keepBelow()
}

// ReadFrom keeps sendfile and the underlying io.ReaderFrom working; the
// embedded wrapper's ReadFrom alone would bypass our WriteHeader.
func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	rw.finalize()
	first := !rw.bodyStarted
	rw.startBody()
	n, err := rw.ResponseWriterWrapper.ReadFrom(r)
	if first {
		rw.bodyWritten(n)
	}
	return n, err
}

// FlushError is what http.ResponseController.Flush calls. A flush before
// any write sends the headers (with net/http's implicit 200), so they are
// rewritten first; but a flush that fails (an outer writer that cannot
// flush) has sent nothing, so it does not mark the headers as sent, and
// it takes back the fields and the Cache-Control directive that rewrite
// added for a 200 (and forgets that the groups spoke): the status the
// handler writes next may be one that gets no re-issue.
func (rw *responseWriter) FlushError() error {
	if rw.sent {
		first := !rw.bodyStarted
		rw.startBody()
		//nolint:bodyclose
		err := http.NewResponseController(rw.ResponseWriter).Flush()
		switch {
		case err != nil:
			// Nothing was sent: the body has not started.
			rw.bodyStarted = !first
		case first:
			rw.flushedBeforeBody()
		}
		return err
	}
	return rw.flushUnsent()
}

// flushedBeforeBody follows a successful flush before the first body
// byte, which may have sent nothing: Caddy's encode, below the module,
// sends the header only with the first body byte, where it decides on
// Content-Encoding, and its flush returns nil until then, on every
// protocol. So such a flush does not start the body: the first body
// write re-checks the Set-Cookie list, and rewrites it again (the
// consistency rules too) if the handler added a field after the flush.
// Where the flush did send the header (net/http, quic-go), such a field
// never reaches the client, as one added after WriteHeader over HTTP/1.1.
func (rw *responseWriter) flushedBeforeBody() {
	rw.bodyStarted = false
	rw.keepBelow()
}

// flushUnsent is FlushError before the final response's header is sent.
// Out of line: its saved state stays out of the frame of the flushes that
// stream a body, below which the rewrite runs at the first body byte.
//
//go:noinline
func (rw *responseWriter) flushUnsent() error {
	saved := rw.saveHeader()
	if rw.req.status == 0 {
		rw.req.status = http.StatusOK
	}
	rw.rewriteHeader()
	//nolint:bodyclose
	err := http.NewResponseController(rw.ResponseWriter).Flush()
	if err != nil {
		rw.restoreHeader(saved)
		return err
	}
	rw.sent = true
	rw.flushedBeforeBody()
	return nil
}

// savedHeader is what a final rewrite changes, for an operation that
// sends the header and can fail having sent nothing (a flush, a hijack).
type savedHeader struct {
	fields, cacheControl []string
	spoke                uint64
	// status and placedFrom fit one word: this is in the frame of
	// flushUnsent, under a request's deepest stack.
	status, placedFrom int32
}

// saveHeader returns what the final rewrite is about to change. The
// fields are copied: the rewrite edits them in place, and an `expire
// like` follower's rewrite depends on its leader, which the handler may
// still change before the response is sent.
func (rw *responseWriter) saveHeader() savedHeader {
	rw.settleCutRewrite() // what a rewrite cut short left is not what to restore
	return savedHeader{fields: slices.Clone(rw.hdr["Set-Cookie"]), cacheControl: rw.hdr["Cache-Control"], status: int32(rw.req.status), spoke: rw.req.spoke, placedFrom: int32(rw.req.placedFrom)}
}

// restoreHeader takes back a final rewrite whose header was not sent:
// the fields and the Cache-Control directive it added, and that the
// groups spoke.
func (rw *responseWriter) restoreHeader(s savedHeader) {
	rw.req.status, rw.req.spoke, rw.req.placedFrom = int(s.status), s.spoke, int(s.placedFrom)
	restoreField(rw.hdr, "Set-Cookie", s.fields)
	restoreField(rw.hdr, "Cache-Control", s.cacheControl)
	rw.seen, rw.seenLen = nil, 0
	rw.follow.forget()
}

// restoreField sets the field key of hdr back to values, or removes it if
// it had none.
func restoreField(hdr http.Header, key string, values []string) {
	if values == nil {
		delete(hdr, key)
		return
	}
	hdr[key] = values
}

// Flush implements http.Flusher for handlers that assert it directly.
func (rw *responseWriter) Flush() {
	_ = rw.FlushError()
}

// Hijack rewrites the header map before the connection is taken over: a
// handler that hijacks may still serialise it (as reverse_proxy does for a
// 101 written before hijacking).
//
// A hijack that fails (HTTP/2 and HTTP/3 cannot hijack) has sent nothing,
// so it does not mark the headers as sent, and it takes back what the
// rewrite appended (see FlushError): the handler may answer with an
// error next.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if rw.sent {
		//nolint:bodyclose
		return http.NewResponseController(rw.ResponseWriter).Hijack()
	}
	saved := rw.saveHeader()
	rw.rewriteHeader()
	//nolint:bodyclose
	conn, brw, err := http.NewResponseController(rw.ResponseWriter).Hijack()
	if err != nil {
		rw.restoreHeader(saved)
		return conn, brw, err
	}
	rw.sent = true
	rw.keepBelow()
	return conn, brw, err
}

// afterHandler runs when the handler has returned. A handler that set
// headers and wrote nothing gets net/http's implicit response now, unseen
// by any wrapper: rewrite. Otherwise, if the Set-Cookie fields changed
// since the last rewrite, rewrite them once more: HTTP/3 (quic-go) sends
// the header map with the first flush of its body buffer, which for a
// short body is now, and a Set-Cookie declared in the Trailer header goes
// out now as a trailer. Set-Cookie under the "Trailer:" key prefix is a
// trailer too. Neither late pass appends fields (the consistency rules
// have spoken for the response already).
func (rw *responseWriter) afterHandler() {
	if !rw.sent {
		rw.finalize()
	} else if rw.changedSinceRewrite() {
		rw.rewriteLate()
	}
	rw.rewriteTrailers()
}

// afterError runs when the handler has returned an error without sending
// a response, and the server has error routes (handle_errors) to answer
// it: they write through the writers below this one, after this handler
// has returned, and may have a cookie_normalizer of their own. The fields
// already in the header map get the policies, as in any response; nothing
// is appended. What the consistency rules would append here would go out
// with whatever the error routes write, and a handler in those routes
// would take it for the response's own (a partial expiry's deletion of
// one member, for a log-out to cascade).
//
// Caddy does not restore the request's header fields for the error
// routes, so a cookie_normalizer there would read a Cookie header that a
// handler of this route edited (request_header). The jar as this module
// read it on arrival is left in the request's variables for it (see
// arrivedJar); the outermost module returns last, so its reading stays.
func (rw *responseWriter) afterError(r *http.Request) {
	rw.settleCutRewrite()
	if values := rw.hdr["Set-Cookie"]; len(values) > 0 {
		rw.rewriteFields(values, rw.hdr)
	}
	rw.rewriteTrailers()
	if c := rw.h.norm.consistency; c != nil && c.partial {
		caddyhttp.SetVar(r.Context(), arrivedVar, &arrivedJar{cookies: slices.Clone(rw.req.cookies), crossSite: rw.req.crossSiteFetch})
	}
}

// arrivedVar names the request variable that holds an *arrivedJar.
const arrivedVar = "cookie_normalizer.arrived_jar"

// arrivedJar is what a cookie_normalizer read of the request's jar on
// arrival, kept for the error routes of a request whose handler failed.
type arrivedJar struct {
	cookies   []string
	crossSite bool
}

// rewriteTrailers applies the policies to Set-Cookie fields declared as
// trailers under the "Trailer:" key prefix, which net/http sends after
// the body.
func (rw *responseWriter) rewriteTrailers() {
	if values := rw.hdr[http.TrailerPrefix+"Set-Cookie"]; len(values) > 0 {
		rw.rewriteFields(values, rw.hdr)
	}
}

// rewriteLate applies the policies once more to the Set-Cookie fields of
// the header map, in place and appending nothing (the consistency rules
// have spoken for the response already), and remembers them as rewritten.
func (rw *responseWriter) rewriteLate() {
	if rw.outer && rw.rewriteAdded() {
		return
	}
	values := rw.hdr["Set-Cookie"]
	rw.follow.undo(values)
	rw.h.norm.rewriteJoins(values, responseDate(rw.hdr), rw.h, nil, nil, &rw.follow)
	rw.seen, rw.seenLen = values, len(values)
}

// rewriteAdded applies the policies, in place and appending nothing, to
// the fields the handler added after the list rewriteHeader or keepBelow
// last recorded, when a writer above changed that list during a call that
// sends the header (outer): the fields before them are this rewrite's
// and that writer's, which are not this module's to rewrite, count or
// read again (another cookie_normalizer's appended deletions would look
// like a log-out to this one's cascade). A handler that replaced the
// list's fields gets all of it rewritten. An added field that rules
// reading across fields care about (a consistency member, a like
// leader) gets the whole rewrite instead, as without a writer above: a
// log-out added late must cascade. It reports false, having done
// nothing, for those: the caller rewrites as without a writer above.
func (rw *responseWriter) rewriteAdded() bool {
	values := rw.hdr["Set-Cookie"]
	added := values
	// An append may have moved the list to a new array: the fields
	// before the added ones are those recorded, equal.
	if n := rw.seenLen; n > 0 && len(values) >= n && slices.Equal(values[:n], rw.seen[:n]) {
		added = values[n:]
	}
	if rw.h.norm.readsAcross(added) {
		return false
	}
	if len(added) > 0 {
		rw.h.norm.rewrite(added, responseDate(rw.hdr), rw.h, nil)
	}
	rw.seen, rw.seenLen = values, len(values)
	return true
}

// rewriteFields applies the policies to fields in place.
func (rw *responseWriter) rewriteFields(values []string, hdr http.Header) {
	rw.h.norm.rewrite(values, responseDate(hdr), rw.h, nil)
}

// placedFromReplaced reads, under report_only, the fields the last
// rewrite did not see as all the response's fields when the handler
// replaced the list since (values does not begin with it): placedFrom
// counts positions in that list, which no longer hold the fields read
// (see placeDeletions). Out of line: only a report_only rewrite after
// one that read a field runs it.
//
//go:noinline
func (rw *responseWriter) placedFromReplaced(values []string) {
	if n := rw.seenLen; len(values) < n || !slices.Equal(values[:n], rw.seen[:n]) {
		rw.req.placedFrom = 0
	}
}

// keepKeepers records the fields at the positions request.keepFrom and
// keepTo span, from out, the fields a rewrite returned, in the follower log,
// which the later passes over the response read (see
// followerLog.keepers). Out of line: only a cascade after a field the
// engines read apart records any.
//
//go:noinline
func (rw *responseWriter) keepKeepers(out []string) {
	from, to := int(rw.req.keepFrom), min(int(rw.req.keepTo), len(out))
	if from < to {
		rw.follow.keepers = append(rw.follow.keepers, out[from:to]...)
	}
	rw.req.keepFrom, rw.req.keepTo = 0, 0
}

// responseDate is the response's Date header, "" without one.
func responseDate(hdr http.Header) string {
	if d := hdr["Date"]; len(d) > 0 {
		return d[0]
	}
	return ""
}

// Interface guards.
var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)
