package cookienormalizer

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The response writer's stress test: random configs (stress_gen_test.go)
// serve random responses, written in random orders (fields added before
// and after WriteHeader and the first body byte, flushes and hijacks that
// fail, 103s, errors with and without error routes, HTTP/3's late
// serialisation), through ServeHTTP. Each response is checked against
// the model of the consistency rules (stress_model_test.go), against
// invariants of the rewrite, and against the same response written
// without its failed flushes, hijacks or 103s.
//
// STRESS_SEED and STRESS_ITERS set the seed and the number of responses;
// a failure names the seed and the response's number, and running with
// that number as STRESS_ITERS replays it as the last one.

// stressDefaultSeed and stressDefaultIters are what `go test` runs:
// about two and a half seconds under -race on a 2-core machine.
const (
	stressDefaultSeed  = 1
	stressDefaultIters = 8000
)

// stressScenariosPerConfig is how many responses each config serves.
const stressScenariosPerConfig = 40

// stressMaxFailures stops the test after that many failing responses.
const stressMaxFailures = 5

// stressEnv returns the integer environment variable key, or def if it
// is unset.
func stressEnv(t *testing.T, key string, def int64) int64 {
	t.Helper()
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", key, v, err)
	}
	return n
}

// stressHandler provisions a handler for cfg, with the tests' fixed clock
// and a logger at Caddy's default level that discards its output.
func stressHandler(cfg *stressConfig) (*Handler, error) {
	h := cfg.handler()
	h.setLogger(benchLogger())
	if err := h.provision(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	h.norm.now = func() time.Time { return testClock }
	return h, nil
}

// stressResult is what a scenario left in the response.
type stressResult struct {
	setCookie    []string
	cacheControl []string
	err          error // what ServeHTTP returned for the handler
	panicked     any
	// handlerAt holds the index in setCookie of each field the handlers
	// added, in order.
	handlerAt []int
	// snapshots are the Set-Cookie fields at each stressSnapshot.
	snapshots [][]string
	// informational are the Set-Cookie fields each 1xx sent, and
	// informationalAt how many fields the handler had added by then.
	informational   [][]string
	informationalAt []int
	// sent are the Set-Cookie fields the final response's header went
	// out with.
	sent []string
}

// same reports whether two runs of a scenario gave the same response,
// 1xx included.
func (r stressResult) same(o stressResult) bool {
	return r.sameFinal(o) && reflect.DeepEqual(r.informational, o.informational)
}

// sameFinal reports whether two runs of a scenario gave the same final
// response: its Set-Cookie fields as sent and as the response ends, and
// its Cache-Control.
func (r stressResult) sameFinal(o stressResult) bool {
	return slices.Equal(r.setCookie, o.setCookie) && slices.Equal(r.sent, o.sent) && slices.Equal(r.cacheControl, o.cacheControl)
}

func (r stressResult) String() string {
	return fmt.Sprintf("Set-Cookie %q (sent %q), Cache-Control %q, 1xx Set-Cookie %q", clip(r.setCookie), clip(r.sent), r.cacheControl, r.informational)
}

// stressRequest builds the scenario's request (see requestShape.request).
func stressRequest(s *stressScenario) (*http.Request, *caddyhttp.Server) {
	return requestShape{https: s.https, errorRoutes: s.errorRoutes, http3: s.http3, cookies: s.cookies, fetchSite: s.fetchSite}.request()
}

// requestShape is what the randomized tests make a request of.
type requestShape struct {
	https, errorRoutes, http3 bool
	cookies                   []string
	fetchSite                 string
	// errorRoute is the route the server's error routes hold when
	// errorRoutes is set.
	errorRoute caddyhttp.Route
}

// request builds the request, in a context as Caddy's server makes it: a
// replacer, the variables, and the server, with error routes or without.
func (s requestShape) request() (*http.Request, *caddyhttp.Server) {
	url := "http://127.0.0.1/page"
	if s.https {
		url = "https://127.0.0.1/page"
	}
	req := httptest.NewRequest(http.MethodGet, url, nil)
	srv := &caddyhttp.Server{}
	if s.errorRoutes {
		srv.Errors = &caddyhttp.HTTPErrorConfig{Routes: caddyhttp.RouteList{s.errorRoute}}
	}
	ctx := context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	ctx = context.WithValue(ctx, caddyhttp.ServerCtxKey, srv)
	req = req.WithContext(ctx)
	if s.http3 {
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/3.0", 3, 0
	}
	if s.cookies != nil {
		req.Header["Cookie"] = slices.Clone(s.cookies)
	}
	if s.fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", s.fetchSite)
	}
	return req, srv
}

