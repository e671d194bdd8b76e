package cookienormalizer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// The history-independence test: what a response sends (each 1xx's
// header, the final status and header with every field in order, the
// body, trailers, the header map as the handler leaves it, what
// ServeHTTP returns or the panic that ends it, and what the module
// logs) depends only on that request, what the handler behind the module
// does for it, the config and the clock; never on the requests the same
// Handler, and the same pooled response writers, served before.
//
// Each random config serves a sequence of random requests through one
// long-lived Handler, one after the other, so that each takes the writer
// the one before put back into the pool (and meets the Handler's memo
// and Date cache as the earlier responses left them). Then each request
// is served again alone, through a freshly provisioned Handler, on a
// writer the pool makes new for it. The two must send the same bytes. A
// difference is shrunk to the shortest run of earlier requests that
// still shows it, and told apart: state kept by the pooled writer, or by
// the Handler. Each request also checks, as the handler behind the
// module starts, that its writer holds nothing of an earlier response.
//
// The handlers behind the module add fields before and after
// WriteHeader, send 103s, flush (failing or not, through
// http.ResponseController or http.Flusher), hijack (failing or not),
// write, io.Copy (ReadFrom), filter the fields, add trailers, edit the
// Cookie header, return errors (with error routes behind the same
// module, which may fail in turn) or panic; the logger's core may panic
// in the middle of a rewrite, and the handler may recover such a panic
// and answer 500. A panic that is not recovered closes the connection:
// nothing more is sent.
//
// Handlers of one to three configs share the pool, their requests
// interleaved. HISTORY_SEED and HISTORY_WORLDS set the seed and the
// number of such sets of configs (each serving historyRequests requests);
// HISTORY_LOG_PANICS=0 leaves out the logger's core panicking in the
// middle of a rewrite.

const (
	historyDefaultSeed   = 1
	historyDefaultWorlds = 300
	historyRequests      = 24
	historyMaxFailures   = 3
)

// historyOpKind is one step of the handler behind the module.
type historyOpKind uint8

const (
	histAdd         historyOpKind = iota // add Set-Cookie fields
	histFilter                           // replace the Set-Cookie slice: the first field taken out, a deletion of the second's cookie added
	histSetHeader                        // set a header field (Cache-Control, Clear-Site-Data)
	histEarlyHints                       // WriteHeader(103)
	histFlushFails                       // a flush the writer below refuses
	histHijackFails                      // a hijack the writer below refuses
	histFlush                            // a flush that succeeds
	histHijack                           // a hijack that succeeds; the handler returns after it
	histWriteHeader                      // WriteHeader(status)
	histWrite                            // Write
	histReadFrom                         // io.Copy of a reader that is not a WriterTo: ReadFrom
	histEditCookie                       // edit the request's Cookie[0] in place (request_header)
	histTrailer                          // add a Set-Cookie trailer under the "Trailer:" key prefix
	histReturnError                      // return an error
	histPanic                            // panic
)

// historyOp is a step, with what it needs.
type historyOp struct {
	kind   historyOpKind
	fields []string
	status int
	key    string // histSetHeader
	value  string // histSetHeader, histEditCookie, histPanic
	err    error
}

// historyScenario is a request and what the handler behind the module
// does for it.
type historyScenario struct {
	https, http3 bool
	fetchSite    string
	cookies      []string // the Cookie fields (nil: none)
	date         string
	cacheControl []string
	cdnControl   []string
	// serialise is when the writer below sends the final header:
	// histEarly at WriteHeader (net/http), histLate at the first body
	// byte or flush, histQUIC at the second body write, a flush or the
	// handler's return (quic-go).
	serialise int
	// errorRoutes: the server has error routes, whose handler (behind
	// the same module) runs errorPage when the handler fails.
	errorRoutes bool
	ops         []historyOp
	errorPage   []historyOp
	// logPanic, if not 0, makes the logger's core panic at its
	// logPanic-th entry of the response (only where the config logs).
	logPanic int
	// recoverInner: the handler behind the module recovers a panic of
	// its steps (a rewrite's, under a call to the module's writer), and
	// answers 500.
	recoverInner bool
}

const (
	histEarly = iota
	histLate
	histQUIC
)

// String writes the scenario out.
func (s *historyScenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "    https=%v http3=%v Sec-Fetch-Site=%q Date=%q Cache-Control=%q CDN-Cache-Control=%q serialise=%d errorRoutes=%v logPanic=%d recoverInner=%v\n",
		s.https, s.http3, s.fetchSite, s.date, s.cacheControl, s.cdnControl, s.serialise, s.errorRoutes, s.logPanic, s.recoverInner)
	fmt.Fprintf(&b, "    Cookie: %q\n", clip(s.cookies))
	writeHistoryOps(&b, s.ops)
	if len(s.errorPage) > 0 {
		b.WriteString("    error route:\n")
		writeHistoryOps(&b, s.errorPage)
	}
	return b.String()
}

