package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The generated sections of BENCHMARKS.md, one function each.

// summarySection is the one-screen summary: where and how the run was
// made, how many targets it met, and the few numbers that matter most.
func (r *results) summarySection() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Run of `cd bench && go run .` at plugin commit `%s`, %s, on %d × %s, %s; it took %s.\n\n",
		m.shortCommit(), r.Started.Format("2006-01-02 15:04 MST"), m.Cores, m.CPU, m.Go, r.Elapsed)
	b.WriteString(r.verdictLine())
	fmt.Fprintf(&b, "\n- Machine load: load average %s at the start, %s at the end. CPU used by processes the harness did not start, as a share of the machine:", r.LoadBefore, r.LoadAfter)
	if len(r.Go) > 0 {
		fmt.Fprintf(&b, " %.1f %% during the Go benchmarks (not measured again: their absolute times and ratios carry that load);", 100*r.GoForeignCPU)
	}
	if len(r.Runs) > 0 {
		med, worst, retries := r.foreignLoad()
		fmt.Fprintf(&b, " median %.1f %%, worst %.1f %% over the rounds' wrk runs; %d runs or quadruples measured again, %d paired quadruples kept although loaded", 100*med, 100*worst, retries, r.loadedQuadruples())
	}
	b.WriteString(".\n")
	if e, a := r.bench("RewriteAttributes/expiry-only"), r.bench("RewriteAttributes/expiry+attributes"); e != nil && a != nil {
		fmt.Fprintf(&b, "- PyPI log-in response (3 fields, 2 rewritten): expiry only %s ns, with the three attribute policies %s ns (%.2f ×), %g allocs", formatNs(e.NsOp), formatNs(a.NsOp), a.NsOp/e.NsOp, a.AllocsOp)
		if n := r.bench("RewriteAttributes/net-http-parse-string"); n != nil {
			fmt.Fprintf(&b, "; net/http's ParseSetCookie + String on the same fields %s ns, %g allocs", formatNs(n.NsOp), n.AllocsOp)
		}
		if il := r.bench("RewriteAttributesInterleaved"); il != nil {
			m := il.Metrics
			fmt.Fprintf(&b, ". Interleaved in one benchmark: %.2f × for the attribute policies, net/http %.2f × the expiry-only and %.2f × the attribute rewrite", m["attributes/expiry-only"], m["net-http/expiry-only"], m["net-http/attributes"])
		}
		b.WriteString(".\n")
	}
	if bf := r.Before; bf != nil {
		fmt.Fprintf(&b, "- Expiry-only rewrite against `%s`, interleaved: %s → %s ns (%+.1f %%, p = %.2f).\n", bf.Rev, formatNs(bf.beforeMedian()), formatNs(bf.afterMedian()), 100*(bf.afterMedian()/bf.beforeMedian()-1), bf.P)
	}
	if aa := r.control(); aa != nil {
		fmt.Fprintf(&b, "- Through `reverse_proxy` (paired runs; the A/A control of two identical sites gave %.1f %% req/s and %.1f %% CPU per request, the run's own error):", 100*aa.Median, 100*aa.CPUMedian)
		for _, c := range []struct{ target, label string }{
			{cfgNormalizer, "expiry only"},
			{"full-jar", "full config with a 10-cookie jar, log-in"},
			{"full-jar-static", "the same, no Set-Cookie"},
		} {
			if p := r.paired(c.target, r.target(c.target).Base); p != nil {
				fmt.Fprintf(&b, " %s %.1f %% of plain's req/s, CPU per request %+.1f %%;", c.label, 100*p.Median, 100*(p.CPUMedian-1))
			}
		}
		b.WriteString(" see the targets.\n")
	}
	if len(r.Shares) > 0 {
		b.WriteString("- The module's own share of Caddy's CPU (a CPU profile of Caddy per target, which the machine's drift does not move):")
		for _, sh := range r.Shares {
			lo, hi := sh.bounds()
			fmt.Fprintf(&b, " %s %.2f %% (%.2f–%.2f %%);", r.target(sh.Target).label(), 100*sh.Module, 100*lo, 100*hi)
		}
		b.WriteString(" see the profiles.\n")
	}
	return b.String()
}