// stressWriter is the writer below the module. It sends a 1xx at once,
// and the final header at the first body byte or flush, or when the
// handler returns; for an HTTP/3 request, at a flush or the second body
// write, as quic-go sends it once its buffer fills. Its hijacks fail, as
// on HTTP/2 and HTTP/3.
type stressWriter struct {
	*informationalWriter
	late   bool
	writes int
}

func newStressWriter(late bool) *stressWriter {
	w := &stressWriter{informationalWriter: &informationalWriter{lateWriter: newLateWriter()}, late: late}
	w.failHijack = true
	return w
}

func (w *stressWriter) Write(p []byte) (int, error) {
	if w.writes++; !w.late || w.writes > 1 {
		w.serialise()
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// runStressScenario serves s through h on a stressWriter; when the
// handler fails on a server with error routes, the error route's handler
// runs next, behind h too. afterServe, if not nil, runs after each
// ServeHTTP.
func runStressScenario(h *Handler, s *stressScenario, afterServe func()) (res stressResult) {
	req, srv := stressRequest(s)
	w := newStressWriter(s.http3)
	handler := func(ops []stressOp, first bool) caddyhttp.Handler {
		return caddyhttp.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) error {
			if first {
				writeStressHeader(rw.Header(), s)
			}
			return res.play(w, rw, r, ops)
		})
	}
	defer func() {
		res.panicked = recover()
		res.setCookie = slices.Clone(w.header["Set-Cookie"])
		res.cacheControl = slices.Clone(w.header["Cache-Control"])
		res.informational = w.informational
		w.serialise() // as the server does once the handler has returned
		res.sent = w.sent
	}()
	res.err = h.ServeHTTP(w, req, handler(s.ops, true))
	if afterServe != nil {
		afterServe()
	}
	if s.failsToErrorRoutes() && res.err != nil {
		if err := h.ServeHTTP(w, srv.Errors.WithError(req, res.err), handler(s.errorPage, false)); err != nil {
			panic(err)
		}
		if afterServe != nil {
			afterServe()
		}
	}
	return res
}

// writeStressHeader writes the scenario's Date and cache-control fields.
func writeStressHeader(hdr http.Header, s *stressScenario) {
	if s.date.header != "" {
		hdr.Set("Date", s.date.header)
	}
	if s.cacheControl.fields != nil {
		hdr["Cache-Control"] = slices.Clone(s.cacheControl.fields)
	}
	if s.cdnControl.fields != nil {
		hdr["Cdn-Cache-Control"] = slices.Clone(s.cdnControl.fields)
	}
}

// play runs the steps of a handler on rw, the module's writer over w.
func (res *stressResult) play(w *stressWriter, rw http.ResponseWriter, r *http.Request, ops []stressOp) error {
	for _, o := range ops {
		switch o.kind {
		case stressAdd:
			for _, f := range o.fields {
				res.handlerAt = append(res.handlerAt, len(rw.Header()["Set-Cookie"]))
				rw.Header().Add("Set-Cookie", f.value)
			}
		case stressWriteHeader:
			rw.WriteHeader(o.status)
		case stressWrite:
			if _, err := rw.Write([]byte("body")); err != nil {
				panic(err)
			}
		case stressFlushFails:
			w.failFlush = true
			if err := http.NewResponseController(rw).Flush(); err == nil {
				panic("a flush the writer below refuses succeeded")
			}
			w.failFlush = false
		case stressHijackFails:
			if _, _, err := http.NewResponseController(rw).Hijack(); err == nil {
				panic("a hijack the writer below refuses succeeded")
			}
		case stressFlush:
			if err := http.NewResponseController(rw).Flush(); err != nil {
				panic(err)
			}
		case stressEarlyHints:
			res.informationalAt = append(res.informationalAt, len(res.handlerAt))
			rw.WriteHeader(http.StatusEarlyHints)
		case stressEditCookie:
			if c := r.Header["Cookie"]; len(c) > 0 {
				c[0] = o.cookie
			}
		case stressSnapshot:
			res.snapshots = append(res.snapshots, slices.Clone(rw.Header()["Set-Cookie"]))
		case stressReturnError:
			return o.err.err
		}
	}
	return nil
}

