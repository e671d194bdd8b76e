package cookienormalizer

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The report_only differential test: each random config serves random
// single requests (genHistoryScenario's shapes: fields before and after
// WriteHeader, 103s, flushes and hijacks that fail or not, errors with
// and without error routes, HTTP/3's late rewrite, trailers, panics)
// three ways, each through a freshly provisioned Handler:
//
//   - plain: no module at all, the handlers writing straight to the
//     writer below (what the upstream wrote);
//   - applied: the config as it is;
//   - reported: the same config with report_only.
//
// The reported response must be the plain one, byte for byte (every
// 1xx, the final status and header with every field, the body, trailers,
// the header map as the handler left it). Its log lines, in order, must
// be the applied one's (cookie, group, action), the changes at info with
// the report-only message and the rest at debug, but for what the README
// documents (see reportOnlyAlign); each counter must equal the count of
// its lines, with report_only="true". No line holds anything but the
// cookie's name, the group and the action: no value.
//
// The stress test's generator serves as many configs again, through its
// own writer below (genStressScenario, runStressScenario): the reported
// response must carry the handlers' fields (checkStressReportOnly), and
// the lines compare as above.
//
// REPORTONLY_SEED and REPORTONLY_CONFIGS set the seed and the number of
// configs of each generator (each serving reportOnlyScenarios requests).
// The differences the README's Metrics section documents are let pass
// (see reportOnlyAlign).

const (
	reportOnlyDefaultSeed    = 1
	reportOnlyDefaultConfigs = 100
	reportOnlyScenarios      = 12
	reportOnlyMaxFailures    = 5
)

// reportOnlyHandler is a provisioned Handler with the tests' clock, its
// logger's core and the registry its counters count into.
type reportOnlyHandler struct {
	h    *Handler
	core *recordingCore
	reg  *prometheus.Registry
}

// newReportOnlyHandler provisions cfg, with report_only as reportOnly says.
func newReportOnlyHandler(cfg *stressConfig, reportOnly bool) (*reportOnlyHandler, error) {
	c := *cfg
	c.reportOnly = reportOnly
	return provisionReportOnly(c.handler(), reportOnly)
}

// provisionReportOnly provisions h with report_only as reportOnly says,
// a recording logger, the tests' clock and counters of its own.
func provisionReportOnly(h *Handler, reportOnly bool) (*reportOnlyHandler, error) {
	h.ReportOnly = reportOnly
	core := &recordingCore{}
	h.setLogger(zap.New(core))
	if err := h.provision(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	h.norm.now = func() time.Time { return testClock }
	reg := prometheus.NewRegistry()
	cv, err := newCookiesCounter(reg)
	if err != nil {
		return nil, err
	}
	labels := make([]string, len(h.Groups))
	for i := range h.Groups {
		labels[i] = h.groupLabel(i)
	}
	h.counters = newCounters(cv, h.Groups, labels, reportOnly)
	core.reset(0) // start-up warnings
	return &reportOnlyHandler{h: h, core: core, reg: reg}, nil
}

// counts returns the handler's non-zero counters as "group / action" →
// count, and the report_only label values they carry.
func (rh *reportOnlyHandler) counts(t *testing.T) (map[string]int, []string) {
	t.Helper()
	families, err := rh.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var ro []string
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue()
			if v == 0 {
				continue
			}
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["group"]+" / "+labels["action"]] += int(v)
			if !slices.Contains(ro, labels["report_only"]) {
				ro = append(ro, labels["report_only"])
			}
		}
	}
	return got, ro
}

// plainWriter is the writer below as a handler without the module sees
// it: historyWriter, with the http.Flusher that net/http's writers have.
type plainWriter struct{ *historyWriter }

func (w plainWriter) Flush() { _ = w.FlushError() }

// plainMiddleware stands where the module would, and does nothing.
type plainMiddleware struct{}

func (plainMiddleware) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if hw, ok := w.(*historyWriter); ok {
		w = plainWriter{hw}
	}
	return next.ServeHTTP(w, r)
}

// runReportOnly serves s through mw (the module, or plainMiddleware), as
// runHistory does, on a writer below that records what reaches it.
func runReportOnly(mw caddyhttp.MiddlewareHandler, s *historyScenario) historyResult {
	return serveScenario(mw, s, nil, nil)
}

