package cookienormalizer

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The concurrent differential test: what a response sends (each 1xx's
// header, the final status and header with every field in order, the
// body, trailers, the header map as the handler leaves it, what
// ServeHTTP returns or the panic that ends it) must not depend on the
// responses the same Handler serves at the same time.
//
// Each random world is one to three configs (now and then the same one
// twice: an old and a new Handler of a reload), each with one long-lived
// Handler; all of a world's Handlers count into one metrics registry and
// take their writers from the one global pool. Random requests (the
// scenarios of the history-independence test, with more Dates a second
// apart and more distinct attribute tails, to churn the Date cache and
// the memo) are served through them from many goroutines at once, each
// request more than once, in an order of their own. Each is also served
// alone, through a Handler provisioned for it, on a writer the pool makes
// new. The two must send the same bytes; the module's log entries and
// counters, summed over the world, must be the same too. Run it with
// -race: a data race is a failure of its own.
//
// CONC_SEED, CONC_WORLDS, CONC_REQUESTS (per world), CONC_ROUNDS (how
// many times each request is served concurrently) and CONC_WORKERS set
// its size.

const (
	concDefaultSeed     = 1
	concDefaultWorlds   = 24
	concDefaultRequests = 48
	concDefaultRounds   = 2
	concDefaultWorkers  = 16
	concMaxReports      = 3
)

// concHandler provisions a Handler for cfg with the tests' fixed clock,
// logging into core (nil: a logger at Caddy's default level that
// discards its output), counting into reg, as Provision does.
func concHandler(cfg *stressConfig, core zapcore.Core, reg *prometheus.Registry) (*Handler, error) {
	h := cfg.handler()
	if core != nil {
		h.setLogger(zap.New(core))
	} else {
		h.setLogger(benchLogger())
	}
	if err := h.provision(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	cv, err := newCookiesCounter(reg)
	if err != nil {
		return nil, err
	}
	labels := make([]string, len(h.Groups))
	for i := range h.Groups {
		labels[i] = h.groupLabel(i)
	}
	h.counters = newCounters(cv, h.Groups, labels, h.ReportOnly)
	h.norm.now = func() time.Time { return testClock }
	return h, nil
}

// concCounts returns the non-zero counters of reg by their labels.
func concCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering the counters: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if v := m.GetCounter().GetValue(); v != 0 {
				out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] += v
			}
		}
	}
	return out
}

// concDates are the Date headers a scenario may take on top of the
// history test's: seconds apart around the tests' clock, in each HTTP
// date format, so that responses served at once keep replacing the
// Handler's one-entry Date cache, and the memo's entries are keyed by
// many base times.
var concDates = func() []string {
	var out []string
	for k := -3; k <= 3; k++ {
		at := testClock.Add(time.Duration(k) * time.Second)
		out = append(out, at.Format(http.TimeFormat))
	}
	at := testClock.Add(time.Second)
	return append(out, at.Format(time.RFC850), at.Format(time.ANSIC), "garbage date", "")
}()

// concTail returns one of many attribute tails an app could send, more
// distinct ones than a group's memo keeps.
func concTail(r *rand.Rand) string {
	var b strings.Builder
	switch r.Intn(4) {
	case 0:
		b.WriteString("; Max-Age=" + strconv.Itoa(60*(1+r.Intn(12))))
	case 1:
		b.WriteString("; Expires=" + testClock.Add(time.Duration(1+r.Intn(6))*time.Hour).Format(http.TimeFormat))
	case 2:
		b.WriteString("; Max-Age=0")
	}
	b.WriteString(stressPick(r, "", "; Path=/", "; Path=/p"+strconv.Itoa(r.Intn(6))))
	b.WriteString(stressPick(r, "", "; HttpOnly", "; Secure", "; SameSite=Lax", "; Domain=example.com"))
	return b.String()
}

// genConcScenario is genHistoryScenario without the logger's panics
// (which response such a panic hits depends on the interleaving), with
// a Date from concDates half of the time and, now and then, fields of
// the config's cookies with many distinct tails first.
func genConcScenario(r *rand.Rand, cfg *stressConfig) *historyScenario {
	s := genHistoryScenario(r, cfg, false)
	if r.Intn(2) == 0 {
		s.date = concDates[r.Intn(len(concDates))]
	}
	if r.Intn(2) == 0 {
		names := newStressFieldGen(r, cfg).names
		var fields []string
		for range 1 + r.Intn(10) {
			fields = append(fields, names[r.Intn(len(names))]+"=m"+strconv.Itoa(r.Intn(100))+concTail(r))
		}
		s.ops = slices.Insert(s.ops, 0, historyOp{kind: histAdd, fields: fields})
	}
	return s
}