// checkStressPool reports what a writer in the pool still holds of the
// response it served: a released writer keeps no reference to the
// response, the handler or the request's cookies.
func checkStressPool() string {
	rw := responseWriterPool.Get().(*responseWriter)
	defer responseWriterPool.Put(rw)
	var held []string
	if rw.ResponseWriter != nil || rw.h != nil || rw.hdr != nil {
		held = append(held, "the writer below, the handler or the header map")
	}
	if !reflect.ValueOf(rw.req).IsZero() {
		held = append(held, fmt.Sprintf("the request's reading (Cookie fields %q, status %d, header map %t)", clip(rw.req.cookies), rw.req.status, rw.req.header != nil))
	}
	if rw.seen != nil {
		held = append(held, fmt.Sprintf("the fields of the last rewrite %q", clip(rw.seen)))
	}
	if rw.cookieFields != [len(rw.cookieFields)]string{} {
		held = append(held, fmt.Sprintf("the Cookie fields %q", clip(rw.cookieFields[:])))
	}
	if rw.jar.value != [len(rw.jar.value)]string{} || rw.jar.stamp != [len(rw.jar.stamp)]string{} {
		held = append(held, "the members' or stamps' values")
	}
	if rw.joins.n != 0 {
		held = append(held, "fields to join")
	}
	if len(held) == 0 {
		return ""
	}
	return "a released writer in the pool holds " + strings.Join(held, "; ")
}

// TestStressResponseWriter serves random responses for random configs
// and checks each (see checkStress), then serves each config's responses
// again, in reverse order, through a second handler: a handler's memo of
// earlier responses changes no response.
func TestStressResponseWriter(t *testing.T) {
	seed := stressEnv(t, "STRESS_SEED", stressDefaultSeed)
	iters := stressEnv(t, "STRESS_ITERS", stressDefaultIters)
	r := rand.New(rand.NewSource(seed))
	var n, configs, rejected, failed int64
	tally := map[string]int{}
	fail := func(cfg *stressConfig, s *stressScenario, res stressResult, problems []string) {
		failed++
		t.Errorf("response %d of seed %d (replay: STRESS_SEED=%d STRESS_ITERS=%d go test -run '^TestStressResponseWriter$' .):\n%s\n config: %s\n scenario:\n%s result: %s",
			n, seed, seed, n, strings.Join(problems, "\n"), cfg, s, res)
		if failed == stressMaxFailures {
			t.Fatalf("stopped after %d failing responses", failed)
		}
	}
	start := time.Now()
	for n < iters {
		cfg := genStressConfig(r)
		h, err := stressHandler(cfg)
		if err != nil {
			rejected++
			if cfg.mustReject != "" {
				tally["config refused"]++
			}
			continue
		}
		if cfg.mustReject != "" {
			t.Errorf("seed %d: config %s provisioned, but it has %s: a config error", seed, cfg, cfg.mustReject)
			continue
		}
		other, err := stressHandler(cfg)
		if err != nil {
			t.Fatalf("config %s: provisioned once, then %v", cfg, err)
		}
		configs++
		var scenarios []*stressScenario
		var results []stressResult
		var numbers []int64
		for k := 0; k < stressScenariosPerConfig && n < iters; k++ {
			s := genStressScenario(r, cfg)
			n++
			var problems []string
			res := runStressScenario(h, s, func() {
				if p := checkStressPool(); p != "" {
					problems = append(problems, p)
				}
			})
			problems = append(problems, checkStress(h, cfg, s, res, tally)...)
			if len(problems) > 0 {
				fail(cfg, s, res, problems)
				continue
			}
			scenarios, results, numbers = append(scenarios, s), append(results, res), append(numbers, n)
		}
		for i := len(scenarios) - 1; i >= 0; i-- {
			if res := runStressScenario(other, scenarios[i], nil); !res.same(results[i]) {
				t.Errorf("response %d of seed %d (replay: STRESS_SEED=%d STRESS_ITERS=%d): a second handler, serving its config's responses in reverse order, gave %s, the first %s\n config: %s\n scenario:\n%s",
					numbers[i], seed, seed, n, res, results[i], cfg, scenarios[i])
			}
		}
	}
	t.Logf("seed %d: %d responses over %d configs (%d configs rejected by provisioning) in %v; appended fields checked: %v", seed, n, configs, rejected, time.Since(start).Round(time.Millisecond), tally)
	// A run of the default size or more exercises every rule, and most
	// configs provision: a generator that stopped making either would
	// leave this test passing on nothing.
	if iters >= stressDefaultIters {
		// The rarer kinds hang on few configs (a like group led by a
		// stamp, or by a slide group's member that the response re-issues;
		// a config error made on purpose): lower floors.
		floors := map[string]int{"like follower of a stamp": 25, "like follower of a re-issue": 5, "config refused": 1,
			"partial expiry in a like group": 25, "cascade in a like group": 25, "stamp partitioned": 25, "re-issue partitioned": 5, "partial expiry partitioned": 25}
		for _, kind := range []string{"cascade", "partial expiry", "re-issue", "stamp", "stamp deletion", "like follower", "like follower of a chain",
			"like follower of a stamp", "like follower of a re-issue", "config refused", "partial expiry in a like group", "cascade in a like group",
			"stamp partitioned", "re-issue partitioned", "partial expiry partitioned"} {
			min := 100
			if f, ok := floors[kind]; ok {
				min = f
			}
			if tally[kind] < min {
				t.Errorf("seed %d: %d %s fields checked in %d responses, want at least %d", seed, tally[kind], kind, n, min)
			}
		}
		if rejected*4 > configs {
			t.Errorf("seed %d: %d configs rejected by provisioning, %d provisioned: want at most a quarter as many rejected", seed, rejected, configs)
		}
	}
}