// reportOnlyRun is what one request gave through one Handler.
type reportOnlyRun struct {
	res    historyResult
	logs   []loggedEntry
	counts map[string]int
	ro     []string
}

// serveReportOnly serves s through a new Handler for cfg.
func serveReportOnly(t *testing.T, cfg *stressConfig, reportOnly bool, s *historyScenario) reportOnlyRun {
	t.Helper()
	rh, err := newReportOnlyHandler(cfg, reportOnly)
	if err != nil {
		t.Fatalf("config %s: provisioned once, then %v", cfg, err)
	}
	res := runReportOnly(rh.h, s)
	counts, ro := rh.counts(t)
	return reportOnlyRun{res: res, logs: rh.core.recorded(), counts: counts, ro: ro}
}

// reportOnlyNames are the names a log line may give as its cookie: the
// names of the fields the handlers wrote, the members and the stamps.
func reportOnlyNames(cfg *stressConfig, fields []string) map[string]bool {
	names := map[string]bool{}
	for _, f := range fields {
		if name, ok := cookieName(f); ok {
			names[name] = true
		}
	}
	for _, g := range cfg.groups {
		for _, m := range g.members {
			names[m] = true
		}
		if g.stamp != "" {
			names[g.stamp] = true
		}
	}
	return names
}

// checkReportOnlyLines checks each line of a run: three fields (cookie,
// group, action), a cookie name the response or the config holds, a
// group of the config, a known action; under report_only a change at
// info with the report-only message and the rest at debug, and without
// it every line at debug. It checks the counters against the lines.
func checkReportOnlyLines(h *Handler, names map[string]bool, run reportOnlyRun, reportOnly bool) []string {
	var problems []string
	groups := map[string]bool{}
	for i := range h.Groups {
		groups[h.groupLabel(i)] = true
	}
	tally := map[string]int{}
	for _, e := range run.logs {
		if len(e.fields) != 3 || e.fields["cookie"] == nil || e.fields["group"] == nil || e.fields["action"] == nil {
			problems = append(problems, fmt.Sprintf("line %s has fields %v, want cookie, group and action only", e, e.fields))
		}
		if !names[e.cookie] {
			problems = append(problems, fmt.Sprintf("line %s names a cookie no field or config names (a value?)", e))
		}
		if !groups[e.group] {
			problems = append(problems, fmt.Sprintf("line %s names no group of the config", e))
		}
		act := actionOf(e.action)
		if act >= numActions {
			problems = append(problems, fmt.Sprintf("line %s: no such action", e))
			continue
		}
		wantLevel, wantMsg := zapcore.DebugLevel, "set-cookie"
		if reportOnly && act.changes() {
			wantLevel, wantMsg = zapcore.InfoLevel, "set-cookie (report only: not changed)"
		}
		if e.level != wantLevel || e.msg != wantMsg {
			problems = append(problems, fmt.Sprintf("report_only %v: line %s, want %s %q", reportOnly, e, wantLevel, wantMsg))
		}
		tally[e.group+" / "+e.action]++
	}
	if !mapsEqualInt(tally, run.counts) {
		problems = append(problems, fmt.Sprintf("report_only %v: counters %v, but the lines count %v", reportOnly, run.counts, tally))
	}
	if len(run.counts) > 0 && (len(run.ro) != 1 || run.ro[0] != fmt.Sprint(reportOnly)) {
		problems = append(problems, fmt.Sprintf("report_only %v: counters labelled report_only=%q", reportOnly, run.ro))
	}
	return problems
}