func writeHistoryOps(b *strings.Builder, ops []historyOp) {
	for _, o := range ops {
		switch o.kind {
		case histAdd:
			fmt.Fprintf(b, "    add Set-Cookie %q\n", clip(o.fields))
		case histFilter:
			b.WriteString("    filter Set-Cookie (drop the first, delete the second's cookie)\n")
		case histSetHeader:
			fmt.Fprintf(b, "    set %s: %q\n", o.key, o.value)
		case histEarlyHints:
			b.WriteString("    WriteHeader(103)\n")
		case histFlushFails:
			b.WriteString("    Flush (fails)\n")
		case histHijackFails:
			b.WriteString("    Hijack (fails)\n")
		case histFlush:
			b.WriteString("    Flush\n")
		case histHijack:
			b.WriteString("    Hijack\n")
		case histWriteHeader:
			fmt.Fprintf(b, "    WriteHeader(%d)\n", o.status)
		case histWrite:
			b.WriteString("    Write\n")
		case histReadFrom:
			b.WriteString("    ReadFrom\n")
		case histEditCookie:
			fmt.Fprintf(b, "    edit Cookie[0] to %q\n", o.value)
		case histTrailer:
			fmt.Fprintf(b, "    add trailer Set-Cookie %q\n", clip(o.fields))
		case histReturnError:
			fmt.Fprintf(b, "    return %v\n", o.err)
		case histPanic:
			fmt.Fprintf(b, "    panic(%q)\n", o.value)
		}
	}
}

// historyWriter is the writer below the module: it records, as lines,
// everything that reaches it, each header with every field in order.
type historyWriter struct {
	header     http.Header
	serialise  int
	status     int
	sent       bool
	writes     int
	failFlush  bool
	failHijack bool
	conns      []net.Conn
	events     []string
}

func (w *historyWriter) Header() http.Header { return w.header }

// dump writes the header map: its keys sorted, each key's values in
// order.
func (w *historyWriter) dump() string {
	keys := make([]string, 0, len(w.header))
	for k := range w.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n      %s: %q", k, clip(w.header[k]))
	}
	return b.String()
}

func (w *historyWriter) send(why string) {
	if w.sent {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.sent = true
	w.events = append(w.events, fmt.Sprintf("header %d (%s):%s", w.status, why, w.dump()))
}

func (w *historyWriter) WriteHeader(status int) {
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		w.events = append(w.events, fmt.Sprintf("%d:%s", status, w.dump()))
		return
	}
	if w.status != 0 {
		w.events = append(w.events, fmt.Sprintf("superfluous WriteHeader(%d)", status))
		return
	}
	w.status = status
	if w.serialise == histEarly {
		w.send("at WriteHeader")
	}
}

func (w *historyWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.serialise != histQUIC || w.writes > 1 {
		w.send("at a write")
	}
	w.events = append(w.events, "body "+strconv.Quote(string(p)))
	return len(p), nil
}

func (w *historyWriter) FlushError() error {
	if w.failFlush {
		return errors.New("flush not supported")
	}
	w.send("at a flush")
	w.events = append(w.events, "flush")
	return nil
}

func (w *historyWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.failHijack {
		return nil, nil, http.ErrNotSupported
	}
	w.events = append(w.events, "hijacked:"+w.dump())
	c1, c2 := net.Pipe()
	w.conns = append(w.conns, c1, c2)
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}

// end is what the server does when the handlers have returned: it sends
// the header if it has not yet. A handler that panicked has its
// connection (or stream) closed: nothing more is sent, and the header
// map is never read again.
func (w *historyWriter) end(panicked bool) {
	if panicked {
		w.events = append(w.events, "aborted")
	} else {
		w.send("at the end")
		w.events = append(w.events, "as the handler left it:"+w.dump())
	}
	for _, c := range w.conns {
		c.Close()
	}
}

// historyResult is what a response sent, and what the module logged.
type historyResult struct {
	events []string
	err    string
	panic  string
	logs   []string
	// logPanicked: the logger's core panicked during the response. The
	// bytes sent must still not depend on history, but the logs and
	// counts of the rewrite a handler's recovery runs again may: the
	// interrupted rewrite had written some fields in place (those the
	// Handler's memo had not seen before) and only recorded others, so
	// the second one finds the first unchanged and rewrites the others.
	logPanicked bool
	// dirty lists what the module's writer held, as the handler behind
	// it started, that a new writer does not hold.
	dirty []string
}

func (r historyResult) same(o historyResult) bool {
	return slices.Equal(r.events, o.events) && r.err == o.err && r.panic == o.panic &&
		(r.logPanicked || o.logPanicked || slices.Equal(r.logs, o.logs))
}

func (r historyResult) String() string {
	var b strings.Builder
	for _, e := range r.events {
		b.WriteString("\n    " + e)
	}
	fmt.Fprintf(&b, "\n    returned %q, panic %q\n    logged %q", r.err, r.panic, r.logs)
	return b.String()
}

// diff names the first difference between two results.
func (r historyResult) diff(o historyResult) string {
	for i := range max(len(r.events), len(o.events)) {
		a, b := "(none)", "(none)"
		if i < len(r.events) {
			a = r.events[i]
		}
		if i < len(o.events) {
			b = o.events[i]
		}
		if a != b {
			return fmt.Sprintf("event %d:\n    %s\n  against\n    %s", i, a, b)
		}
	}
	if r.err != o.err || r.panic != o.panic {
		return fmt.Sprintf("returned %q / panic %q against %q / %q", r.err, r.panic, o.err, o.panic)
	}
	return fmt.Sprintf("logs %q against %q", r.logs, o.logs)
}