// verdictLine counts the targets met, missed and undecided.
func (r *results) verdictLine() string {
	var n int
	var no, open []string
	for _, c := range r.checks() {
		switch c.v {
		case met:
			n++
		case missed:
			no = append(no, c.what)
		case undecided:
			open = append(open, c.what)
		}
	}
	s := fmt.Sprintf("**%d of %d targets met.**", n, n+len(no)+len(open))
	if len(no) > 0 {
		s += " Missed: " + strings.Join(no, "; ") + "."
	}
	if len(open) > 0 {
		s += " This run cannot tell (the paired or side-by-side runs' interval, or a CPU profile's, spans the target): " + strings.Join(open, "; ") + "."
	}
	return s + "\n"
}

// targetsSection is the one table of targets against this run's numbers.
func (r *results) targetsSection() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured at `%s` by the run described under \"Machine and run\". Ratios compare numbers of this one run; absolute times differ between machines. "+
		"Through `reverse_proxy`, a ratio is judged on the paired runs: on a 95 %% interval of their median ratio (distribution-free, from the order statistics), widened by the A/A control's distance from 100 %%: \"cannot tell\" when the target lies within it. Caddy's CPU per request with the full configuration is judged on the side-by-side runs instead (the same interval and widening, with their own A/A control; see \"Noise\"), and also on the CPU profiles: missed when the module's own share is over 1 %% (its whole 95 %% interval), \"cannot tell\" when that interval holds 1 %%.\n\n", r.Machine.shortCommit())
	b.WriteString("| target | measured | met |\n| --- | --- | --- |\n")
	for _, c := range r.checks() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.what, c.measured, c.v)
	}
	return b.String()
}

// machineSection says where, when and with which commands the numbers were
// measured.
func (r *results) machineSection() string {
	var b strings.Builder
	m := r.Machine
	b.WriteString("| | |\n| --- | --- |\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, v)
		}
	}
	row("CPU (`/proc/cpuinfo` model name)", m.CPU)
	row("cores (`nproc`)", strconv.Itoa(m.Cores))
	row("kernel", m.Kernel)
	row("Go", m.Go)
	row("plugin commit", m.Commit)
	row("Caddy", m.Caddy)
	row("nginx", strings.TrimPrefix(m.Nginx, "nginx version: "))
	row("wrk", m.Wrk)
	row("run", fmt.Sprintf("%s, %s in all", r.Started.Format("2006-01-02 15:04 MST"), r.Elapsed))
	row("load average (1, 5, 15 min) at the start and the end", r.LoadBefore+"; "+r.LoadAfter)
	if len(r.Go) > 0 {
		row("foreign CPU during the Go benchmarks", fmt.Sprintf("%.1f %% of the machine", 100*r.GoForeignCPU))
	}
	o := r.Options
	fmt.Fprintf(&b, "\nHarness: `cd bench && go run .`, with `-d %s -rounds %d -warmup %s -pairs %d -pair-d %s -quiet %g -t %d -c %d -benchtime %s -count %d -before %s -before-count %d -profile-d %s`.\n",
		o.duration, o.rounds, o.warmup, o.pairs, o.pairD, o.quiet, o.threads, o.conns, o.benchtime, o.benchN, o.before, o.beforeN, o.profileD)
	if len(r.Go) > 0 {
		fmt.Fprintf(&b, "Go benchmarks, at the repository root: `%s`, then `%s` (the tables show the median of the %d runs). Allocation tests: `%s`.\n", shellCommand(goBenchArgs(o)), shellCommand(interleavedArgs), o.benchN, allocTestsCommand)
	}
	if len(r.Runs) > 0 {
		fmt.Fprintf(&b, "Load: `wrk %s <url>` per target and round, with `-H 'Cookie: <the 10-cookie jar>'` for the jar targets.\n", strings.Join(wrkArgs(o, o.duration), " "))
	}
	if r.NginxSkipped != "" {
		fmt.Fprintf(&b, "\n**%s**\n", r.NginxSkipped)
	}
	return b.String()
}

// goSection lists the Go benchmarks, one table per benchmark function; the
// ns/field column only where the benchmark reports it.
func (r *results) goSection() string {
	var b strings.Builder
	for i := 0; i < len(r.Go); {
		family, _, _ := strings.Cut(r.Go[i].Name, "/")
		j := i
		for j < len(r.Go) && strings.HasPrefix(r.Go[j].Name+"/", family+"/") {
			j++
		}
		writeBenchTable(&b, family, r.Go[i:j])
		i = j
	}
	return b.String()
}