func mapsEqualInt(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// reportOnlyRenewedFollowers returns the cookies of `expire like` groups
// whose leader the applied run appended (a `slide` re-issue, or a stamp
// set where a stamp leads), and of the groups that follow those in a
// chain. The README: "The fields the module itself appends count too:
// when slide re-issues the leader, that re-issue is the leader's last
// field, and the followers the response sets take its lifetime (they are
// counted a second time, as rewritten) ... Under report_only, where
// nothing is appended, such followers are reported as they would be
// without the re-issue." Their lines are left out of the comparison.
func reportOnlyRenewedFollowers(cfg *stressConfig, applied []loggedEntry) map[string]bool {
	led := map[string]bool{}
	for _, e := range applied {
		if e.action == actionReissued.String() || e.action == actionStampSet.String() {
			led[e.cookie] = true
		}
	}
	out := map[string]bool{}
	for grew := true; grew; {
		grew = false
		for _, g := range cfg.groups {
			if g.like == "" || !led[g.like] && !out[g.like] || out[g.Cookies[0]] {
				continue
			}
			for _, m := range g.Cookies {
				if m != g.like {
					out[m], grew = true, true
				}
			}
		}
	}
	return out
}

// reportOnlyFollowers returns the cookies of the config's `expire like`
// groups but their leaders.
func reportOnlyFollowers(cfg *stressConfig) map[string]bool {
	out := map[string]bool{}
	for _, g := range cfg.groups {
		if g.like != "" {
			for _, m := range g.Cookies {
				if m != g.like {
					out[m] = true
				}
			}
		}
	}
	return out
}

// reportOnlyAlign compares the applied run's lines with the reported
// run's, in order, by cookie, group and action, and returns the first
// difference the README does not document ("" for none). Documented:
//
//   - a field counted again when the header map is rewritten once more
//     (a field added before the first body byte, HTTP/3's late rewrite, a
//     hijack or flush that failed) counts, applied, as `unchanged` or
//     `deletion kept` where the first rewrite's output stands, and under
//     report_only "again as what it would have become": `rewritten`;
//   - the followers of a leader a `slide` re-issue renews (see
//     reportOnlyRenewedFollowers).
//
// With known (see reportOnlyKnown), also documented: the applied run
// counts again a field the consistency rules appended (or a deletion
// placed at a path or domain policy's place), when the header
// map is rewritten once more (report_only appends none, so has none to
// count); a field counted again may count, applied, as `passed invalid`
// (its lifetime some engine reads apart, its attributes rewritten the
// first time), not only as `unchanged` or `deletion kept`; and on a
// server with error routes, see follower below.
func reportOnlyAlign(applied, reported []loggedEntry, skip, followers map[string]bool, known bool) string {
	keep := func(es []loggedEntry) []loggedEntry {
		var out []loggedEntry
		for _, e := range es {
			if !skip[e.cookie] {
				out = append(out, e)
			}
		}
		return out
	}
	a, b := keep(applied), keep(reported)
	// seen[i]: a[:i] has a line for a[i]'s cookie; added[i]: a[:i] has
	// one for a field the consistency rules appended for it.
	seen, added := make([]bool, len(a)), make([]bool, len(a))
	{
		s, ad := map[string]bool{}, map[string]bool{}
		for i, e := range a {
			seen[i], added[i] = s[e.cookie], ad[e.cookie]
			s[e.cookie] = true
			switch e.action {
			case actionCascaded.String(), actionPartialExpired.String(), actionReissued.String(), actionDeletionPlaced.String():
				ad[e.cookie] = true
			}
		}
	}
	again := func(i, j int) bool {
		return seen[i] && a[i].cookie == b[j].cookie && a[i].group == b[j].group &&
			(a[i].action == actionUnchanged.String() || a[i].action == actionDeletionKept.String() ||
				known && a[i].action == actionPassedInvalid.String()) && b[j].action == actionRewritten.String()
	}
	// A follower counted again may count rewritten where the other run
	// counts it unchanged, or the other way: applied, an error route's
	// module rewrites the failed route's module's output, not the app's
	// field, as the README says.
	follower := func(i, j int) bool {
		if !known || !seen[i] || !followers[a[i].cookie] || a[i].cookie != b[j].cookie || a[i].group != b[j].group {
			return false
		}
		x, y := a[i].action, b[j].action
		r, u := actionRewritten.String(), actionUnchanged.String()
		return x == r && y == u || x == u && y == r
	}
	extra := func(i int) bool {
		return known && added[i] && !actionOf(a[i].action).changes()
	}
	// reach[i][j]: a[:i] and b[:j] align.
	reach := make([][]bool, len(a)+1)
	for i := range reach {
		reach[i] = make([]bool, len(b)+1)
	}
	reach[0][0] = true
	bestI, bestJ := 0, 0
	for i := 0; i <= len(a); i++ {
		for j := 0; j <= len(b); j++ {
			if !reach[i][j] {
				continue
			}
			if i+j > bestI+bestJ {
				bestI, bestJ = i, j
			}
			if i < len(a) && j < len(b) && (a[i].key() == b[j].key() || again(i, j) || follower(i, j)) {
				reach[i+1][j+1] = true
			}
			if i < len(a) && extra(i) {
				reach[i+1][j] = true
			}
		}
	}
	if reach[len(a)][len(b)] {
		return ""
	}
	return fmt.Sprintf("line %d applied / %d reported: applied %s, reported %s\n  applied:  %s\n  reported: %s",
		bestI, bestJ, at(a, bestI), at(b, bestJ), keys(a), keys(b))
}

// actionOf is the action named s.
func actionOf(s string) action {
	return action(slices.Index(actionNames[:], s))
}

func at(es []loggedEntry, i int) string {
	if i < len(es) {
		return es[i].key()
	}
	return "(none)"
}

func keys(es []loggedEntry) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.key()
	}
	return "[" + strings.Join(out, "; ") + "]"
}