// historyHandler is a provisioned Handler for cfg with the tests' fixed
// clock, and its logger's core when it logs (nil otherwise).
type historyHandler struct {
	h    *Handler
	core *recordingCore
}

func newHistoryHandler(cfg *stressConfig, logs bool) (*historyHandler, error) {
	h := cfg.handler()
	hh := &historyHandler{h: h}
	if logs {
		hh.core = &recordingCore{}
		h.setLogger(zap.New(hh.core))
	} else {
		h.setLogger(benchLogger())
	}
	if err := h.provision(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	h.norm.now = func() time.Time { return testClock }
	return hh, nil
}

// checkFreshWriter reports what rw holds, as the handler behind the
// module starts, that newResponseWriter leaves to earlier responses.
func checkFreshWriter(rw *responseWriter) []string {
	var dirty []string
	if rw.joins != (fieldJoins{}) {
		dirty = append(dirty, fmt.Sprintf("joins %+v", rw.joins))
	}
	if rw.follow.n != 0 || rw.follow.more != nil || rw.follow.at != [len(rw.follow.at)]followedField{} {
		dirty = append(dirty, fmt.Sprintf("follower log %+v", rw.follow))
	}
	if rw.sent || rw.bodyStarted || rw.seen != nil || rw.seenLen != 0 {
		dirty = append(dirty, fmt.Sprintf("sent %v, bodyStarted %v, seen %q (%d)", rw.sent, rw.bodyStarted, rw.seen, rw.seenLen))
	}
	if q := rw.req; q.status != 0 || q.private || q.spoke != 0 {
		dirty = append(dirty, fmt.Sprintf("request status %d, private %v, spoke %b", q.status, q.private, q.spoke))
	}
	return dirty
}

// historyPool lets a test tell whether the pool made a new writer.
type historyPool struct{ made int }

// drain empties the pool (as far as this goroutine can see it), so that
// the next writer taken from it is a new one.
func (p *historyPool) drain() {
	for before := p.made; p.made == before; {
		responseWriterPool.Get()
	}
}

// installHistoryPool counts the writers the pool makes, for the test.
func installHistoryPool(t *testing.T) *historyPool {
	p := &historyPool{}
	old := responseWriterPool.New
	responseWriterPool.New = func() any {
		p.made++
		return new(responseWriter)
	}
	t.Cleanup(func() { responseWriterPool.New = old })
	return p
}

// runHistory serves s through hh. With fresh (not nil), each ServeHTTP
// takes a writer the pool makes new for it.
func runHistory(hh *historyHandler, s *historyScenario, fresh *historyPool) historyResult {
	if hh.core != nil {
		hh.core.reset(s.logPanic)
	}
	var dirty []string
	res := serveScenario(hh.h, s, func() {
		if fresh != nil {
			fresh.drain()
		}
	}, func(rw http.ResponseWriter) {
		if mw, ok := rw.(*responseWriter); ok {
			dirty = append(dirty, checkFreshWriter(mw)...)
		}
	})
	res.dirty = dirty
	if hh.core != nil {
		res.logs = hh.core.lines()
		res.logPanicked = hh.core.panicked()
	}
	return res
}

// serveScenario serves s through mw on a writer below that records what
// reaches it, and, if the handler fails on a server with error routes,
// serves the error page through mw again, as Caddy's server does (the
// server's error routes hold mw). before runs before each ServeHTTP,
// enter as the handler behind mw starts (nil: nothing).
func serveScenario(mw caddyhttp.MiddlewareHandler, s *historyScenario, before func(), enter func(http.ResponseWriter)) (res historyResult) {
	req, srv := requestShape{
		https: s.https, errorRoutes: s.errorRoutes, http3: s.http3, cookies: s.cookies, fetchSite: s.fetchSite,
		errorRoute: caddyhttp.Route{Handlers: []caddyhttp.MiddlewareHandler{mw}},
	}.request()
	w := &historyWriter{header: http.Header{}, serialise: s.serialise, failHijack: true}
	handler := func(ops []historyOp, first bool) caddyhttp.Handler {
		return caddyhttp.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) (err error) {
			if enter != nil {
				enter(rw)
			}
			if first {
				if s.date != "" {
					rw.Header().Set("Date", s.date)
				}
				if s.cacheControl != nil {
					rw.Header()["Cache-Control"] = slices.Clone(s.cacheControl)
				}
				if s.cdnControl != nil {
					rw.Header()["Cdn-Cache-Control"] = slices.Clone(s.cdnControl)
				}
			}
			if !s.recoverInner {
				return playHistory(w, rw, r, ops)
			}
			// A handler that recovers a panic of its own steps (the
			// module's rewrite among them) and answers 500.
			recovered := func() (p any) {
				defer func() { p = recover() }()
				err = playHistory(w, rw, r, ops)
				return nil
			}()
			if recovered == nil {
				return err
			}
			rw.WriteHeader(http.StatusInternalServerError)
			_, err = io.WriteString(rw, "recovered")
			return err
		})
	}
	serve := func(r *http.Request, next caddyhttp.Handler) (panicked any, err error) {
		defer func() { panicked = recover() }()
		if before != nil {
			before()
		}
		return nil, mw.ServeHTTP(w, r, next)
	}
	p, err := serve(req, handler(s.ops, true))
	if err != nil && p == nil && s.errorRoutes {
		res.events = append(res.events, "error routes for: "+err.Error())
		p, err = serve(srv.Errors.WithError(req, err), handler(s.errorPage, false))
	}
	if err != nil {
		res.err = err.Error()
	}
	if p != nil {
		res.panic = fmt.Sprint(p)
	}
	w.end(p != nil)
	res.events = append(res.events, w.events...)
	return res
}