// writeBenchTable writes the table of one benchmark function.
func writeBenchTable(b *strings.Builder, family string, benches []goBench) {
	perField := false
	for _, g := range benches {
		perField = perField || g.NsField > 0
	}
	fmt.Fprintf(b, "`Benchmark%s`\n\n| case | ns/op |", family)
	if perField {
		b.WriteString(" ns/field |")
	}
	fmt.Fprintf(b, " B/op | allocs/op | ns/op of the %d runs |\n| --- | ---: |", len(benches[0].Runs))
	if perField {
		b.WriteString(" ---: |")
	}
	b.WriteString(" ---: | ---: | --- |\n")
	for _, g := range benches {
		name := strings.TrimPrefix(strings.TrimPrefix(g.Name, family), "/")
		if name == "" {
			name = "—"
		}
		fmt.Fprintf(b, "| %s | %s |", name, formatNs(g.NsOp))
		if perField {
			if g.NsField > 0 {
				fmt.Fprintf(b, " %s |", formatNs(g.NsField))
			} else {
				b.WriteString(" |")
			}
		}
		runs := make([]string, len(g.Runs))
		for k, v := range g.Runs {
			runs[k] = formatNs(v)
		}
		fmt.Fprintf(b, " %g | %g | %s |\n", g.BytesOp, g.AllocsOp, strings.Join(runs, " "))
	}
	b.WriteString("\n")
}

// allocTestsSection lists how each allocation test ended.
func (r *results) allocTestsSection() string {
	if len(r.AllocTests) == 0 {
		return "No allocation tests in this run.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` at the repository root (the tests are built only without -race; output in `bench/out/allocs.txt`):\n\n| test | result |\n| --- | --- |\n", allocTestsCommand)
	for _, t := range r.AllocTests {
		fmt.Fprintf(&b, "| `%s` | %s |\n", t.Name, t.Result)
	}
	return b.String()
}

// profileSection is the CPU profile of the PyPI rewrite and where the
// allocating benchmarks allocate.
func (r *results) profileSection() string {
	p := r.Profile
	if p.Top == "" {
		return "No profile in this run.\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` (at the repository root), then `go tool pprof -top -nodecount=22 bench/out/cookienormalizer.test bench/out/rewrite.cpu.prof`:\n\n```\n%s\n\n%s\n```\n", p.Command, p.Bench, p.Top)
	for _, a := range p.Allocs {
		fmt.Fprintf(&b, "\nAllocation sites of `%s` per op (`-memprofilerate 1`, `go tool pprof -sample_index=alloc_objects`, counts divided by the benchmark's iterations, the benchmark's own setup left out):\n\n```\n%s\n```\n", a.Bench, a.Sites)
	}
	return b.String()
}