// historyFields are the Set-Cookie fields s's handlers add.
func historyFields(s *historyScenario) []string {
	var out []string
	for _, ops := range [][]historyOp{s.ops, s.errorPage} {
		for _, o := range ops {
			out = append(out, o.fields...)
		}
	}
	return out
}

// checkReportOnly compares the three runs of s, and returns what
// differs.
func checkReportOnly(t *testing.T, cfg *stressConfig, s *historyScenario) []string {
	t.Helper()
	plain := runReportOnly(plainMiddleware{}, s)
	applied := serveReportOnly(t, cfg, false, s)
	reported := serveReportOnly(t, cfg, true, s)
	var problems []string
	if !reported.res.same(plain) {
		problems = append(problems, "report_only changed the response: "+plain.diff(reported.res)+"\n  plain:"+plain.String()+"\n  report_only:"+reported.res.String())
	}
	if reportOnlyHandlerReadsBack(s) {
		// The handler behind the module replaced the fields after the
		// final rewrite, having read them: applied, it read what the
		// module appended, and so wrote other fields than under
		// report_only. Only the bytes and each run's lines compare.
		return append(problems, checkReportOnlyLogs(t, cfg, historyFields(s), applied, reported, false, false)...)
	}
	return append(problems, checkReportOnlyLogs(t, cfg, historyFields(s), applied, reported, true, s.errorRoutes)...)
}