// filterSetCookie is the histFilter step: a middleware that takes out
// the first Set-Cookie field and logs out the cookie of the next.
func filterSetCookie(hdr http.Header) {
	if fields := hdr["Set-Cookie"]; len(fields) > 0 {
		out := slices.Clone(fields[1:])
		if len(out) > 0 {
			if name, ok := cookieName(out[0]); ok {
				out = append(out, name+"=; Max-Age=0")
			}
		}
		hdr["Set-Cookie"] = out
	}
}

// playHistory runs the steps of a handler on rw, the module's writer
// over w.
func playHistory(w *historyWriter, rw http.ResponseWriter, r *http.Request, ops []historyOp) error {
	for _, o := range ops {
		switch o.kind {
		case histAdd:
			for _, f := range o.fields {
				rw.Header().Add("Set-Cookie", f)
			}
		case histFilter:
			filterSetCookie(rw.Header())
		case histSetHeader:
			rw.Header().Set(o.key, o.value)
		case histEarlyHints:
			rw.WriteHeader(http.StatusEarlyHints)
		case histFlushFails:
			w.failFlush = true
			if err := http.NewResponseController(rw).Flush(); err == nil {
				panic("a flush the writer below refuses succeeded")
			}
			w.failFlush = false
		case histHijackFails:
			if _, _, err := http.NewResponseController(rw).Hijack(); err == nil {
				panic("a hijack the writer below refuses succeeded")
			}
		case histFlush:
			if o.status != 0 { // as a handler that asserts http.Flusher
				rw.(http.Flusher).Flush()
				continue
			}
			if err := http.NewResponseController(rw).Flush(); err != nil {
				panic(err)
			}
		case histHijack:
			w.failHijack = false
			_, _, err := http.NewResponseController(rw).Hijack()
			w.failHijack = true
			if err != nil {
				panic(err)
			}
			return nil
		case histWriteHeader:
			rw.WriteHeader(o.status)
		case histWrite:
			if _, err := io.WriteString(rw, "body"); err != nil {
				panic(err)
			}
		case histReadFrom:
			if _, err := io.Copy(rw, bytesReader("copied")); err != nil {
				panic(err)
			}
		case histEditCookie:
			if c := r.Header["Cookie"]; len(c) > 0 {
				c[0] = o.value
			}
		case histTrailer:
			for _, f := range o.fields {
				rw.Header().Add(http.TrailerPrefix+"Set-Cookie", f)
			}
		case histReturnError:
			return o.err
		case histPanic:
			panic(o.value)
		}
	}
	return nil
}

// historyFollowers are the cookies of the `like` group added for more
// followers than the writer's follower log keeps without allocating.
var historyFollowers = []string{"f1", "f2", "f3", "f4", "f5", "f6"}

// genHistoryConfig returns a random config (see genStressConfig), now and
// then with a `like` group of six followers, and whether its handler
// logs every rewrite.
func genHistoryConfig(r *rand.Rand) (*stressConfig, bool) {
	cfg := genStressConfig(r)
	if r.Intn(3) == 0 {
		leader := cfg.groups[0].members[0]
		if r.Intn(3) == 0 {
			leader = "ldr"
		}
		g := &stressGroup{members: slices.Clone(historyFollowers), like: leader}
		g.Label, g.Cookies = "mf", slices.Clone(g.members)
		g.Expire = &ExpiryPolicy{Mode: modeLike, Like: leader}
		if r.Intn(3) == 0 {
			g.OnDelete = onDeleteCascade
		}
		if r.Intn(3) == 0 {
			g.HTTPOnly = on()
		}
		at := len(cfg.groups)
		if last := cfg.groups[at-1]; last.Label == "all" {
			at-- // before the lock-down group, which would claim them
		}
		cfg.groups = slices.Insert(cfg.groups, at, g)
	}
	return cfg, r.Intn(3) == 0
}

// historyCookieValue is a value for a pair of the Cookie header.
func historyCookieValue(r *rand.Rand) string {
	if r.Intn(4) == 0 {
		return stressCookieValue(r)
	}
	return "c" + strconv.Itoa(r.Intn(5))
}