// concWorld is the configs of a world, whether each logs, and its
// requests.
type concWorld struct {
	cfgs  []*stressConfig
	logs  []bool
	steps []historyStep
}

func (w *concWorld) String() string {
	var b strings.Builder
	for i, cfg := range w.cfgs {
		fmt.Fprintf(&b, "\n  config %d (logs: %v): %s", i, w.logs[i], cfg)
	}
	return b.String()
}

// genConcWorld returns one to three configs that provision (a third of
// the worlds with more than one hold the same config twice) and their
// requests.
func genConcWorld(r *rand.Rand, requests int) *concWorld {
	w := &concWorld{}
	for n := 1 + r.Intn(3); len(w.cfgs) < n; {
		if len(w.cfgs) > 0 && r.Intn(3) == 0 {
			k := r.Intn(len(w.cfgs))
			w.cfgs, w.logs = append(w.cfgs, w.cfgs[k]), append(w.logs, w.logs[k])
			continue
		}
		cfg, logs := genHistoryConfig(r)
		if _, err := concHandler(cfg, nil, prometheus.NewRegistry()); err != nil {
			continue
		}
		w.cfgs, w.logs = append(w.cfgs, cfg), append(w.logs, logs)
	}
	for range requests {
		at := r.Intn(len(w.cfgs))
		w.steps = append(w.steps, historyStep{at, genConcScenario(r, w.cfgs[at])})
	}
	return w
}

// sameSent reports whether two results sent the same bytes and ended
// the same way (the logs are compared as a whole, per world).
func sameSent(a, b historyResult) bool {
	return slices.Equal(a.events, b.events) && a.err == b.err && a.panic == b.panic
}

// concAlone serves each request of w alone, through a Handler
// provisioned for it, on a writer the pool makes new; it returns what
// each sent, and the log entries and counters of them all.
func concAlone(t *testing.T, w *concWorld) ([]historyResult, []string, map[string]float64) {
	t.Helper()
	pool := &historyPool{}
	old := responseWriterPool.New
	responseWriterPool.New = func() any {
		pool.made++
		return new(responseWriter)
	}
	defer func() { responseWriterPool.New = old }()
	reg := prometheus.NewRegistry()
	var logs []string
	out := make([]historyResult, len(w.steps))
	for k, st := range w.steps {
		hh := &historyHandler{}
		var core zapcore.Core
		if w.logs[st.at] {
			hh.core = &recordingCore{}
			core = hh.core
		}
		h, err := concHandler(w.cfgs[st.at], core, reg)
		if err != nil {
			t.Fatalf("config %s: provisioned once, then %v", w.cfgs[st.at], err)
		}
		hh.h = h
		out[k] = runHistory(hh, st.s, pool)
		logs = append(logs, out[k].logs...)
	}
	return out, logs, concCounts(t, reg)
}

// concServed is a response served concurrently.
type concServed struct {
	step int
	res  historyResult
}

// concServe serves the requests of w, each rounds times, through one
// Handler per config from workers goroutines at once; it returns the
// responses, and the log entries and counters of them all.
func concServe(t *testing.T, w *concWorld, rounds, workers int, order *rand.Rand) ([]concServed, []string, map[string]float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	hs := make([]*historyHandler, len(w.cfgs))
	cores := make([]*recordingCore, len(w.cfgs))
	for i, cfg := range w.cfgs {
		var core zapcore.Core
		if w.logs[i] {
			cores[i] = &recordingCore{}
			core = cores[i]
		}
		h, err := concHandler(cfg, core, reg)
		if err != nil {
			t.Fatalf("config %s: provisioned once, then %v", cfg, err)
		}
		if cores[i] != nil {
			cores[i].take() // what provisioning logged
		}
		hs[i] = &historyHandler{h: h}
	}
	var queue []int
	for range rounds {
		for k := range w.steps {
			queue = append(queue, k)
		}
	}
	order.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
	out := make([]concServed, len(queue))
	var next atomic.Int64
	var start sync.WaitGroup
	start.Add(1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			start.Wait() // all at once
			for {
				q := int(next.Add(1) - 1)
				if q >= len(queue) {
					return
				}
				st := w.steps[queue[q]]
				out[q] = concServed{step: queue[q], res: runHistory(hs[st.at], st.s, nil)}
			}
		})
	}
	start.Done()
	wg.Wait()
	var logs []string
	for _, c := range cores {
		if c != nil {
			logs = append(logs, c.take()...)
		}
	}
	return out, logs, concCounts(t, reg)
}