// checkReportOnlyLogs checks each run's lines and counters, and, with
// align, the reported run's lines against the applied run's. errorRoutes:
// the module ran again in the error routes, where, as the README says,
// applied it counts the failed route's output and under report_only the
// app's fields: any field counted again there may count rewritten in one
// run and unchanged in the other.
func checkReportOnlyLogs(t *testing.T, cfg *stressConfig, fields []string, applied, reported reportOnlyRun, align, errorRoutes bool) []string {
	t.Helper()
	rh, err := newReportOnlyHandler(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	names := reportOnlyNames(cfg, fields)
	problems := checkReportOnlyLines(rh.h, names, applied, false)
	problems = append(problems, checkReportOnlyLines(rh.h, names, reported, true)...)
	for k, n := range reported.counts {
		reportOnlyActions[k[strings.LastIndex(k, " / ")+3:]] += n
	}
	if !align {
		return problems
	}
	recounted := reportOnlyFollowers(cfg)
	if errorRoutes {
		for _, g := range cfg.groups {
			for _, m := range g.members {
				recounted[m] = true
			}
		}
	}
	if d := reportOnlyAlign(applied.logs, reported.logs, reportOnlyRenewedFollowers(cfg, applied.logs), recounted, reportOnlyKnown); d != "" {
		problems = append(problems, "the report differs from what the applied module did: "+d)
	}
	return problems
}

// checkReportOnlyStress serves s, a response of the stress test's
// generator, applied and under report_only (through runStressScenario),
// and returns what differs: the report_only response must carry the
// handlers' fields (checkStressReportOnly; the header goes out with
// those added by then), the
// lines and counters as checkReportOnly says.
func checkReportOnlyStress(t *testing.T, cfg *stressConfig, s *stressScenario) []string {
	t.Helper()
	serve := func(reportOnly bool) (stressResult, reportOnlyRun) {
		rh, err := newReportOnlyHandler(cfg, reportOnly)
		if err != nil {
			t.Fatalf("config %s: provisioned once, then %v", cfg, err)
		}
		res := runStressScenario(rh.h, s, nil)
		counts, ro := rh.counts(t)
		return res, reportOnlyRun{logs: rh.core.recorded(), counts: counts, ro: ro}
	}
	_, applied := serve(false)
	res, reported := serve(true)
	var added []stressField
	var fields []string
	for _, ops := range [][]stressOp{s.ops, s.errorPage} {
		for _, o := range ops {
			added = append(added, o.fields...)
			for _, f := range o.fields {
				fields = append(fields, f.value)
			}
		}
	}
	var problems []string
	if res.panicked != nil {
		problems = append(problems, fmt.Sprintf("report_only: panic %v", res.panicked))
	}
	problems = append(problems, checkStressReportOnly(s, res, added)...)
	if len(res.sent) > len(fields) || !slices.Equal(res.sent, fields[:len(res.sent)]) {
		// The header goes out with the fields added so far.
		problems = append(problems, fmt.Sprintf("report_only sent Set-Cookie %q, the handlers added %q", clip(res.sent), clip(fields)))
	}
	return append(problems, checkReportOnlyLogs(t, cfg, fields, applied, reported, true, s.errorRoutes)...)
}

// reportOnlyKnown makes the differential test pass over the differences
// the README documents (see reportOnlyAlign); a test can turn it off to
// see them.
var reportOnlyKnown = true

// reportOnlyActions counts the actions the reported runs counted, by
// name: what the test covered.
var reportOnlyActions = map[string]int{}

// historyOpNames name the steps in the test's tally.
var historyOpNames = [...]string{histAdd: "add", histFilter: "filter", histSetHeader: "set header", histEarlyHints: "103",
	histFlushFails: "flush fails", histHijackFails: "hijack fails", histFlush: "flush", histHijack: "hijack",
	histWriteHeader: "WriteHeader", histWrite: "Write", histReadFrom: "ReadFrom", histEditCookie: "edit Cookie",
	histTrailer: "trailer", histReturnError: "error", histPanic: "panic"}

// reportOnlyHandlerReadsBack reports whether s filters the fields after
// the header may have been sent (a final WriteHeader, a write, a flush).
func reportOnlyHandlerReadsBack(s *historyScenario) bool {
	sent := false
	for _, o := range s.ops {
		switch o.kind {
		case histWriteHeader, histWrite, histReadFrom, histFlush:
			sent = true
		case histFilter:
			if sent {
				return true
			}
		}
	}
	return false
}

// genReportOnlyConfig returns a random config (see genHistoryConfig),
// now and then with a group whose glob matches prefixed names and whose
// policies would break their prefix: its edits are skipped ("prefix edit
// skipped"), which no generated config does otherwise.
func genReportOnlyConfig(r *rand.Rand) *stressConfig {
	cfg, _ := genHistoryConfig(r)
	if r.Intn(4) > 0 {
		return cfg
	}
	g := &stressGroup{members: []string{"__Host-p", "__Secure-p"}}
	g.Label, g.Cookies = "px", []string{"__*"}
	g.Secure, g.HTTPOnly = off(), on()
	g.Path = stressPick(r, "", "/app")
	g.Domain = stressPick(r, "", "example.com")
	if r.Intn(2) == 0 {
		g.Expire = &ExpiryPolicy{Mode: modeSession}
	}
	at := len(cfg.groups)
	if cfg.groups[at-1].Label == "all" {
		at--
	}
	cfg.groups = slices.Insert(cfg.groups, at, g)
	return cfg
}

// TestReportOnlyDifferential: see the top of this file.
func TestReportOnlyDifferential(t *testing.T) {
	seed := stressEnv(t, "REPORTONLY_SEED", reportOnlyDefaultSeed)
	configs := stressEnv(t, "REPORTONLY_CONFIGS", reportOnlyDefaultConfigs)
	saved := historyLogPanics
	historyLogPanics = false
	defer func() { historyLogPanics = saved }()
	clear(reportOnlyActions)
	r := rand.New(rand.NewSource(seed))
	start := time.Now()
	served, failures := 0, 0
	tally := map[string]int{}
	for range configs {
		cfg := genReportOnlyConfig(r)
		if _, err := newReportOnlyHandler(cfg, false); err != nil {
			if _, err2 := newReportOnlyHandler(cfg, true); err2 == nil {
				t.Errorf("config %s: provisions under report_only only", cfg)
			}
			continue
		}
		for range reportOnlyScenarios {
			s := genHistoryScenario(r, cfg, false)
			served++
			problems := checkReportOnly(t, cfg, s)
			for _, o := range s.ops {
				tally[historyOpNames[o.kind]]++
			}
			if s.errorRoutes {
				tally["error routes"]++
			}
			if s.http3 {
				tally["HTTP/3"]++
			}
			if len(problems) == 0 {
				continue
			}
			failures++
			t.Errorf("seed %d (REPORTONLY_SEED=%d), config %s\n  request:\n%s  %s", seed, seed, cfg, s, strings.Join(problems, "\n  "))
			if failures >= reportOnlyMaxFailures {
				t.Fatalf("stopped after %d failing requests", failures)
			}
		}
	}
	// The stress test's responses too: other Cookie headers (stamps sent
	// twice), snapshots, and its own writer below.
	for range configs {
		cfg := genStressConfig(r)
		if _, err := newReportOnlyHandler(cfg, false); err != nil {
			continue
		}
		for range reportOnlyScenarios {
			s := genStressScenario(r, cfg)
			served++
			problems := checkReportOnlyStress(t, cfg, s)
			if len(problems) == 0 {
				continue
			}
			failures++
			t.Errorf("seed %d (REPORTONLY_SEED=%d), config %s\n  stress response:\n%s  %s", seed, seed, cfg, s, strings.Join(problems, "\n  "))
			if failures >= reportOnlyMaxFailures {
				t.Fatalf("stopped after %d failing requests", failures)
			}
		}
	}
	kinds := make([]string, 0, len(tally))
	for k, n := range tally {
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("seed %d: %d requests in %v; steps by kind %v; actions reported %v", seed, served, time.Since(start).Round(time.Millisecond), kinds, reportOnlyActions)
	// A run of the default size reports every action: a generator that
	// stopped making one would leave this test passing on nothing.
	if configs >= reportOnlyDefaultConfigs {
		for _, a := range actionNames {
			if reportOnlyActions[a] == 0 {
				t.Errorf("seed %d: no %q reported in %d requests", seed, a, served)
			}
		}
	}
}

// The findings: each a small request whose report differs from what the
// applied module does, or whose applied response differs from what the
// README says.

// serveReportOnlyJSON serves s through a new Handler for the JSON config
// js, applied or under report_only.
func serveReportOnlyJSON(t *testing.T, js string, reportOnly bool, s *historyScenario) reportOnlyRun {
	t.Helper()
	var h Handler
	if err := json.Unmarshal([]byte(js), &h); err != nil {
		t.Fatal(err)
	}
	rh, err := provisionReportOnly(&h, reportOnly)
	if err != nil {
		t.Fatal(err)
	}
	res := runReportOnly(rh.h, s)
	counts, ro := rh.counts(t)
	return reportOnlyRun{res: res, logs: rh.core.recorded(), counts: counts, ro: ro}
}

// TestLateRewriteUndoesTheRightFollower: the app sends its follower f
// twice, "f=1" then "f=1; Max-Age=3600", beside a session leader, and
// logs the leader out after WriteHeader, on a writer below that sends
// the header at the first body byte. The README: a leader logged out
// that way leads nothing, and the followers go out as the app sent them.
// The final rewrite rewrote the second f into "f=1"; the rewrite at the
// first body byte puts the followers back, and must not take the app's
// own "f=1", before it, for the one it rewrote: the two fields would go
// out swapped, and the browser keep f as a session cookie where the app
// gave it an hour. (The differential test saw the swap as the applied
// run's lines for f coming in another order than report_only's.)
func TestLateRewriteUndoesTheRightFollower(t *testing.T) {
	app := []string{"lead=1", "f=1", "f=1; Max-Age=3600", "lead=; Max-Age=0"}
	s := &historyScenario{date: testDate, serialise: histLate, ops: []historyOp{
		{kind: histAdd, fields: app[:3]},
		{kind: histWriteHeader, status: http.StatusOK},
		{kind: histAdd, fields: app[3:]},
		{kind: histWrite},
	}}
	const js = `{"groups":[{"label":"f","cookies":["f"],"expire":{"mode":"like","like":"lead"}}]}`
	applied := serveReportOnlyJSON(t, js, false, s)
	want := fmt.Sprintf("Set-Cookie: %q", app)
	if got := strings.Join(applied.res.events, "\n"); !strings.Contains(got, want) {
		t.Errorf("applied, the header went out as%s\nwant %s", applied.res, want)
	}
}