// genHistoryCookies returns the Cookie fields of a request: zero to six
// fields holding each member once, twice or not at all, stamps (fresh,
// stale or unreadable) and other pairs.
func genHistoryCookies(r *rand.Rand, cfg *stressConfig) []string {
	var pairs []string
	whole := r.Intn(3) == 0
	for _, g := range cfg.groups {
		for _, m := range g.members {
			switch k := r.Intn(10); {
			case whole:
				pairs = append(pairs, m+"=c"+strconv.Itoa(r.Intn(5)))
			case k < 4:
			case k < 9:
				pairs = append(pairs, m+"="+historyCookieValue(r))
			default:
				pairs = append(pairs, m+"="+historyCookieValue(r), m+"="+historyCookieValue(r))
			}
		}
		if g.stamp != "" && r.Intn(3) > 0 {
			pairs = append(pairs, g.stamp+"="+stressStampValue(r, g))
		}
	}
	for i := r.Intn(3); i > 0; i-- {
		pairs = append(pairs, stressPick(r, "other=1", "nameless", " x = y ", "=v"))
	}
	n := r.Intn(7) // fields
	if n == 0 || len(pairs) == 0 {
		if r.Intn(4) == 0 {
			return []string{""}
		}
		return nil
	}
	r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
	fields := make([]string, n)
	for i, p := range pairs {
		k := i % n
		if i >= n {
			k = r.Intn(n)
		}
		if fields[k] != "" {
			fields[k] += stressPick(r, "; ", ";")
		}
		fields[k] += p
	}
	return fields
}

// historyFieldGen generates Set-Cookie fields for a config's cookies.
type historyFieldGen struct {
	*stressFieldGen
	many bool // the config has the six-follower group
}

func (g *historyFieldGen) values(fields []stressField) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.value
	}
	return out
}

// some returns up to most random fields.
func (g *historyFieldGen) some(most int) []string {
	out := g.values(g.fields(most))
	if g.many && g.r.Intn(3) == 0 {
		out = append(out, g.followers6()...)
	}
	return out
}

// followers6 returns fields for each of the six followers.
func (g *historyFieldGen) followers6() []string {
	var out []string
	for _, f := range historyFollowers {
		out = append(out, f+"=v"+strconv.Itoa(g.r.Intn(5))+stressPick(g.r, "", "; Max-Age=3600", "; Path=/"))
	}
	return out
}

// lots returns many fields: a dozen to forty, of the config's cookies
// with the few tails an app repeats, more than the writer's joins and
// follower log hold.
func (g *historyFieldGen) lots() []string {
	r := g.r
	tails := []string{"; Path=/; Max-Age=3600", "; Path=/; HttpOnly", "", "; Max-Age=0", "; Expires=Wed, 01 Jan 2031 00:00:00 GMT"}
	var out []string
	for range 12 + r.Intn(29) {
		name := g.names[r.Intn(len(g.names))]
		out = append(out, name+"=v"+strconv.Itoa(r.Intn(50))+tails[r.Intn(len(tails))])
	}
	if g.many {
		out = append(out, g.followers6()...)
	}
	return out
}

var historyErrors = []error{
	caddyhttp.Error(http.StatusBadGateway, errors.New("dial")),
	errors.New("plain"),
	caddyhttp.Error(http.StatusNotFound, nil),
}