// beforeSection is the expiry-only rewrite at -before and in the work
// tree.
func (r *results) beforeSection() string {
	bf := r.Before
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` at `%s` (exported with `git archive` into a temporary directory) and in the work tree at `%s`: %s. Two-sided Mann–Whitney U test on the runs: p = %.3f.\n\n",
		bf.Bench, bf.RevTitle, r.Machine.shortCommit(), bf.Command, bf.P)
	b.WriteString("| | median ns/op | ns/op of the runs |\n| --- | ---: | --- |\n")
	fmt.Fprintf(&b, "| `%s` | %s | %s |\n", bf.Rev, formatNs(bf.beforeMedian()), formatRuns(bf.Before))
	fmt.Fprintf(&b, "| work tree | %s | %s |\n", formatNs(bf.afterMedian()), formatRuns(bf.After))
	fmt.Fprintf(&b, "\n`go run %s before-%s.txt before-HEAD.txt` (in `bench/out/`):\n\n```\n%s\n```\n", benchstatVersion, bf.Rev, bf.Benchstat)
	return b.String()
}

// loadSection is the rounds, the paired runs and the configurations.
func (r *results) loadSection() string {
	var b strings.Builder
	r.writeRounds(&b)
	r.writePaired(&b)
	r.writeSides(&b)
	r.writeShares(&b)
	for _, s := range r.summaries() {
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "\n**%s: wrk reported errors, %s**\n", s.Target.Name, e)
		}
	}
	r.writeConfigs(&b)
	return b.String()
}

// writeRounds writes the table of the rounds.
func (r *results) writeRounds(b *strings.Builder) {
	b.WriteString("Median of the rounds. \"vs (1)\" is req/s against (1) on the same path and with the same Cookie header, median over median, then the ratio within each round. \"CPU\" is the CPU time (user + system, from each process's CPU-time clock) of the server wrk drives, per request: Caddy's or nginx's (master and workers), or the upstream's alone. \"Foreign CPU\" is what processes the harness did not start used during a run (from /proc/stat, less the servers' and wrk's own CPU), as a share of the machine; a run with more than -quiet of it is measured again (twice at most).\n\n")
	b.WriteString("| target | path | req/s | p50 ms | p99 ms | CPU µs/req | vs (1) | vs (1) per round | req/s per round | foreign CPU median / max (runs measured again) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n")
	for _, s := range r.summaries() {
		rps := make([]string, len(s.RoundRPS))
		for i, v := range s.RoundRPS {
			rps[i] = fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(b, "| %s | `%s` | %.0f | %.2f | %.2f | %.1f | %.3f | %s | %s | %.1f %% / %.1f %% (%d) |\n",
			s.Target.label(), s.Target.Path, s.RPS, s.P50, s.P99, s.CPUus, s.Ratio, percents(s.RoundRatios), strings.Join(rps, ", "), 100*s.ForeignMedian, 100*s.ForeignMax, s.Retries)
	}
}

// writePaired writes the table of the paired runs.
func (r *results) writePaired(b *strings.Builder) {
	if len(r.Paired) == 0 {
		return
	}
	o := r.Options
	fmt.Fprintf(b, "\nPaired runs, after the rounds: for each comparison, %d times the four runs A B B A of %s each (A the baseline), giving two ratios B ÷ A of runs a second apart, of req/s and of the server's CPU time per request; a quadruple during which processes the harness did not start used more than %.0f %% of the machine is discarded and measured again, %d times at most per comparison; after that such quadruples are kept, and counted as \"kept loaded\". The targets are judged on the medians.\n\n", o.pairs, o.pairD, 100*o.quiet, o.pairs)
	b.WriteString("| comparison | req/s median | quartiles | every req/s ratio | CPU/req median | CPU/req quartiles | quadruples discarded / kept loaded |\n| --- | ---: | --- | --- | ---: | --- | ---: |\n")
	for _, p := range r.Paired {
		fmt.Fprintf(b, "| %s ÷ %s | %.3f | %.3f–%.3f | %s | %.4f | %.3f–%.3f | %d / %d |\n",
			r.target(p.Target).label(), r.target(p.Base).label(), p.Median, p.Q1, p.Q3, ratios(p.Ratios), p.CPUMedian, p.CPUQ1, p.CPUQ3, p.Discarded, p.Loaded)
	}
}

// writeSides writes the table of the side-by-side runs.
func (r *results) writeSides(b *strings.Builder) {
	if len(r.Sides) == 0 {
		return
	}
	o := r.Options
	fmt.Fprintf(b, "\nSide-by-side runs, after the paired runs: each configuration below as the only site of a Caddy process of its own (as in the Caddyfile below, with `admin off`); (6), measured only here, is (1) with `%s`, a deferred edit of the response's header that changes nothing: the least any handler that edits the header costs; for each comparison, %d runs of %s in which two wrk processes (%d thread, %d connections each) drive A and B at the same time, with the 10-cookie jar; the comparisons take turns. B ÷ A is the ratio of the two processes' CPU time per request. A run during which processes the harness did not start used more than %.0f %% of the machine is measured again, %d times at most per comparison. The req/s ratio is reported, not judged: the two share the machine, so the slower one also leaves more of it to the other.\n\n",
		headerFloorLine, o.sides, o.sideD, max(1, o.threads/2), max(1, o.conns/2), 100*o.quiet, o.sides)
	b.WriteString("| comparison (each in a Caddy process of its own) | CPU/req median | 95 % interval | every CPU/req ratio | req/s median | runs measured again / kept loaded |\n| --- | ---: | --- | --- | ---: | ---: |\n")
	for _, sd := range r.Sides {
		lo, hi := medianInterval(sd.CPURatios)
		a, bt := r.sideTarget(sd.Base, sd.Path), r.sideTarget(sd.Target, sd.Path)
		fmt.Fprintf(b, "| %s ÷ %s | %.4f | %.4f–%.4f | %s | %.3f | %d / %d |\n",
			bt.label(), a.label(), sd.CPUMedian, lo, hi, ratios(sd.CPURatios), medianOf(sd.RPSRatios), sd.Discarded, sd.Loaded)
	}
}

// sideTarget rebuilds the target of a side-by-side result, for its label.
func (r *results) sideTarget(name, path string) target {
	for _, c := range solos {
		if targetName(c.config, path, true) == name {
			return target{Name: name, Config: c.config, Path: path, Jar: true}
		}
	}
	return target{Name: name, Path: path}
}

// writeShares writes the table of the CPU profiles.
func (r *results) writeShares(b *strings.Builder) {
	if len(r.Shares) == 0 {
		return
	}
	fmt.Fprintf(b, "\nCPU profiles, after the paired runs: Caddy's own CPU profile (its admin endpoint's `/debug/pprof/profile`, %s while wrk drives one target alone), read with `go tool pprof -traces`. Each sample goes to whoever owns the innermost frame that is not the Go runtime, a standard-library helper, zap or Prometheus: the module (its scan, and the allocation of a field it writes), or the host (Caddy, net/http, reverse_proxy, also when called below the module's wrapper or inside its ServeHTTP). Samples with no such frame (the garbage collector's workers, the scheduler) are shared by all. The module's share is what it spends itself, a lower bound of what it adds: collecting its allocations is in the shared part. The interval is the binomial one over the samples. Of the module's share, \"growing the stack\" is the part under `runtime.newstack`: the module was the first call of a request to need more stack than a collection had left the connection goroutine, and Go copied the stack (Caddy calls the module's `WriteHeader` deep in `reverse_proxy`).\n\n", r.Options.profileD-2*time.Second)
	b.WriteString("| target | module | 95 % interval | of which growing the stack | shared (GC, scheduler) | samples |\n| --- | ---: | --- | ---: | ---: | ---: |\n")
	for _, sh := range r.Shares {
		lo, hi := sh.bounds()
		fmt.Fprintf(b, "| %s | %.2f %% | %.2f–%.2f %% | %.2f %% | %.1f %% | %d |\n", r.target(sh.Target).label(), 100*sh.Module, 100*lo, 100*hi, 100*sh.StackGrowth, 100*sh.Background, sh.Samples)
	}
}

// writeConfigs writes the configurations, folded.
func (r *results) writeConfigs(b *strings.Builder) {
	fmt.Fprintf(b, "\n<details><summary>The configurations (ports vary per run)</summary>\n\n```caddyfile\n%s```\n", r.Caddyfile)
	if r.NginxConf != "" {
		fmt.Fprintf(b, "\n```nginx\n%s```\n", r.NginxConf)
	}
	b.WriteString("\n</details>\n")
}

// capturesSection shows the Set-Cookie bytes each configuration sent.
func (r *results) capturesSection() string {
	var b strings.Builder
	b.WriteString("Each configuration's response to `GET /login` and `GET /logout`, read from the socket: the Set-Cookie field values byte for byte (the Expires the module writes depends on the response's Date). (5) was asked with the 10-cookie jar.\n")
	for _, path := range []string{pathLogout, pathLogin} {
		for _, c := range r.Captures {
			if c.Path != path || c.Config == cfgPlainCopy {
				continue
			}
			fmt.Fprintf(&b, "\n%s, `GET %s` → `%s`\n\n```\n", cfgDescriptions[c.Config], c.Path, c.Status)
			for _, v := range c.SetCookies {
				fmt.Fprintf(&b, "Set-Cookie: %s\n", v)
			}
			b.WriteString("```\n")
		}
	}
	return b.String()
}

func formatNs(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func ratios(v []float64) string {
	p := make([]string, len(v))
	for i, x := range v {
		p[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(p, " ")
}

func percents(v []float64) string {
	p := make([]string, len(v))
	for i, x := range v {
		p[i] = fmt.Sprintf("%.1f %%", 100*x)
	}
	return strings.Join(p, ", ")
}
