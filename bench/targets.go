package main

import (
	"fmt"
	"math"
	"strings"
)

// verdict is a target's outcome in one run.
type verdict string

const (
	met       verdict = "yes"
	missed    verdict = "**no**"
	undecided verdict = "cannot tell"
	info      verdict = "—" // a number reported, not a target
)

func judge(ok bool) verdict {
	if ok {
		return met
	}
	return missed
}

// check is one row of the targets table.
type check struct {
	what, measured string
	v              verdict
}

// checks are the targets against this run's numbers, in the order of the
// table.
func (r *results) checks() []check {
	var all []check
	for _, f := range []func() []check{
		r.rewriteChecks, r.scalingChecks, r.attributeChecks, r.beforeChecks,
		r.consistencyChecks, r.slideChecks, r.allocTestChecks, r.proxyChecks, r.fullConfigChecks,
	} {
		all = append(all, f()...)
	}
	return all
}

// rewriteChecks: the costs of the expiry-only rewrite and handler, with
// and without cookies to rewrite.
func (r *results) rewriteChecks() []check {
	var c []check
	for _, b := range []struct{ what, name string }{
		{"no Set-Cookie: 0 allocs in the handler", "ServeHTTP/none/handler"},
		{"3 Set-Cookie fields that match nothing: 0 allocs in the handler", "ServeHTTP/unmatched/handler"},
	} {
		if g := r.bench(b.name); g != nil {
			c = append(c, check{b.what, fmt.Sprintf("%g allocs/op, %s ns/op (`%s`)", g.AllocsOp, formatNs(g.NsOp), b.name), judge(g.AllocsOp == 0)})
		}
	}
	if g := r.bench("Rewrite/pypi"); g != nil {
		c = append(c,
			check{"PyPI rewrite (expiry only) ≤ 400 ns/op (absolute: depends on the machine)", fmt.Sprintf("%s ns/op (`Rewrite/pypi`)", formatNs(g.NsOp)), judge(g.NsOp <= 400)},
			check{"PyPI rewrite ≤ 2 allocs/op", fmt.Sprintf("%g allocs/op, %g B/op", g.AllocsOp, g.BytesOp), judge(g.AllocsOp <= 2)})
	}
	if g := r.bench("Rewrite/pypi-unremembered"); g != nil {
		c = append(c, check{"PyPI rewrite of fields the group's memo does not hold (scanned, and their outcome stored): cost",
			fmt.Sprintf("%s ns/op, %g allocs/op, %g B/op (`Rewrite/pypi-unremembered`)", formatNs(g.NsOp), g.AllocsOp, g.BytesOp), info})
	}
	if h, u := r.bench("ServeHTTP/pypi/handler"), r.bench("ServeHTTP/pypi/upstream-only"); h != nil && u != nil {
		d := h.NsOp - u.NsOp
		c = append(c, check{"PyPI handler + wrapper ≤ 1 µs per request (absolute)",
			fmt.Sprintf("%s ns/op (%s with the upstream − %s upstream alone)", formatNs(d), formatNs(h.NsOp), formatNs(u.NsOp)), judge(d <= 1000)})
	}
	for _, k := range []struct{ name, what string }{{"pypi", "PyPI response"}, {"none", "no Set-Cookie"}} {
		n, h := r.bench("ServeHTTP/"+k.name+"/handler"), r.bench("ServeHTTPHeaderRegex/"+k.name+"/handler")
		if n != nil && h != nil {
			c = append(c, check{"handler ≤ Caddy's `header` regex replace (Go benchmark), " + k.what,
				fmt.Sprintf("%s ns, %g allocs vs %s ns, %g allocs", formatNs(n.NsOp), n.AllocsOp, formatNs(h.NsOp), h.AllocsOp), judge(n.NsOp <= h.NsOp)})
		}
	}
	return c
}