// checkStress checks the response res that s got through h: what the
// model expects appended, what the rewrite may and may not change, and
// that the same response is written again, and without its failed
// flushes, hijacks and 103s. tally counts the appended fields checked, by
// kind.
func checkStress(h *Handler, cfg *stressConfig, s *stressScenario, res stressResult, tally map[string]int) []string {
	if res.panicked != nil {
		return []string{fmt.Sprintf("panic: %v", res.panicked)}
	}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var handlerErr error
	for _, o := range s.ops {
		if o.kind == stressReturnError {
			handlerErr = o.err.err
		}
	}
	if res.err != handlerErr {
		problem("ServeHTTP returned %v, want the handler's %v", res.err, handlerErr)
	}
	var added []stressField
	for _, ops := range [][]stressOp{s.ops, s.errorPage} {
		for _, o := range ops {
			added = append(added, o.fields...)
		}
	}
	if len(res.handlerAt) != len(added) || len(added) > 0 && res.handlerAt[len(added)-1] >= len(res.setCookie) {
		return append(problems, fmt.Sprintf("the %d fields the handlers added are not all in the response", len(added)))
	}
	if cfg.reportOnly {
		problems = append(problems, checkStressReportOnly(s, res, added)...)
	} else {
		problems = append(problems, checkStressHandlerFields(cfg, res, added)...)
		problems = append(problems, checkStressRewritten(h, s, res, stressWebKitFields(cfg, s))...)
		problems = append(problems, checkStressAppends(cfg, s, res, tally)...)
		problems = append(problems, checkStressFollowers(cfg, s, res, added, tally)...)
	}
	problems = append(problems, checkStressSent(cfg, res)...)
	if len(problems) == 0 {
		problems = append(problems, checkStressReplays(h, s, res)...)
	}
	return problems
}

// checkStressReportOnly: under report_only the response's Set-Cookie and
// Cache-Control fields are the handlers' own, and so are a 1xx's.
func checkStressReportOnly(s *stressScenario, res stressResult, added []stressField) []string {
	var problems []string
	var want []string
	for _, f := range added {
		want = append(want, f.value)
	}
	if !slices.Equal(res.setCookie, want) {
		problems = append(problems, fmt.Sprintf("report_only changed Set-Cookie: the handlers added %q", clip(want)))
	}
	if !slices.Equal(res.cacheControl, s.cacheControl.fields) {
		problems = append(problems, fmt.Sprintf("report_only changed Cache-Control: the handler wrote %q", s.cacheControl.fields))
	}
	for i, sent := range res.informational {
		if !slices.Equal(sent, want[:res.informationalAt[i]]) {
			problems = append(problems, fmt.Sprintf("report_only changed the fields of 1xx %d: %q", i, clip(sent)))
		}
	}
	return problems
}