// genHistoryScenario returns a random request and handler for cfg.
func genHistoryScenario(r *rand.Rand, cfg *stressConfig, logs bool) *historyScenario {
	s := &historyScenario{https: r.Intn(2) == 0, http3: r.Intn(4) == 0, serialise: r.Intn(3)}
	if s.http3 {
		s.serialise = histQUIC
	}
	s.fetchSite = stressPick(r, "", "", "same-origin", "cross-site", "none")
	s.date = stressDates[r.Intn(len(stressDates))].header
	s.cacheControl = stressCacheControls[max(0, r.Intn(8)-2)].fields
	s.cdnControl = stressCDNControls[max(0, r.Intn(10)-7)].fields
	s.cookies = genHistoryCookies(r, cfg)
	gen := &historyFieldGen{stressFieldGen: newStressFieldGen(r, cfg)}
	for _, g := range cfg.groups {
		if g.Label == "mf" {
			gen.many = true
			gen.names = append(gen.names, historyFollowers...)
		}
	}
	var ops []historyOp
	add := func(fields []string) {
		if len(fields) > 0 {
			ops = append(ops, historyOp{kind: histAdd, fields: fields})
		}
	}
	status := func() int { return []int{200, 200, 204, 302, 404, 500}[r.Intn(6)] }
	if r.Intn(5) == 0 {
		add(gen.lots())
	} else {
		add(gen.some(4))
	}
	if r.Intn(4) == 0 {
		add(gen.values(gen.followers()))
	}
	if r.Intn(8) == 0 {
		ops = append(ops, historyOp{kind: histSetHeader, key: "Clear-Site-Data", value: stressPick(r, `"cookies"`, `"cache"`)})
	}
	if r.Intn(6) == 0 {
		names := gen.members()
		ops = append(ops, historyOp{kind: histEditCookie, value: names[r.Intn(len(names))] + "=edited"})
	}
	for range r.Intn(3) {
		if r.Intn(2) == 0 {
			ops = append(ops, historyOp{kind: histEarlyHints})
			add(gen.some(2))
		}
	}
	switch r.Intn(6) {
	case 0:
		ops = append(ops, historyOp{kind: histFlushFails})
		add(gen.some(2))
	case 1:
		ops = append(ops, historyOp{kind: histHijackFails})
		add(gen.some(2))
	}
	if r.Intn(8) == 0 {
		ops = append(ops, historyOp{kind: histTrailer, fields: gen.some(2)})
	}
	switch r.Intn(14) {
	case 0: // WriteHeader, fields, Write
		ops = append(ops, historyOp{kind: histWriteHeader, status: status()})
		add(gen.some(2))
		ops = append(ops, historyOp{kind: histWrite})
	case 1: // Write, then fields after the body
		ops = append(ops, historyOp{kind: histWrite})
		add(gen.some(2))
	case 2: // WriteHeader, fields, no body
		ops = append(ops, historyOp{kind: histWriteHeader, status: status()})
		add(gen.some(2))
	case 3, 4: // an error, having written nothing
		ops = append(ops, historyOp{kind: histReturnError, err: historyErrors[r.Intn(len(historyErrors))]})
		if s.errorRoutes = r.Intn(3) > 0; s.errorRoutes {
			s.errorPage = genHistoryErrorPage(r, gen, status)
		}
	case 5: // WriteHeader, Write, fields, Write (HTTP/3 sends the header now)
		ops = append(ops, historyOp{kind: histWriteHeader, status: status()}, historyOp{kind: histWrite})
		add(gen.some(2))
		ops = append(ops, historyOp{kind: histWrite})
	case 6: // a flush that sends the header, fields, Write
		ops = append(ops, historyOp{kind: histFlush, status: r.Intn(2)})
		add(gen.some(2))
		ops = append(ops, historyOp{kind: histWrite})
	case 7: // nothing written: the implicit 200
	case 8: // ReadFrom, fields, ReadFrom
		if r.Intn(2) == 0 {
			ops = append(ops, historyOp{kind: histWriteHeader, status: status()})
			add(gen.some(2))
		}
		ops = append(ops, historyOp{kind: histReadFrom})
		add(gen.some(1))
		ops = append(ops, historyOp{kind: histReadFrom})
	case 9: // a hijack, after a 101 or not
		if r.Intn(2) == 0 {
			ops = append(ops, historyOp{kind: histWriteHeader, status: http.StatusSwitchingProtocols})
		}
		ops = append(ops, historyOp{kind: histHijack})
	case 10: // WriteHeader, a flush, fields, Write
		ops = append(ops, historyOp{kind: histWriteHeader, status: status()}, historyOp{kind: histFlush})
		add(gen.some(2))
		ops = append(ops, historyOp{kind: histWrite})
	case 11: // a panic, before the header or after it
		switch r.Intn(3) {
		case 0:
			ops = append(ops, historyOp{kind: histWriteHeader, status: status()})
			add(gen.some(2))
		case 1:
			ops = append(ops, historyOp{kind: histWrite})
		}
		ops = append(ops, historyOp{kind: histPanic, value: stressPick(r, "handler failed", http.ErrAbortHandler.Error())})
	case 12: // a middleware filters the fields after WriteHeader
		ops = append(ops, historyOp{kind: histWriteHeader, status: status()}, historyOp{kind: histFilter}, historyOp{kind: histWrite})
	case 13: // filtered before WriteHeader, then a body
		ops = append(ops, historyOp{kind: histFilter})
		add(gen.some(2))
		ops = append(ops, historyOp{kind: histWrite})
	}
	s.ops = ops
	if logs && historyLogPanics && r.Intn(5) == 0 {
		s.logPanic = 1 + r.Intn(12)
	}
	s.recoverInner = r.Intn(3) == 0
	return s
}

// genHistoryErrorPage returns the steps of an error route: fields, then
// a status and a body, a body, nothing, or an error of its own.
func genHistoryErrorPage(r *rand.Rand, gen *historyFieldGen, status func() int) []historyOp {
	var ops []historyOp
	if fields := gen.some(2); len(fields) > 0 {
		ops = append(ops, historyOp{kind: histAdd, fields: fields})
	}
	switch r.Intn(4) {
	case 0:
		ops = append(ops, historyOp{kind: histWriteHeader, status: status()}, historyOp{kind: histWrite})
	case 1:
		ops = append(ops, historyOp{kind: histWrite})
	case 2:
		ops = append(ops, historyOp{kind: histReturnError, err: historyErrors[r.Intn(len(historyErrors))]})
	}
	return ops
}

// historyWorld is the configs of the Handlers that share the pool of
// writers, and whether each logs every rewrite.
type historyWorld struct {
	cfgs []*stressConfig
	logs []bool
}

// handler provisions a new Handler for the world's config i.
func (w *historyWorld) handler(t *testing.T, i int) *historyHandler {
	t.Helper()
	hh, err := newHistoryHandler(w.cfgs[i], w.logs[i])
	if err != nil {
		t.Fatalf("config %s: provisioned once, then %v", w.cfgs[i], err)
	}
	return hh
}

func (w *historyWorld) String() string {
	var b strings.Builder
	for i, cfg := range w.cfgs {
		fmt.Fprintf(&b, "\n  config %d (logs: %v): %s", i, w.logs[i], cfg)
	}
	return b.String()
}

// historyStep is a request and the config whose Handler serves it.
type historyStep struct {
	at int
	s  *historyScenario
}

// historyRun serves steps through new Handlers for the world's configs,
// one after the other, each on the writer the pool hands it (the first
// on a new one); with freshLast, the last step too takes a new writer.
func historyRun(t *testing.T, w *historyWorld, steps []historyStep, pool *historyPool, freshLast bool) []historyResult {
	t.Helper()
	hs := make([]*historyHandler, len(w.cfgs))
	for i := range hs {
		hs[i] = w.handler(t, i)
	}
	pool.drain()
	out := make([]historyResult, len(steps))
	for i, st := range steps {
		var fresh *historyPool
		if freshLast && i == len(steps)-1 {
			fresh = pool
		}
		out[i] = runHistory(hs[st.at], st.s, fresh)
	}
	return out
}