// scalingChecks: linear in the number of fields, flat in the number of
// exact names, provisioning linear in the number of groups.
func (r *results) scalingChecks() []check {
	var c []check
	var groupParts []string
	var perGroup []float64
	for _, n := range []int{1250, 2500, 5000} {
		if g := r.bench(fmt.Sprintf("HostileProvision/groups/%d", n)); g != nil && g.Metrics["ns/group"] > 0 {
			groupParts = append(groupParts, fmt.Sprintf("%d: %s", n, formatNs(g.Metrics["ns/group"])))
			perGroup = append(perGroup, g.Metrics["ns/group"])
		}
	}
	if len(groupParts) > 0 {
		c = append(c, check{"provisioning linear in the number of groups (ns per group from 1250 to 5000 groups within a factor 1.5)",
			strings.Join(groupParts, ", "), judge(spread(perGroup) <= 1.5)})
	}
	for _, series := range []string{"pypi", "unmatched"} {
		var parts []string
		var per []float64
		for _, n := range []int{1, 3, 10, 100} {
			if g := r.bench(fmt.Sprintf("RewriteFields/%s/fields=%d", series, n)); g != nil {
				parts = append(parts, fmt.Sprintf("%d: %s", n, formatNs(g.NsField)))
				if n >= 3 {
					per = append(per, g.NsField)
				}
			}
		}
		if len(parts) > 0 {
			c = append(c, check{fmt.Sprintf("linear in the number of fields, %s (ns per field from 3 to 100 fields within a factor 1.5)", series),
				strings.Join(parts, ", "), judge(spread(per) <= 1.5)})
		}
	}
	var parts []string
	var ns []float64
	for _, n := range []int{1, 10, 1000} {
		if g := r.bench(fmt.Sprintf("RewriteExactNames/names=%d", n)); g != nil {
			parts = append(parts, fmt.Sprintf("%d: %s ns", n, formatNs(g.NsOp)))
			ns = append(ns, g.NsOp)
		}
	}
	if il := r.bench("RewriteExactNamesInterleaved"); il != nil {
		// Judged on the interleaved benchmark (see attributeChecks), the
		// separate runs beside it.
		m := il.Metrics
		measured := fmt.Sprintf("interleaved: 1: %s ns, 10: %s ns, 1000: %s ns (%.2f ×)", formatNs(m["names=1-ns"]), formatNs(m["names=10-ns"]), formatNs(m["names=1000-ns"]), m["max/min"])
		if len(parts) > 0 {
			measured += "; run one after the other: " + strings.Join(parts, ", ")
		}
		c = append(c, check{"flat in the number of exact names (1, 10, 1000 within a factor 1.25)", measured, judge(m["max/min"] <= 1.25)})
	} else if len(parts) > 0 {
		c = append(c, check{"flat in the number of exact names (1, 10, 1000 within a factor 1.25)", strings.Join(parts, ", "), judge(spread(ns) <= 1.25)})
	}
	return c
}