// checkStressHandlerFields checks the fields the handlers added, as the
// response ends: each keeps its name and gains no control byte; one that
// no pattern matches (or a stamp: the module's own cookie), or that holds
// a control byte, is over 8 KiB, or whose name and value exceed 4096
// bytes, passes byte for byte. A 1xx carries the fields as the final
// response's rewrite leaves them (but for `expire like` followers, which
// follow the leader the final response ends with).
func checkStressHandlerFields(cfg *stressConfig, res stressResult, added []stressField) []string {
	var problems []string
	for i, f := range added {
		got := res.setCookie[res.handlerAt[i]]
		switch {
		case fieldNames([]string{got})[0] != f.name:
			problems = append(problems, fmt.Sprintf("field %d renamed: %q, added as %q", i, clip([]string{got}), clip([]string{f.value})))
		case (f.verbatim || !cfg.matches(f.name) || cfg.stampGroup(f.name) != nil) && got != f.value:
			problems = append(problems, fmt.Sprintf("field %d changed: %q, added as %q, which no policy may change", i, clip([]string{got}), clip([]string{f.value})))
		case stressControl(got) && !stressControl(f.value):
			problems = append(problems, fmt.Sprintf("field %d gained a control byte: %q", i, got))
		case f.verbatim || !cfg.matches(f.name) || cfg.stampGroup(f.name) != nil:
		default:
			// HttpOnly as the owner's policies send it (httponly off
			// keeps it on an __Http- or __Host-Http- name), and the
			// Secure a prefixed name needs, kept under secure off.
			g := cfg.owner(f.name)
			if want := stressHTTPOnlyAfter(g, f.name, f.value); stressHasFlag(got, "HttpOnly") != want {
				problems = append(problems, fmt.Sprintf("field %d %q (added as %q): HttpOnly %v, want %v", i, clip([]string{got}), clip([]string{f.value}), !want, want))
			}
			if stressSecureOnly(f.name) && stressHasFlag(f.value, "Secure") && !stressHasFlag(got, "Secure") {
				problems = append(problems, fmt.Sprintf("field %d %q (added as %q) lost the Secure its name prefix needs", i, clip([]string{got}), clip([]string{f.value})))
			}
		}
	}
	for k, sent := range res.informational {
		at := res.informationalAt[k]
		if len(sent) != at {
			problems = append(problems, fmt.Sprintf("1xx %d sent %d fields, the handler had added %d", k, len(sent), at))
			continue
		}
		for i, v := range sent {
			if final := res.setCookie[res.handlerAt[i]]; v != final && !cfg.likeFollower(added[i].name) {
				problems = append(problems, fmt.Sprintf("1xx %d sent field %d as %q, the final response as %q", k, i, clip([]string{v}), clip([]string{final})))
			}
		}
	}
	return problems
}

// stressHasFlag reports whether field v has the flag attribute flag
// (names compared without regard to case, values over 1024 bytes not
// read).
func stressHasFlag(v, flag string) bool {
	for _, a := range strings.Split(v, ";")[1:] {
		k, val, _ := strings.Cut(a, "=")
		if strings.EqualFold(strings.Trim(k, " \t"), flag) && len(strings.Trim(val, " \t")) <= 1024 {
			return true
		}
	}
	return false
}

// checkStressRewritten: every field of the response is as the policies
// leave it, whenever the handler added it (before the header went out,
// before the first body byte, or after it: HTTP/3 sends the header late,
// and such fields are rewritten when the handler returns): the rewrite is
// idempotent, so rewriting the fields once more changes none. The
// exception is webKit, the deletions the model expects where WebKitGTK
// stores a field Chromium and Firefox refuse: they are written as
// WebKitGTK reads that field, not as the policies would place them (a
// later pass of the same response leaves them), and checkStressAppends
// checks their bytes.
func checkStressRewritten(h *Handler, s *stressScenario, res stressResult, webKit map[string]bool) []string {
	var problems []string
	again := h.norm.rewrite(slices.Clone(res.setCookie), s.date.header, nil, nil)
	for i, v := range again {
		if v != res.setCookie[i] && !webKit[res.setCookie[i]] {
			problems = append(problems, fmt.Sprintf("field %d is not as the policies leave it: %q, rewritten once more %q", i, clip(res.setCookie[i:i+1]), clip([]string{v})))
		}
	}
	// What went out, the final header and each 1xx's, is as the policies
	// leave it too: an `expire like` follower has the lifetime of the
	// leader the browser keeps from that header.
	for k, sent := range append([][]string{res.sent}, res.informational...) {
		again := h.norm.rewrite(slices.Clone(sent), s.date.header, nil, nil)
		for i := range again {
			if i >= len(sent) || again[i] != sent[i] && !webKit[sent[i]] {
				problems = append(problems, fmt.Sprintf("header %d sent (0: the final one, then the 1xx) is not as the policies leave it: %q, rewritten once more %q", k, clip(sent), clip(again)))
				break
			}
		}
	}
	return problems
}