// concDiffCounts lists the counters that differ.
func concDiffCounts(want, got map[string]float64) []string {
	var out []string
	for k, v := range want {
		if got[k] != v {
			out = append(out, fmt.Sprintf("%s: %v concurrently, %v alone", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s: %v concurrently, 0 alone", k, v))
		}
	}
	sort.Strings(out)
	return out
}

// concDiffLogs lists the entries logged a different number of times.
func concDiffLogs(want, got []string) []string {
	n := map[string]int{}
	for _, e := range want {
		n[e]++
	}
	for _, e := range got {
		n[e]--
	}
	var out []string
	for e, d := range n {
		if d != 0 {
			out = append(out, fmt.Sprintf("%q: %+d alone against concurrently", e, d))
		}
	}
	sort.Strings(out)
	return out
}

// TestConcurrentDifferential: see the top of this file.
func TestConcurrentDifferential(t *testing.T) {
	seed := stressEnv(t, "CONC_SEED", concDefaultSeed)
	worlds := int(stressEnv(t, "CONC_WORLDS", concDefaultWorlds))
	requests := int(stressEnv(t, "CONC_REQUESTS", concDefaultRequests))
	rounds := int(stressEnv(t, "CONC_ROUNDS", concDefaultRounds))
	workers := int(stressEnv(t, "CONC_WORKERS", concDefaultWorkers))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	r := rand.New(rand.NewSource(seed))
	began := time.Now()
	reports, served := 0, 0
	for wi := range worlds {
		w := genConcWorld(r, requests)
		want, wantLogs, wantCounts := concAlone(t, w)
		got, gotLogs, gotCounts := concServe(t, w, rounds, workers, r)
		served += len(got)
		for _, g := range got {
			if reports >= concMaxReports {
				break
			}
			st := w.steps[g.step]
			if len(g.res.dirty) > 0 {
				reports++
				t.Errorf("seed %d, world %d, configs %s:\n request %d (config %d) started on a writer that holds %q\n  the request:\n%s", seed, wi, w, g.step, st.at, g.res.dirty, st.s)
			}
			if !sameSent(g.res, want[g.step]) {
				reports++
				t.Errorf("seed %d (CONC_SEED=%d), world %d, configs %s:\n request %d (config %d) served concurrently differs from alone: %s\n  the request:\n%s  alone it gave:%s\n  concurrently:%s",
					seed, seed, wi, w, g.step, st.at, want[g.step].diff(g.res), st.s, want[g.step], g.res)
			}
		}
		// Each request served rounds times.
		var wantAll []string
		for range rounds {
			wantAll = append(wantAll, wantLogs...)
		}
		for k, v := range wantCounts {
			wantCounts[k] = v * float64(rounds)
		}
		if d := concDiffLogs(wantAll, gotLogs); len(d) > 0 && reports < concMaxReports {
			reports++
			t.Errorf("seed %d, world %d, configs %s:\n the log entries of the requests served concurrently differ from those served alone:\n  %s", seed, wi, w, strings.Join(d, "\n  "))
		}
		if d := concDiffCounts(wantCounts, gotCounts); len(d) > 0 && reports < concMaxReports {
			reports++
			t.Errorf("seed %d, world %d, configs %s:\n the counters of the requests served concurrently differ from those served alone:\n  %s", seed, wi, w, strings.Join(d, "\n  "))
		}
		if reports >= concMaxReports {
			t.Fatalf("stopped after %d reports", reports)
		}
	}
	t.Logf("seed %d: %d responses served concurrently (%d goroutines, GOMAXPROCS %d) over %d worlds in %v", seed, served, workers, runtime.GOMAXPROCS(0), worlds, time.Since(began).Round(time.Millisecond))
}

// The same over a real HTTP/2 server: the requests of a world are
// streams of one connection, served at once by net/http's HTTP/2 server
// through one Handler per config, and compared with each served alone
// through a Handler of its own. Only the steps a handler can take on a
// real server without failing are played (fields, 103s, status, body,
// flushes, filtering); the Date the server adds is not compared (it is
// the server's clock, added after the module's rewrite).

// h2Playable reports whether the steps of s are all ones h2Play plays.
func h2Playable(s *historyScenario) bool {
	for _, o := range s.ops {
		switch o.kind {
		case histAdd, histFilter, histSetHeader, histEarlyHints, histFlush, histWrite:
		case histWriteHeader:
			if o.status == http.StatusSwitchingProtocols {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// h2Play plays the steps of s on w; a write the status refuses is
// ignored, as a handler would.
func h2Play(w http.ResponseWriter, s *historyScenario) {
	if s.date != "" {
		w.Header().Set("Date", s.date)
	}
	if s.cacheControl != nil {
		w.Header()["Cache-Control"] = slices.Clone(s.cacheControl)
	}
	for _, o := range s.ops {
		switch o.kind {
		case histAdd:
			for _, f := range o.fields {
				w.Header().Add("Set-Cookie", f)
			}
		case histFilter:
			filterSetCookie(w.Header())
		case histSetHeader:
			w.Header().Set(o.key, o.value)
		case histEarlyHints:
			w.WriteHeader(http.StatusEarlyHints)
		case histWriteHeader:
			w.WriteHeader(o.status)
		case histWrite:
			_, _ = io.WriteString(w, "body")
		case histFlush:
			_ = http.NewResponseController(w).Flush()
		}
	}
}

// h2Result is what a client received.
type h2Result struct {
	informational []string
	status        int
	setCookie     []string
	cacheControl  []string
	body          string
	err           string
}

func (r h2Result) String() string {
	return fmt.Sprintf("\n    1xx %q\n    status %d\n    Set-Cookie %q\n    Cache-Control %q\n    body %q, error %q", r.informational, r.status, clip(r.setCookie), r.cacheControl, r.body, r.err)
}

func (r h2Result) same(o h2Result) bool {
	return slices.Equal(r.informational, o.informational) && r.status == o.status && slices.Equal(r.setCookie, o.setCookie) &&
		slices.Equal(r.cacheControl, o.cacheControl) && r.body == o.body && r.err == o.err
}

// h2Get requests step k of a world from srv (alone: through a Handler
// of its own).
func h2Get(client *http.Client, url string, k int, s *historyScenario, alone bool) h2Result {
	var res h2Result
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		res.informational = append(res.informational, fmt.Sprintf("%d %q", code, h.Values("Set-Cookie")))
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		return h2Result{err: err.Error()}
	}
	req.Header.Set("X-Step", strconv.Itoa(k))
	if alone {
		req.Header.Set("X-Alone", "1")
	}
	if s.cookies != nil {
		req.Header["Cookie"] = slices.Clone(s.cookies)
	}
	if s.fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", s.fetchSite)
	}
	resp, err := client.Do(req)
	if err != nil {
		return h2Result{err: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		res.err = err.Error()
	}
	res.status, res.body = resp.StatusCode, string(body)
	res.setCookie, res.cacheControl = resp.Header.Values("Set-Cookie"), resp.Header.Values("Cache-Control")
	if resp.ProtoMajor != 2 {
		res.err = "served over " + resp.Proto
	}
	return res
}

// TestConcurrentDifferentialHTTP2: see above.
func TestConcurrentDifferentialHTTP2(t *testing.T) {
	seed := stressEnv(t, "CONC_SEED", concDefaultSeed)
	worlds := int(stressEnv(t, "CONC_H2_WORLDS", 6))
	requests := int(stressEnv(t, "CONC_REQUESTS", concDefaultRequests))
	workers := int(stressEnv(t, "CONC_WORKERS", concDefaultWorkers))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	r := rand.New(rand.NewSource(seed))
	// The world being served, and its shared Handlers (published to the
	// server's goroutines through an atomic: the race detector does not
	// see the request on the wire as an order).
	type h2World struct {
		w      *concWorld
		shared []*Handler
	}
	var current atomic.Pointer[h2World]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		k, _ := strconv.Atoi(req.Header.Get("X-Step"))
		w := current.Load().w
		st := w.steps[k]
		h := current.Load().shared[st.at]
		if req.Header.Get("X-Alone") != "" {
			var err error
			if h, err = concHandler(w.cfgs[st.at], nil, prometheus.NewRegistry()); err != nil {
				panic(err)
			}
		}
		_ = h.ServeHTTP(rw, req, caddyhttp.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) error {
			h2Play(rw, st.s)
			return nil
		}))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	served, reports := 0, 0
	for wi := 0; wi < worlds && reports < concMaxReports; wi++ {
		w := genConcWorld(r, 0)
		for len(w.steps) < requests {
			at := r.Intn(len(w.cfgs))
			if s := genConcScenario(r, w.cfgs[at]); h2Playable(s) {
				w.steps = append(w.steps, historyStep{at, s})
			}
		}
		shared := make([]*Handler, len(w.cfgs))
		reg := prometheus.NewRegistry() // one load's
		for i, cfg := range w.cfgs {
			h, err := concHandler(cfg, nil, reg)
			if err != nil {
				t.Fatal(err)
			}
			shared[i] = h
		}
		current.Store(&h2World{w, shared})
		want := make([]h2Result, len(w.steps))
		for k, st := range w.steps {
			want[k] = h2Get(client, srv.URL, k, st.s, true)
		}
		got := make([]h2Result, 2*len(w.steps))
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					q := int(next.Add(1) - 1)
					if q >= len(got) {
						return
					}
					k := q % len(w.steps)
					got[q] = h2Get(client, srv.URL, k, w.steps[k].s, false)
				}
			})
		}
		wg.Wait()
		served += len(got)
		for q, g := range got {
			k := q % len(w.steps)
			if !g.same(want[k]) && reports < concMaxReports {
				reports++
				t.Errorf("seed %d, world %d, configs %s:\n request %d (config %d) served concurrently over HTTP/2 differs from alone:\n  the request:\n%s  alone:%s\n  concurrently:%s",
					seed, wi, w, k, w.steps[k].at, w.steps[k].s, want[k], g)
			}
		}
	}
	t.Logf("seed %d: %d responses served concurrently over HTTP/2 (%d goroutines)", seed, served, workers)
}