// spread is the largest of v over the smallest; +Inf for none.
func spread(v []float64) float64 {
	if len(v) == 0 {
		return math.Inf(1)
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	if lo <= 0 {
		return math.Inf(1)
	}
	return hi / lo
}

// attributeChecks: BenchmarkRewriteAttributes for the allocations, and
// BenchmarkRewriteAttributesInterleaved for the ratios: it times the three
// cases in alternating batches within one benchmark, so that the machine's
// drift between benchmarks (tens of percent on a shared VM) leaves the
// ratios alone.
func (r *results) attributeChecks() []check {
	e, a, n := r.bench("RewriteAttributes/expiry-only"), r.bench("RewriteAttributes/expiry+attributes"), r.bench("RewriteAttributes/net-http-parse-string")
	il := r.bench("RewriteAttributesInterleaved")
	if e == nil || a == nil || n == nil || il == nil {
		return nil
	}
	m := il.Metrics
	separate := func(x, y *goBench) string {
		return fmt.Sprintf("; run one after the other: %s vs %s ns, %.2f ×", formatNs(x.NsOp), formatNs(y.NsOp), x.NsOp/y.NsOp)
	}
	return []check{
		{"`expiry+attributes` (expire 12h, secure on, httponly on, samesite lax) ≤ 1.25 × `expiry-only`",
			fmt.Sprintf("interleaved: %s ns vs %s ns: %.2f ×", formatNs(m["attributes-ns"]), formatNs(m["expiry-only-ns"]), m["attributes/expiry-only"]) + separate(a, e),
			judge(m["attributes/expiry-only"] <= 1.25)},
		{"`expiry+attributes` ≤ 2 allocs/op", fmt.Sprintf("%g allocs/op, %g B/op", a.AllocsOp, a.BytesOp), judge(a.AllocsOp <= 2)},
		{"`expiry-only` ≥ 3 × faster than `net-http-parse-string` (ParseSetCookie + String)",
			fmt.Sprintf("interleaved: %s ns vs %s ns (%g allocs): %.2f ×", formatNs(m["expiry-only-ns"]), formatNs(m["net-http-ns"]), n.AllocsOp, m["net-http/expiry-only"]) + separate(n, e),
			judge(m["net-http/expiry-only"] >= 3)},
		{"`expiry+attributes` ≥ 3 × faster than `net-http-parse-string`",
			fmt.Sprintf("interleaved: %s ns vs %s ns: %.2f ×", formatNs(m["attributes-ns"]), formatNs(m["net-http-ns"]), m["net-http/attributes"]) + separate(n, a),
			judge(m["net-http/attributes"] >= 3)},
	}
}

// beforeChecks: the expiry-only rewrite is no slower than at -before. A
// higher median that the Mann–Whitney test cannot tell from noise
// (p ≥ 0.05) counts as no slower, as benchstat would print "~".
func (r *results) beforeChecks() []check {
	b := r.Before
	if b == nil {
		return nil
	}
	before, after := b.beforeMedian(), b.afterMedian()
	v := judge(after <= before || b.P >= 0.05)
	return []check{{fmt.Sprintf("expiry-only rewrite (`Rewrite/pypi`) no slower than before the reshape (`%s`): medians, interleaved runs", b.Rev),
		fmt.Sprintf("`%s` %s ns, work tree %s ns (%+.1f %%, p = %.2f, %d runs each)", b.Rev, formatNs(before), formatNs(after), 100*(after/before-1), b.P, len(b.After)), v}}
}

// consistencyChecks: BenchmarkConsistency.
func (r *results) consistencyChecks() []check {
	j, e, c := r.bench("Consistency/complete-jar"), r.bench("Consistency/pypi-expiry-only"), r.bench("Consistency/cascade")
	if j == nil || e == nil {
		return nil
	}
	out := []check{
		{"consistency, `complete-jar` (10-cookie Cookie header, whole group) ≤ `pypi-expiry-only`",
			fmt.Sprintf("%s ns vs %s ns: %.2f ×", formatNs(j.NsOp), formatNs(e.NsOp), j.NsOp/e.NsOp), judge(j.NsOp <= e.NsOp)},
		{"consistency, `complete-jar`: 0 allocs", fmt.Sprintf("%g allocs/op, %g B/op", j.AllocsOp, j.BytesOp), judge(j.AllocsOp == 0)},
	}
	if c != nil {
		out = append(out, check{"consistency, `cascade` (a deletion appended): allocations", fmt.Sprintf("%g allocs/op, %g B/op, %s ns", c.AllocsOp, c.BytesOp, formatNs(c.NsOp)), info})
	}
	return out
}

// slideChecks: BenchmarkSlide, and BenchmarkSlideInterleaved for the
// ratio (see attributeChecks).
func (r *results) slideChecks() []check {
	f, e, re := r.bench("Slide/fresh-stamp"), r.bench("Slide/pypi-expiry-only"), r.bench("Slide/reissue")
	if f == nil || e == nil {
		return nil
	}
	ratio := check{"slide, `fresh-stamp` ≤ `pypi-expiry-only`", fmt.Sprintf("%s ns vs %s ns: %.2f ×", formatNs(f.NsOp), formatNs(e.NsOp), f.NsOp/e.NsOp), judge(f.NsOp <= e.NsOp)}
	if il := r.bench("SlideInterleaved"); il != nil {
		m := il.Metrics
		ratio.measured = fmt.Sprintf("interleaved: %s ns vs %s ns: %.2f ×; run one after the other: %s", formatNs(m["fresh-stamp-ns"]), formatNs(m["pypi-expiry-only-ns"]), m["fresh-stamp/pypi-expiry-only"], ratio.measured)
		ratio.v = judge(m["fresh-stamp/pypi-expiry-only"] <= 1)
	}
	out := []check{
		ratio,
		{"slide, `fresh-stamp`: 0 allocs", fmt.Sprintf("%g allocs/op, %g B/op", f.AllocsOp, f.BytesOp), judge(f.AllocsOp == 0)},
	}
	if re != nil {
		out = append(out, check{"slide, `reissue` allocates only its new fields: ≤ 4 allocs (the 3 new fields, and the stamp's value; see the allocation sites)",
			fmt.Sprintf("%g allocs/op, %g B/op, %s ns", re.AllocsOp, re.BytesOp, formatNs(re.NsOp)), judge(re.AllocsOp <= 4)})
	}
	return out
}

// allocTestChecks: the allocation assertions of alloc_test.go.
func (r *results) allocTestChecks() []check {
	var serve, other []string
	ok := true
	for _, t := range r.AllocTests {
		if strings.Contains(t.Name, "/") {
			continue
		}
		s := fmt.Sprintf("`%s` %s", t.Name, t.Result)
		if strings.HasPrefix(t.Name, "TestServeHTTPAllocs") {
			serve = append(serve, s)
			ok = ok && t.Result == "PASS"
		} else {
			other = append(other, s)
		}
	}
	if len(serve) == 0 {
		return nil
	}
	c := []check{{"`TestServeHTTPAllocs*` (alloc_test.go: `testing.AllocsPerRun` 0, or 1 for the log-in, run without -race) pass", strings.Join(serve, ", "), judge(ok)}}
	if len(other) > 0 {
		c = append(c, check{"(the other allocation tests)", strings.Join(other, ", "), info})
	}
	return c
}

// margin is how far the A/A control's median landed from 1 in this run:
// the run's own uncertainty, within which a ratio cannot be told from its
// target. cpu selects the ratio of CPU time per request.
func (r *results) margin(cpu bool) float64 {
	aa := r.control()
	if aa == nil {
		return 0
	}
	if cpu {
		return math.Abs(aa.CPUMedian - 1)
	}
	return math.Abs(aa.Median - 1)
}

// atLeast judges got ≥ want when got may be off by margin.
func atLeast(got, want, margin float64) verdict {
	switch {
	case got-margin >= want:
		return met
	case got+margin < want:
		return missed
	}
	return undecided
}

// atMost judges got ≤ want when got may be off by margin.
func atMost(got, want, margin float64) verdict {
	switch {
	case got+margin <= want:
		return met
	case got-margin > want:
		return missed
	}
	return undecided
}

// proxyChecks: the expiry-only configuration (2) through reverse_proxy.
func (r *results) proxyChecks() []check {
	var c []check
	if aa := r.control(); aa != nil {
		c = append(c, check{"(control) A/A: (1') ÷ (1), two identical sites; 100 % but for the method's bias and noise, which the verdicts below allow for",
			fmt.Sprintf("req/s %s; CPU per request: median %.1f %%", pairedMeasured(aa), 100*aa.CPUMedian), info})
	}
	n, rx := r.summary(cfgNormalizer), r.summary(cfgHeaderRegex)
	if n == nil || rx == nil {
		return c
	}
	m := r.margin(false)
	pn := r.paired(cfgNormalizer, cfgPlain)
	c = append(c, check{"(2) through reverse_proxy: req/s ≥ 97 % of plain reverse_proxy", r.ratioMeasured(pn, n), r.ratioVerdict(pn, n.Ratio, 0.97, m)})
	px := r.paired(cfgNormalizer, cfgHeaderRegex)
	vs := 0.0
	if rx.RPS > 0 {
		vs = n.RPS / rx.RPS
	}
	measured := fmt.Sprintf("rounds: %.1f %% median over median", 100*vs)
	if px != nil {
		measured = pairedMeasured(px) + "; " + measured
	}
	c = append(c, check{"(2) through reverse_proxy: req/s ≥ (3), the `header` regex replace", measured, r.ratioVerdict(px, vs, 1, m)})
	if sh := r.share(cfgNormalizer); sh != nil {
		c = append(c, check{"(2) the module's own share of Caddy's CPU on the log-in (CPU profile)",
			fmt.Sprintf("%s; the garbage collector and scheduler, shared by all: %.1f %%", sh.measured(), 100*sh.Background), info})
	}
	c = append(c, check{"Caddy CPU per proxied request, median of the rounds",
		fmt.Sprintf("(1) %.1f µs, (2) %.1f µs (%+.1f µs), (3) %.1f µs (%+.1f µs)", n.BaseCPUus, n.CPUus, n.CPUus-n.BaseCPUus, rx.CPUus, rx.CPUus-rx.BaseCPUus), info})
	if s := r.summary(cfgNormalizer + "-static"); s != nil {
		p := r.paired(s.Target.Name, s.Target.Base)
		c = append(c, check{"(2) idle through reverse_proxy (no Set-Cookie): req/s ≥ 97 % of plain", r.ratioMeasured(p, s), r.ratioVerdict(p, s.Ratio, 0.97, m)})
	}
	return c
}

// fullConfigChecks: the full-feature configuration (5) with a 10-cookie
// jar, against plain reverse_proxy with the same jar.
func (r *results) fullConfigChecks() []check {
	var c []check
	for _, path := range []string{pathLogin, pathStatic} {
		if aa := r.side(targetName(cfgPlainCopy, path, true), path); aa != nil {
			lo, hi := medianInterval(aa.CPURatios)
			c = append(c, check{fmt.Sprintf("(control) A/A side by side, 10-cookie jar, %s: (1') ÷ (1), two identical Caddy processes driven at the same time; 100 %% but for the method's bias and noise", pathWhat(path)),
				fmt.Sprintf("CPU per request: median %.2f %% (95 %% interval %.2f–%.2f %%, %d runs)", 100*aa.CPUMedian, 100*lo, 100*hi, len(aa.CPURatios)), info})
		}
	}
	for _, name := range []string{"full-jar", "full-jar-static"} {
		s := r.summary(name)
		if s == nil {
			continue
		}
		what := "(5) full config, 10-cookie jar, " + pathWhat(s.Target.Path)
		p := r.paired(name, s.Target.Base)
		cpu := fmt.Sprintf("rounds: (1) %.1f µs, (5) %.1f µs (%+.1f %%)", s.BaseCPUus, s.CPUus, 100*(s.CPUus/s.BaseCPUus-1))
		cpuVerdict := atMost(s.CPUus/s.BaseCPUus, 1.01, r.margin(true))
		if p != nil {
			lo, hi := medianInterval(p.CPURatios)
			cpu = fmt.Sprintf("paired runs: median %+.2f %% (95 %% interval %+.1f to %+.1f %%; quartiles %+.1f to %+.1f %%, %d ratios); ",
				100*(p.CPUMedian-1), 100*(lo-1), 100*(hi-1), 100*(p.CPUQ1-1), 100*(p.CPUQ3-1), len(p.CPURatios)) + cpu
			m := r.margin(true)
			cpuVerdict = inInterval(lo-m, hi+m, 1.01, false)
		}
		if sd := r.side(name, s.Target.Path); sd != nil {
			// Side by side, where the host's speed cancels out: these
			// decide, the paired runs are reported beside them.
			lo, hi := medianInterval(sd.CPURatios)
			m := r.sideMargin(s.Target.Path)
			cpu = fmt.Sprintf("side by side: median %+.2f %% (95 %% interval %+.2f to %+.2f %%, %d runs; widened by the A/A control's %.2f %%); ",
				100*(sd.CPUMedian-1), 100*(lo-1), 100*(hi-1), len(sd.CPURatios), 100*m) + cpu
			cpuVerdict = inInterval(lo-m, hi+m, 1.01, false)
		}
		if sh := r.share(name); sh != nil {
			lo, hi := sh.bounds()
			cpu = "CPU profile: the module's own share of Caddy's CPU " + sh.measured() + "; " + cpu
			switch {
			case lo > 0.01:
				// The module's own work alone is more than the target
				// allows, whatever else it adds.
				cpuVerdict = missed
			case hi > 0.01 && cpuVerdict != missed:
				// The module's own work may already be more than the
				// target allows: the paired runs cannot make it met.
				cpuVerdict = undecided
			case cpuVerdict == undecided && s.Target.Path == pathStatic:
				// The paired runs cannot tell; the module's own work is
				// within the target, and on this response it allocates
				// nothing, so that no collection is its doing.
				cpuVerdict = met
			}
		}
		c = append(c,
			check{what + ": Caddy's CPU per request within 1 % of (1) with the same jar", cpu, cpuVerdict},
			check{what + ": req/s ≥ 97 % of (1) with the same jar", r.ratioMeasured(p, s), r.ratioVerdict(p, s.Ratio, 0.97, r.margin(false))})
	}
	return c
}

// pathWhat names the response of path in a table cell.
func pathWhat(path string) string {
	if path == pathStatic {
		return "response without Set-Cookie"
	}
	return "PyPI log-in response"
}

// share returns the CPU profile of target name, or nil.
func (r *results) share(name string) *cpuShare {
	for i := range r.Shares {
		if r.Shares[i].Target == name {
			return &r.Shares[i]
		}
	}
	return nil
}

// bounds returns a 95 % interval of the module's share: the normal
// approximation of a binomial proportion over the profile's samples.
func (s *cpuShare) bounds() (lo, hi float64) {
	if s.Samples == 0 {
		return 0, 1
	}
	e := 1.96 * math.Sqrt(s.Module*(1-s.Module)/float64(s.Samples))
	return max(s.Module-e, 0), s.Module + e
}

// measured is the module's share with its interval, for the targets
// table.
func (s *cpuShare) measured() string {
	lo, hi := s.bounds()
	return fmt.Sprintf("%.2f %% (95 %% interval %.2f–%.2f %%, %d samples)", 100*s.Module, 100*lo, 100*hi, s.Samples)
}

// ratioVerdict judges a req/s ratio on the paired runs if there are any,
// else on the rounds.
//
// With paired runs, the median ratio is judged on its 95 % interval
// (medianInterval) widened by margin, the A/A control's bias: met when the
// whole interval is at or above want, missed when it is all below, else
// undecided. A median alone, however far from want, can be the noise of
// a few runs.
func (r *results) ratioVerdict(p *pairedResult, rounds, want, margin float64) verdict {
	if p != nil {
		lo, hi := medianInterval(p.Ratios)
		return inInterval(lo-margin, hi+margin, want, true)
	}
	return atLeast(rounds, want, margin)
}

// inInterval judges a quantity known to lie in [lo, hi] against want: at
// least want (atLeast) or at most want.
func inInterval(lo, hi, want float64, atLeast bool) verdict {
	if !atLeast {
		lo, hi, want = -hi, -lo, -want
	}
	switch {
	case lo >= want:
		return met
	case hi < want:
		return missed
	}
	return undecided
}

// ratioMeasured describes a target's req/s against its baseline: the
// paired runs, which the targets are judged on, then the rounds.
func (r *results) ratioMeasured(p *pairedResult, s *summary) string {
	var parts []string
	if p != nil {
		parts = append(parts, pairedMeasured(p))
	}
	if s != nil {
		parts = append(parts, fmt.Sprintf("rounds: %.1f %% median over median (per round %s)", 100*s.Ratio, percents(s.RoundRatios)))
	}
	return strings.Join(parts, "; ")
}

func pairedMeasured(p *pairedResult) string {
	lo, hi := medianInterval(p.Ratios)
	return fmt.Sprintf("paired runs: median %.1f %% (95 %% interval %.1f–%.1f %%; quartiles %.1f–%.1f %%, %d ratios)", 100*p.Median, 100*lo, 100*hi, 100*p.Q1, 100*p.Q3, len(p.Ratios))
}