// stressWebKitFields returns the deletions the model expects the rules
// to append where WebKitGTK stores a member's field that Chromium and
// Firefox refuse (see stressModel.webKitPlaces).
func stressWebKitFields(cfg *stressConfig, s *stressScenario) map[string]bool {
	want, _ := simulateStress(cfg, s)
	out := map[string]bool{}
	for _, a := range want {
		if a.webKit {
			out[a.field] = true
		}
	}
	return out
}

// checkStressAppends compares the fields the module appended, where it
// appended them, and Cache-Control with the model's.
func checkStressAppends(cfg *stressConfig, s *stressScenario, res stressResult, tally map[string]int) []string {
	var problems []string
	want, private := simulateStress(cfg, s)
	for _, a := range want {
		tally[a.kind()]++
		if a.group.like != "" {
			tally[a.kind()+" in a like group"]++
		}
		if a.group.Partitioned != nil && *a.group.Partitioned {
			tally[a.kind()+" partitioned"]++
		}
		if stressHTTPOnlyOnly(a.name) {
			tally[a.kind()+" of an __Http- or __Host-Http- name"]++
		}
	}
	isHandlers := make([]bool, len(res.setCookie))
	for _, i := range res.handlerAt {
		isHandlers[i] = true
	}
	type appended struct {
		at    int // handler fields before it
		index int // in setCookie
	}
	var got []appended
	at := 0
	for i := range res.setCookie {
		if isHandlers[i] {
			at++
			continue
		}
		got = append(got, appended{at, i})
	}
	// A cascade takes its place from the deleted member's last field: the
	// app's, or a deletion the module placed after it (see
	// stressModel.placeDeletions).
	isSource := slices.Clone(isHandlers)
	for k := 0; k < max(len(got), len(want)); k++ {
		switch {
		case k >= len(want):
			problems = append(problems, fmt.Sprintf("appended %q after %d handler fields; the model appends nothing more", clip([]string{res.setCookie[got[k].index]}), got[k].at))
			continue
		case k >= len(got):
			problems = append(problems, fmt.Sprintf("appended nothing more; the model appends %s after %d handler fields", want[k].describe(), want[k].at))
			continue
		}
		w, g := want[k], got[k]
		field := w.field
		if w.cascaded {
			field = stressCascadeDeletion(w.group, w.name, res.setCookie[res.handlerAt[w.source]])
		}
		if w.cascadeFrom != "" {
			source := lastStressField(res.setCookie[:g.index], isSource, w.cascadeFrom)
			if source < 0 {
				problems = append(problems, fmt.Sprintf("no field of %s before the cascade's %s", w.cascadeFrom, w.name))
				continue
			}
			field = stressCascadeDeletion(w.group, w.name, res.setCookie[source])
		}
		if v := res.setCookie[g.index]; g.at != w.at || v != field {
			problems = append(problems, fmt.Sprintf("appended %q after %d handler fields; the model appends %q after %d", clip([]string{v}), g.at, field, w.at))
		}
		if w.placed {
			isSource[g.index] = true
		}
	}
	wantCC := s.cacheControl.fields
	if private {
		wantCC = s.cacheControl.withPrivate
	}
	if !slices.Equal(res.cacheControl, wantCC) {
		problems = append(problems, fmt.Sprintf("Cache-Control %q; the model's %q", res.cacheControl, wantCC))
	}
	return problems
}