// TestConcurrentWallClockMemo serves responses without a Date through
// one Handler on the proxy's own clock from many goroutines, across
// second boundaries (CONC_WALL_MS, 1200 by default), each with fields
// that their group gives a fixed lifetime: one group's of a few tails
// (its memo's entries outlive a second), another's of many. The base
// time of such a field is the clock's second when the response is
// rewritten, so its Expires must be that second plus the lifetime: a
// memo entry of another second, or a clock read torn between
// goroutines, would show as an Expires outside the time the response
// took.
func TestConcurrentWallClockMemo(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	d := time.Duration(stressEnv(t, "CONC_WALL_MS", 1200)) * time.Millisecond
	hour := &ExpiryPolicy{Mode: modeFixed, Duration: caddy.Duration(time.Hour)}
	h := &Handler{Groups: []Group{{Cookies: []string{"sid"}, Expire: hour}, {Cookies: []string{"w_*"}, Expire: hour}}}
	h.setLogger(benchLogger())
	if err := h.provision(); err != nil {
		t.Fatal(err)
	}
	var bad atomic.Int64
	var first atomic.Pointer[string]
	var served atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := range concDefaultWorkers {
		wg.Go(func() {
			r := rand.New(rand.NewSource(int64(g)))
			for time.Now().Before(deadline) {
				var fields []string
				for range 1 + r.Intn(6) {
					// sid with as few tails as its group's memo holds, so
					// that entries outlive a second; w_* with many.
					if r.Intn(2) == 0 {
						fields = append(fields, "sid=v"+strconv.Itoa(r.Intn(9))+stressPick(r, "", "; Max-Age=60", "; Path=/", "; HttpOnly; Max-Age=120"))
					} else {
						fields = append(fields, stressPick(r, "w_a", "w_b")+"=v"+strconv.Itoa(r.Intn(9))+concTail(r))
					}
				}
				rec := httptest.NewRecorder()
				// The clock's reading may be off the wall clock's by a hair
				// at a second boundary (see wallClock): 5 ms of slack.
				before := time.Now().Add(-5 * time.Millisecond).Unix()
				err := h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil), caddyhttp.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) error {
					w.Header()["Set-Cookie"] = slices.Clone(fields)
					w.WriteHeader(http.StatusOK)
					return nil
				}))
				after := time.Now().Add(5 * time.Millisecond).Unix()
				served.Add(1)
				if err != nil {
					t.Error(err)
					return
				}
				for i, out := range rec.Result().Header.Values("Set-Cookie") {
					if strings.Contains(fields[i], "Max-Age=0") || strings.Contains(fields[i], "Expires=") {
						continue // a deletion keeps its own lifetime (and an Expires of the tests' clock may be one)
					}
					_, exp, ok := strings.Cut(out, "; Expires=")
					exp, _, _ = strings.Cut(exp, ";")
					at, perr := http.ParseTime(exp)
					if !ok || perr != nil || !strings.HasSuffix(out, "; Max-Age=3600") {
						if bad.Add(1) == 1 {
							s := fmt.Sprintf("%q became %q: no Expires and Max-Age=3600 last", fields[i], out)
							first.Store(&s)
						}
						continue
					}
					if base := at.Unix() - 3600; base < before || base > after {
						if bad.Add(1) == 1 {
							s := fmt.Sprintf("%q became %q: base %d, outside the response's %d to %d", fields[i], out, base, before, after)
							first.Store(&s)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d fields of %d responses served at once on the proxy's clock are wrong; the first: %s", n, served.Load(), *first.Load())
	}
}