// historyAlone serves st alone through a new Handler, on a new writer
// (with pool) or the one the pool hands it (nil).
func historyAlone(t *testing.T, w *historyWorld, st historyStep, pool *historyPool) historyResult {
	t.Helper()
	return runHistory(w.handler(t, st.at), st.s, pool)
}

// shrinkHistory returns the shortest run of the steps before st (in
// their order) after which st gives something other than want, and says
// whether it is the pooled writer or the Handler that carries the
// difference.
func shrinkHistory(t *testing.T, w *historyWorld, before []historyStep, st historyStep, want historyResult, pool *historyPool) ([]historyStep, string) {
	t.Helper()
	differs := func(prefix []historyStep) bool {
		res := historyRun(t, w, append(slices.Clone(prefix), st), pool, false)
		return !res[len(res)-1].same(want)
	}
	var found []historyStep
	for j := len(before) - 1; j >= 0 && found == nil; j-- {
		if differs(before[j : j+1]) {
			found = before[j : j+1]
		}
	}
	if found == nil {
		if !differs(before) {
			return nil, "not reproduced (the pool handed another writer?)"
		}
		// Greedy: take out each earlier request that is not needed.
		found = slices.Clone(before)
		for i := len(found) - 1; i >= 0; i-- {
			if shorter := slices.Delete(slices.Clone(found), i, i+1); differs(shorter) {
				found = shorter
			}
		}
	}
	// The writer, or the Handler? The same earlier requests, but st on a
	// new writer; then st through a new Handler, on the writer they leave.
	var carrier []string
	if res := historyRun(t, w, append(slices.Clone(found), st), pool, true); !res[len(res)-1].same(want) {
		carrier = append(carrier, "the Handler (on a new writer it still differs)")
	}
	historyRun(t, w, found, pool, false)
	if other := historyAlone(t, w, st, nil); !other.same(want) {
		carrier = append(carrier, "the pooled writer (through a new Handler, on the writer the earlier requests left, it differs)")
	}
	return found, strings.Join(carrier, "; ")
}

// genHistoryWorld returns one to three configs that provision.
func genHistoryWorld(r *rand.Rand) *historyWorld {
	w := &historyWorld{}
	for n := 1 + r.Intn(3); len(w.cfgs) < n; {
		cfg, logs := genHistoryConfig(r)
		if _, err := newHistoryHandler(cfg, logs); err != nil {
			continue
		}
		w.cfgs, w.logs = append(w.cfgs, cfg), append(w.logs, logs)
	}
	return w
}

// historyLogPanics is whether the generated requests make the logger's
// core panic (HISTORY_LOG_PANICS=0: never).
var historyLogPanics = true

// TestHistoryIndependence: see the top of this file.
func TestHistoryIndependence(t *testing.T) {
	historyLogPanics = stressEnv(t, "HISTORY_LOG_PANICS", 1) != 0
	seed := stressEnv(t, "HISTORY_SEED", historyDefaultSeed)
	worlds := stressEnv(t, "HISTORY_WORLDS", historyDefaultWorlds)
	pool := installHistoryPool(t)
	r := rand.New(rand.NewSource(seed))
	start := time.Now()
	var served, failures, made int
	for range worlds {
		w := genHistoryWorld(r)
		hs := make([]*historyHandler, len(w.cfgs))
		for i := range hs {
			hs[i] = w.handler(t, i)
		}
		steps := make([]historyStep, historyRequests)
		results := make([]historyResult, historyRequests)
		before := pool.made
		for k := range steps {
			at := r.Intn(len(w.cfgs))
			steps[k] = historyStep{at, genHistoryScenario(r, w.cfgs[at], w.logs[at])}
			results[k] = runHistory(hs[at], steps[k].s, nil)
			served++
		}
		made += pool.made - before
		for k, st := range steps {
			if len(results[k].dirty) > 0 {
				t.Errorf("seed %d, configs %s: request %d started on a writer that holds %q", seed, w, k, results[k].dirty)
			}
			alone := historyAlone(t, w, st, pool)
			if alone.same(results[k]) {
				continue
			}
			failures++
			if again := historyAlone(t, w, st, pool); !again.same(alone) {
				t.Errorf("seed %d, configs %s: request %d is not deterministic: alone it gave%s\n  then%s\n  scenario:\n%s", seed, w, k, alone, again, st.s)
			} else {
				prefix, carrier := shrinkHistory(t, w, steps[:k], st, alone, pool)
				var b strings.Builder
				for i, p := range prefix {
					fmt.Fprintf(&b, "  earlier request %d (config %d):\n%s", i, p.at, p.s)
				}
				t.Errorf("seed %d (HISTORY_SEED=%d), configs %s:\n request %d (config %d) differs after %d earlier requests (carried by %s): %s\n%s  the request:\n%s  alone it gave:%s\n  after them:%s",
					seed, seed, w, k, st.at, len(prefix), carrier, alone.diff(results[k]), b.String(), st.s, alone, results[k])
			}
			if failures >= historyMaxFailures {
				t.Fatalf("stopped after %d differences", failures)
			}
		}
	}
	t.Logf("seed %d: %d requests over %d sets of configs in %v, on %d new writers (the others on writers earlier requests put back)", seed, served, worlds, time.Since(start).Round(time.Millisecond), made)
}