// checkStressFollowers checks the lifetime of each `expire like` follower
// the handlers added against the one the README's rules give it from its
// leader (stressFollowerLife): the last field for the leader's name in
// the same header, as it went out (the final header, each 1xx), and as
// the response ends when that is what went out (fields added after the
// header went out are not sent). A follower of a follower (a chain)
// reads its leader's field as the rules left it.
func checkStressFollowers(cfg *stressConfig, s *stressScenario, res stressResult, added []stressField, tally map[string]int) []string {
	var problems []string
	// The fields of a handler that failed to error routes: the failed
	// route's module rewrote them before the error route's did.
	failed := 0
	if s.failsToErrorRoutes() {
		for _, o := range s.ops {
			failed += len(o.fields)
		}
	}
	headers := append([][]string{res.setCookie, res.sent}, res.informational...)
	for h, fields := range headers {
		if h == 0 && len(res.setCookie) != len(res.sent) {
			continue
		}
		for i, f := range added {
			g := cfg.owner(f.name)
			if g == nil || g.like == "" || f.name == g.like {
				continue
			}
			at := i
			if h < 2 {
				at = res.handlerAt[i] // the final header holds appended fields too
			}
			if at >= len(fields) {
				continue
			}
			leaders := []string{""}
			last := lastStressNamed(fields, g.like)
			if last >= 0 {
				leaders[0] = fields[last]
			}
			if h < 2 && i < failed {
				before := ""
				if k := lastStressNamed(fields[:failed], g.like); k >= 0 {
					if lg := cfg.owner(g.like); lg != nil && lg.like != "" {
						continue // a chain's leader, rewritten again since
					}
					before = fields[k]
				}
				leaders = []string{before, leaders[0]}
			}
			want, appended, ok := stressFollowerLife(f.value, leaders, s.date)
			if !ok {
				continue
			}
			if h == 1 {
				tally["like follower"]++
				if appended {
					switch lg := cfg.owner(g.like); {
					case cfg.stampGroup(g.like) != nil:
						tally["like follower of a stamp"]++
					case lg != nil && lg.like != "":
						tally["like follower of a chain"]++
					case last >= 0 && !slices.Contains(res.handlerAt, last):
						tally["like follower of a re-issue"]++
					}
				}
			}
			got := stressLifetimeAttrs(fields[at])
			bad := !slices.Equal(got, want)
			if appended && !bad {
				// The lifetime is appended last.
				bad = !strings.HasSuffix(fields[at], "; Expires="+want[0].value+"; Max-Age="+want[1].value)
			}
			if bad {
				problems = append(problems, fmt.Sprintf("header %d (0: as the response ends, 1: as sent, then the 1xx): follower field %d %q (added as %q) has lifetime %v; its leader %s's last fields %q give it %v",
					h, i, clip([]string{fields[at]}), clip([]string{f.value}), got, g.like, clip(leaders), want))
			}
		}
	}
	return problems
}

// lastStressNamed returns the index of the last of fields whose cookie
// name (read by the model) is name, or -1.
func lastStressNamed(fields []string, name string) int {
	for i := len(fields) - 1; i >= 0; i-- {
		if n, _ := stressCookieName(fields[i]); n == name {
			return i
		}
	}
	return -1
}

// lastStressField returns the index of the last of fields named name, or
// -1.
func lastStressField(fields []string, isHandlers []bool, name string) int {
	for i := len(fields) - 1; i >= 0; i-- {
		// The rules' own fields (a deleted member's own deletion) are
		// not the app's.
		if isHandlers[i] && fieldNames(fields[i : i+1])[0] == name {
			// A field Chromium and Firefox refuse (a control byte other
			// than a tab, a name plus value over 4096 bytes; over 8 KiB
			// the module does not read it) stores nothing there: the
			// member was deleted where the field before it says.
			pair, _, _ := strings.Cut(fields[i], ";")
			_, value, _ := strings.Cut(pair, "=")
			refused := strings.ContainsFunc(fields[i], func(c rune) bool { return c < 0x20 && c != '\t' || c == 0x7f }) ||
				len(strings.TrimSpace(name))+len(strings.TrimSpace(value)) > 4096
			if refused && len(fields[i]) <= maxValueLen {
				continue
			}
			return i
		}
	}
	return -1
}

// kind names the rule behind an expected append.
func (a stressAppend) kind() string {
	switch {
	case a.cascadeFrom != "":
		return "cascade"
	case a.placed:
		return "deletion at a policy's place"
	case a.atStored:
		return "cascade at an earlier stored deletion"
	case a.cascaded:
		return "cascade of a deleted member's earlier field"
	case a.webKit:
		return "deletion where WebKitGTK stores a refused field"
	case a.fixed:
		return "deletion after a log-out browsers refuse"
	case a.fixPlace:
		return "cascade at a refused log-out's fixed place"
	case a.soupOwn:
		return "deletion after a log-out WebKitGTK refuses"
	case a.name == a.group.stamp && a.deletion:
		return "stamp deletion"
	case a.name == a.group.stamp:
		return "stamp"
	case a.deletion:
		return "partial expiry"
	}
	return "re-issue"
}

// describe names an expected append in messages.
func (a stressAppend) describe() string {
	if a.cascadeFrom != "" {
		return fmt.Sprintf("the cascade's deletion of %s (from %s)", a.name, a.cascadeFrom)
	}
	if a.cascaded {
		return fmt.Sprintf("the cascade's deletion of %s (from its handler field %d)", a.name, a.source)
	}
	return strconv.Quote(a.field)
}

// checkStressSent: a field, once rewritten for the final response, is not
// changed by a later pass (the rewrite is idempotent), but for an `expire
// like` follower, whose leader may change later; and the header goes out
// with the fields as the response ends (fields added later are not sent).
func checkStressSent(cfg *stressConfig, res stressResult) []string {
	var problems []string
	for i, v := range res.sent {
		if i >= len(res.setCookie) || res.setCookie[i] != v && !cfg.likeFollower(fieldNames([]string{v})[0]) {
			problems = append(problems, fmt.Sprintf("the header went out with field %d as %q; the response ends with %q", i, clip([]string{v}), clip(res.setCookie[i:min(i+1, len(res.setCookie))])))
		}
	}
	for k, snap := range res.snapshots {
		for i, v := range snap {
			if i < len(res.setCookie) && res.setCookie[i] != v && !cfg.likeFollower(fieldNames([]string{v})[0]) {
				problems = append(problems, fmt.Sprintf("a later pass changed field %d of snapshot %d: %q became %q", i, k, clip([]string{v}), clip([]string{res.setCookie[i]})))
			}
		}
	}
	return problems
}

// checkStressReplays serves s again through h: the same response again; the
// same without its failed flushes and hijacks (they sent nothing), and
// without its 103s (a 1xx is not the final response); and an error
// without error routes as the handler writing the error's status.
func checkStressReplays(h *Handler, s *stressScenario, res stressResult) []string {
	var problems []string
	if again := runStressScenario(h, s, nil); !again.same(res) {
		problems = append(problems, fmt.Sprintf("served again: %s", again))
	}
	without := func(kinds ...stressOpKind) *stressScenario {
		ops := slices.DeleteFunc(slices.Clone(s.ops), func(o stressOp) bool { return slices.Contains(kinds, o.kind) })
		if len(ops) == len(s.ops) {
			return nil
		}
		s2 := *s
		s2.ops = ops
		return &s2
	}
	if s2 := without(stressFlushFails, stressHijackFails); s2 != nil {
		if r2 := runStressScenario(h, s2, nil); !r2.same(res) {
			problems = append(problems, fmt.Sprintf("without the failed flushes and hijacks: %s", r2))
		}
	}
	if s2 := without(stressEarlyHints); s2 != nil {
		if r2 := runStressScenario(h, s2, nil); !r2.sameFinal(res) {
			problems = append(problems, fmt.Sprintf("without the 103: %s", r2))
		}
	}
	if n := len(s.ops); n > 0 && s.ops[n-1].kind == stressReturnError && !s.errorRoutes {
		s2 := *s
		s2.ops = append(slices.Clone(s.ops[:n-1]), stressOp{kind: stressWriteHeader, status: s.ops[n-1].err.status})
		if r2 := runStressScenario(h, &s2, nil); !r2.same(res) {
			problems = append(problems, fmt.Sprintf("the error's status written by the handler instead: %s", r2))
		}
	}
	return problems
}

// TestStressConcurrent serves random responses through one handler from
// several goroutines at once (sharing its memo, its Date cache and the
// pool of writers) and compares each with the response a handler of its
// own gave it alone. Its size is fixed; STRESS_SEED sets its seed too.
func TestStressConcurrent(t *testing.T) {
	seed := stressEnv(t, "STRESS_SEED", stressDefaultSeed)
	r := rand.New(rand.NewSource(seed))
	const configs, perConfig, workers, rounds = 8, 25, 4, 2
	for c := 0; c < configs; {
		cfg := genStressConfig(r)
		alone, err := stressHandler(cfg)
		if err != nil {
			continue
		}
		c++
		shared, err := stressHandler(cfg)
		if err != nil {
			t.Fatalf("config %s: provisioned once, then %v", cfg, err)
		}
		scenarios := make([]*stressScenario, perConfig)
		want := make([]stressResult, perConfig)
		for i := range scenarios {
			scenarios[i] = genStressScenario(r, cfg)
			want[i] = runStressScenario(alone, scenarios[i], nil)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var mismatches []string
		for w := range workers {
			wg.Go(func() {
				for k := range rounds * perConfig {
					i := (k + w*7) % perConfig
					if got := runStressScenario(shared, scenarios[i], nil); got.panicked != nil || !got.same(want[i]) {
						mu.Lock()
						mismatches = append(mismatches, fmt.Sprintf("scenario:\n%s concurrent: %s (panic: %v)\n alone: %s", scenarios[i], got, got.panicked, want[i]))
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if len(mismatches) > 0 {
			t.Errorf("seed %d, config %s: %d responses served concurrently differ from those served alone; the first:\n%s", seed, cfg, len(mismatches), mismatches[0])
		}
	}
}