// serveHistoryPair serves before, then after, through one Handler for
// config whose logger's core panics at the panicAt-th entry of after;
// and after alone through a new Handler, on a new writer. It returns
// what the writer below received for after in both runs.
func serveHistoryPair(t *testing.T, config string, before, after func(w http.ResponseWriter) error, panicAt int) (alone, afterBefore historyResult) {
	t.Helper()
	pool := installHistoryPool(t)
	handler := func() *historyHandler {
		h, err := provisionJSON(t, config)
		if err != nil {
			t.Fatal(err)
		}
		core := &recordingCore{}
		h.setLogger(zap.New(core))
		h.norm.now = func() time.Time { return testClock }
		return &historyHandler{h: h, core: core}
	}
	serve := func(hh *historyHandler, write func(w http.ResponseWriter) error, panicAt int) historyResult {
		hh.core.reset(panicAt)
		w := &historyWriter{header: http.Header{}, failHijack: true}
		next := caddyhttp.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) error {
			rw.Header().Set("Date", testDate)
			return write(rw)
		})
		if err := hh.h.ServeHTTP(w, benchRequest(), next); err != nil {
			t.Fatal(err)
		}
		w.end(false)
		return historyResult{events: w.events, logs: hh.core.lines(), logPanicked: hh.core.panicked()}
	}
	pool.drain()
	alone = serve(handler(), after, panicAt)
	pool.drain()
	hh := handler()
	serve(hh, before, 0)
	afterBefore = serve(hh, after, panicAt)
	return alone, afterBefore
}

// recoverWriteHeader calls WriteHeader(status) on w and recovers a panic
// under it: a handler that catches the panics of what it calls, and
// answers otherwise.
func recoverWriteHeader(w http.ResponseWriter, status int) (p any) {
	defer func() { p = recover() }()
	w.WriteHeader(status)
	return nil
}

// TestHistoryRecoveredRewritePanic: the logger's core panics in the
// middle of the final rewrite (at its first entry), and the handler
// behind the module recovers. Which fields the interrupted rewrite had
// already written depends on the Handler's memo: a field the memo does
// not know is rewritten at once, one it knows is only recorded in the
// writer's joins for the flush the panic skipped. Whatever the handler
// does next, what it sends must not depend on that: the same request
// alone through a new Handler, and after an earlier response set a=0
// with the same attributes. (Logs and counts may differ: the field the
// interrupted rewrite wrote at once is found unchanged by the second
// rewrite, the one it only recorded is rewritten. A logger that panics
// has lost its lines anyway.)
func TestHistoryRecoveredRewritePanic(t *testing.T) {
	before := func(w http.ResponseWriter) error {
		w.Header().Add("Set-Cookie", "a=0; Path=/")
		_, err := io.WriteString(w, "page")
		return err
	}
	for _, tc := range []struct {
		name string
		// recovered is what the handler does once it has recovered.
		recovered func(w http.ResponseWriter) error
		// want is in what the response sends, alone.
		want string
	}{
		{
			// The 500 must be rewritten again: the response is not marked
			// as sent until a rewrite completes.
			name: "answers 500",
			recovered: func(w http.ResponseWriter) error {
				w.WriteHeader(http.StatusInternalServerError)
				_, err := io.WriteString(w, "recovered")
				return err
			},
			want: `"a=1; Path=/; Secure"`,
		},
		{
			// The rewrite at the first body byte must not flush the joins
			// the interrupted rewrite recorded, whose index and cut were
			// those of the field the handler replaced: its own cookie
			// would go out as "oth; Path=/; Secure", a nameless cookie
			// (or, with fewer fields than the stale index, the rewrite
			// would panic).
			name: "replaces the fields and writes a body",
			recovered: func(w http.ResponseWriter) error {
				w.Header()["Set-Cookie"] = []string{"other=123456"}
				_, err := io.WriteString(w, "recovered")
				return err
			},
			want: `"other=123456"`,
		},
		{
			// The header map is rewritten again at the first body byte.
			name: "writes a body",
			recovered: func(w http.ResponseWriter) error {
				_, err := io.WriteString(w, "recovered")
				return err
			},
			want: `"a=1; Path=/; Secure"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := func(w http.ResponseWriter) error {
				w.Header().Add("Set-Cookie", "a=1; Path=/")
				if recoverWriteHeader(w, http.StatusOK) == nil {
					t.Fatal("the logger's core did not panic")
				}
				return tc.recovered(w)
			}
			alone, got := serveHistoryPair(t, `{"groups":[{"cookies":["a"],"secure":true}]}`, before, after, 1)
			if !strings.Contains(strings.Join(alone.events, "\n"), tc.want) {
				t.Fatalf("alone, the response went out with%s, want %s in it", alone, tc.want)
			}
			if !got.same(alone) {
				t.Errorf("after an earlier response set a=0 with the same attributes, %s", alone.diff(got))
			}
		})
	}
}
