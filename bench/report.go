package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// machine describes where the numbers were measured.
type machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Caddy  string `json:"caddy"`
	Nginx  string `json:"nginx,omitempty"`
	Wrk    string `json:"wrk,omitempty"`
	Commit string `json:"commit"` // of the plugin, with the files that differ from it
}

// results is everything one run of the harness measured.
type results struct {
	Options      options        `json:"-"`
	Started      time.Time      `json:"started"`
	Elapsed      time.Duration  `json:"elapsed_ns"`
	Machine      machine        `json:"machine"`
	Go           []goBench      `json:"go_benchmarks,omitempty"`
	Profile      profile        `json:"profile"`
	Targets      []target       `json:"targets,omitempty"`
	Runs         []wrkRun       `json:"wrk_runs,omitempty"`
	Paired       []pairedResult `json:"paired,omitempty"`
	Captures     []capture      `json:"captures,omitempty"`
	Caddyfile    string         `json:"caddyfile,omitempty"`
	NginxConf    string         `json:"nginx_conf,omitempty"`
	NginxSkipped string         `json:"nginx_skipped,omitempty"`
}

func describeMachine(ctx context.Context, repo string) machine {
	m := machine{Cores: runtime.NumCPU(), CPU: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(data))
	}
	cmd := exec.CommandContext(ctx, "go", "version")
	cmd.Dir = repo
	if out, err := cmd.Output(); err == nil {
		m.Go = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	m.Commit = describeCommit(ctx, repo)
	return m
}

// describeCommit names the commit the numbers are for, and the files of
// the module (not its tests, not the harness) that differ from it: numbers
// of a work in progress say so.
func describeCommit(ctx context.Context, repo string) string {
	head, err := exec.CommandContext(ctx, "git", "-C", repo, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	c := strings.TrimSpace(string(head))
	status, _ := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain").Output()
	var dirty []string
	for _, line := range strings.Split(string(status), "\n") {
		if len(line) < 4 {
			continue
		}
		name := line[3:]
		if strings.HasPrefix(name, "bench/") || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".md") ||
			(!strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum") {
			continue
		}
		dirty = append(dirty, name)
	}
	if len(dirty) > 0 {
		c += " + uncommitted changes to " + strings.Join(dirty, ", ")
	}
	return c
}

// save writes results.json and results.md to dir.
func (r *results) save(dir string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), data, 0o644); err != nil {
		return err
	}
	var md strings.Builder
	for _, s := range r.sections() {
		fmt.Fprintf(&md, "## %s\n\n%s\n", s.title, s.body)
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644)
}

// section is a generated part of BENCHMARKS.md, between the markers
// <!-- BEGIN generated:name --> and <!-- END generated:name -->.
type section struct {
	name, title, body string
}

// sections returns the generated sections for which this run has data; the
// others keep what BENCHMARKS.md has.
func (r *results) sections() []section {
	s := []section{{"machine", "Machine and run", r.machineSection()}}
	if len(r.Go) > 0 || len(r.Runs) > 0 {
		s = append(s, section{"targets", "Targets", r.targetsSection()})
	}
	if len(r.Go) > 0 {
		s = append(s, section{"go", "Go benchmarks", r.goSection()})
		s = append(s, section{"profile", "Profile of the PyPI rewrite", r.profileSection()})
	}
	if len(r.Runs) > 0 {
		s = append(s, section{"load", "Load test", r.loadSection()})
		s = append(s, section{"captures", "Set-Cookie bytes on the wire", r.capturesSection()})
	}
	return s
}

func (r *results) machineSection() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "| | |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| CPU (`/proc/cpuinfo` model name) | %s |\n", m.CPU)
	fmt.Fprintf(&b, "| cores | %d |\n", m.Cores)
	fmt.Fprintf(&b, "| kernel | %s |\n", m.Kernel)
	fmt.Fprintf(&b, "| Go | %s |\n", m.Go)
	fmt.Fprintf(&b, "| plugin commit | %s |\n", m.Commit)
	if m.Caddy != "" {
		fmt.Fprintf(&b, "| Caddy | %s |\n", m.Caddy)
	}
	if m.Nginx != "" {
		fmt.Fprintf(&b, "| nginx | %s |\n", strings.TrimPrefix(m.Nginx, "nginx version: "))
	}
	if m.Wrk != "" {
		fmt.Fprintf(&b, "| wrk | %s |\n", m.Wrk)
	}
	fmt.Fprintf(&b, "| run | %s, %s in all |\n", r.Started.Format("2006-01-02 15:04 MST"), r.Elapsed)
	o := r.Options
	fmt.Fprintf(&b, "\nHarness: `cd bench && go run .`, which used the defaults `-d %s -rounds %d -warmup %s -pairs %d -pair-d %s -quiet %g -t %d -c %d -benchtime %s -count %d`.\n",
		o.duration, o.rounds, o.warmup, o.pairs, o.pairD, o.quiet, o.threads, o.conns, o.benchtime, o.benchN)
	if len(r.Go) > 0 {
		fmt.Fprintf(&b, "Go benchmarks, at the repository root: `%s` (the tables show the median of the %d runs).\n", goBenchCommand(o), o.benchN)
	}
	if len(r.Runs) > 0 {
		fmt.Fprintf(&b, "Load: `wrk -t%d -c%d -d%s --timeout 5s --latency <url>` per target and round.\n", o.threads, o.conns, o.duration)
	}
	if r.NginxSkipped != "" {
		fmt.Fprintf(&b, "\n**%s**\n", r.NginxSkipped)
	}
	return b.String()
}

// bench returns the Go benchmark called name, or nil.
func (r *results) bench(name string) *goBench {
	for i := range r.Go {
		if r.Go[i].Name == name {
			return &r.Go[i]
		}
	}
	return nil
}

// summary is one load-test target over all rounds.
type summary struct {
	Target      string
	Baseline    string
	RPS         float64 // median over rounds
	P50, P99    float64 // medians over rounds, ms
	CPUus       float64 // median server CPU per request, µs
	BaseCPUus   float64 // the baseline's
	Ratio       float64 // median RPS over the baseline's median RPS
	RoundRatios []float64
	RoundRPS    []float64
	Errors      []string

	// Foreign CPU (other people's work on the machine) during the
	// target's runs, as a share of the machine: median and worst.
	ForeignMedian, ForeignMax float64
	Retries                   int // runs measured again because of foreign CPU
}

// baseline is the target a target's ratio is against: plain reverse_proxy
// on the same path.
func baseline(name string) string {
	if strings.HasSuffix(name, "-static") {
		return cfgPlain + "-static"
	}
	return cfgPlain
}

func (r *results) summaries() []summary {
	byTarget := map[string][]wrkRun{}
	for _, run := range r.Runs {
		byTarget[run.Target] = append(byTarget[run.Target], run)
	}
	median := func(runs []wrkRun, f func(wrkRun) float64) float64 {
		v := make([]float64, len(runs))
		for i, run := range runs {
			v[i] = f(run)
		}
		return medianOf(v)
	}
	var out []summary
	for _, t := range r.Targets {
		runs := byTarget[t.Name]
		s := summary{
			Target:   t.Name,
			Baseline: baseline(t.Name),
			RPS:      median(runs, func(w wrkRun) float64 { return w.RPS }),
			P50:      median(runs, func(w wrkRun) float64 { return w.P50ms }),
			P99:      median(runs, func(w wrkRun) float64 { return w.P99ms }),
			CPUus:    median(runs, func(w wrkRun) float64 { return w.CPUus }),
		}
		base := byTarget[s.Baseline]
		s.BaseCPUus = median(base, func(w wrkRun) float64 { return w.CPUus })
		if b := median(base, func(w wrkRun) float64 { return w.RPS }); b > 0 {
			s.Ratio = s.RPS / b
		}
		s.ForeignMedian = median(runs, func(w wrkRun) float64 { return w.ForeignCPU })
		for _, run := range runs {
			s.ForeignMax = max(s.ForeignMax, run.ForeignCPU)
			s.Retries += run.Retries
			s.RoundRPS = append(s.RoundRPS, run.RPS)
			for _, b := range base {
				if b.Round == run.Round && b.RPS > 0 {
					s.RoundRatios = append(s.RoundRatios, run.RPS/b.RPS)
				}
			}
			if run.Errors != "" {
				s.Errors = append(s.Errors, fmt.Sprintf("round %d: %s", run.Round, run.Errors))
			}
		}
		out = append(out, s)
	}
	return out
}

func (r *results) summary(name string) *summary {
	for _, s := range r.summaries() {
		if s.Target == name {
			return &s
		}
	}
	return nil
}

// pairedResult is one comparison measured in ABBA pairs of short runs.
type pairedResult struct {
	Base, Target string
	Ratios       []float64 // req/s of Target over req/s of Base, one per adjacent pair
	Median       float64
	Q1, Q3       float64
	Discarded    int // quadruples measured again because of foreign CPU
}

// paired returns the paired result of target against base, or nil.
func (r *results) paired(target, base string) *pairedResult {
	for i := range r.Paired {
		if r.Paired[i].Target == target && r.Paired[i].Base == base {
			return &r.Paired[i]
		}
	}
	return nil
}

// quartiles returns the medians of the lower and upper halves of v.
func quartiles(v []float64) (q1, q3 float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	h := len(s) / 2
	return medianOf(s[:h]), medianOf(s[len(s)-h:])
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// targetsSection checks the numbers against the targets.
func (r *results) targetsSection() string {
	var b strings.Builder
	b.WriteString("| target | measured | met |\n| --- | --- | --- |\n")
	row := func(what, measured string, ok bool) {
		mark := "yes"
		if !ok {
			mark = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", what, measured, mark)
	}
	if len(r.Go) > 0 {
		for _, c := range []struct{ what, name string }{
			{"no Set-Cookie: 0 allocs in the handler", "ServeHTTP/none/handler"},
			{"3 unmatched Set-Cookie fields: 0 allocs in the handler", "ServeHTTP/unmatched/handler"},
		} {
			if g := r.bench(c.name); g != nil {
				row(c.what, fmt.Sprintf("%g allocs/op, %.0f ns/op (`%s`)", g.AllocsOp, g.NsOp, c.name), g.AllocsOp == 0)
			}
		}
		if g := r.bench("Rewrite/pypi"); g != nil {
			row("PyPI rewrite ≤ 400 ns/op", fmt.Sprintf("%.0f ns/op (`Rewrite/pypi`)", g.NsOp), g.NsOp <= 400)
			row("PyPI rewrite ≤ 2 allocs/op", fmt.Sprintf("%g allocs/op, %g B/op", g.AllocsOp, g.BytesOp), g.AllocsOp <= 2)
		}
		if h, u := r.bench("ServeHTTP/pypi/handler"), r.bench("ServeHTTP/pypi/upstream-only"); h != nil && u != nil {
			d := h.NsOp - u.NsOp
			row("PyPI handler + wrapper ≤ 1 µs per request", fmt.Sprintf("%.0f ns/op (%.0f with the upstream − %.0f upstream alone)", d, h.NsOp, u.NsOp), d <= 1000)
		}
		for _, c := range []string{"pypi", "none"} {
			n, h := r.bench("ServeHTTP/"+c+"/handler"), r.bench("ServeHTTPHeaderRegex/"+c+"/handler")
			if n == nil || h == nil {
				continue
			}
			what := "PyPI response"
			if c == "none" {
				what = "no Set-Cookie"
			}
			row("(Go benchmark, not in the issue) handler ≤ Caddy's header regex replace in the same harness, "+what,
				fmt.Sprintf("%.0f ns, %g allocs vs %.0f ns, %g allocs", n.NsOp, n.AllocsOp, h.NsOp, h.AllocsOp), n.NsOp <= h.NsOp)
		}
		for _, series := range []string{"pypi", "unmatched"} {
			var parts []string
			var lo, hi float64
			for _, n := range []int{1, 3, 10, 100} {
				g := r.bench(fmt.Sprintf("RewriteFields/%s/fields=%d", series, n))
				if g == nil {
					continue
				}
				parts = append(parts, fmt.Sprintf("%d: %.0f", n, g.NsField))
				if n >= 3 {
					if lo == 0 || g.NsField < lo {
						lo = g.NsField
					}
					hi = max(hi, g.NsField)
				}
			}
			if len(parts) > 0 {
				row(fmt.Sprintf("linear in the number of fields, %s (ns per field; from 3 to 100 fields within a factor 1.5)", series),
					strings.Join(parts, ", "), lo > 0 && hi/lo <= 1.5)
			}
		}
		var parts []string
		var lo, hi float64
		for _, n := range []int{1, 10, 1000} {
			if g := r.bench(fmt.Sprintf("RewriteExactNames/names=%d", n)); g != nil {
				parts = append(parts, fmt.Sprintf("%d: %.0f ns", n, g.NsOp))
				if lo == 0 || g.NsOp < lo {
					lo = g.NsOp
				}
				hi = max(hi, g.NsOp)
			}
		}
		if len(parts) > 0 {
			row("flat in the number of exact names (1, 10, 1000 within a factor 1.25)", strings.Join(parts, ", "), lo > 0 && hi/lo <= 1.25)
		}
	}
	if aa := r.paired(cfgPlainCopy, cfgPlain); aa != nil {
		fmt.Fprintf(&b, "| (control, not a target) A/A: (1') ÷ (1), two identical sites; 100 %% but for the method's bias and noise | %s | — |\n", r.ratioMeasured(aa, nil))
	}
	if n, rx := r.summary(cfgNormalizer), r.summary(cfgHeaderRegex); n != nil && rx != nil {
		pn := r.paired(cfgNormalizer, cfgPlain)
		row("through reverse_proxy: req/s ≥ 97 % of plain reverse_proxy", r.ratioMeasured(pn, n), ratioMet(pn, n, 0.97))
		px := r.paired(cfgNormalizer, cfgHeaderRegex)
		var vs summary
		if rx.RPS > 0 {
			vs = summary{Ratio: n.RPS / rx.RPS}
			for i := range n.RoundRPS {
				if i < len(rx.RoundRPS) && rx.RoundRPS[i] > 0 {
					vs.RoundRatios = append(vs.RoundRatios, n.RoundRPS[i]/rx.RoundRPS[i])
				}
			}
		}
		row("through reverse_proxy: req/s ≥ (3) header regex replace", r.ratioMeasured(px, &vs), ratioMet(px, &vs, 1))
		fmt.Fprintf(&b, "| (not a target) Caddy CPU per proxied request, median of the rounds | (1) %.1f µs, (2) %.1f µs (%+.1f µs), (3) %.1f µs (%+.1f µs) | — |\n",
			n.BaseCPUus, n.CPUus, n.CPUus-n.BaseCPUus, rx.CPUus, rx.CPUus-rx.BaseCPUus)
	}
	if n := r.summary(cfgNormalizer + "-static"); n != nil {
		pn := r.paired(cfgNormalizer+"-static", cfgPlain+"-static")
		row("idle through reverse_proxy (no Set-Cookie): req/s ≥ 97 % of plain", r.ratioMeasured(pn, n), ratioMet(pn, n, 0.97))
		fmt.Fprintf(&b, "| (not a target) Caddy CPU per request without Set-Cookie, median of the rounds | (1) %.1f µs, (2) %.1f µs (%+.1f µs) | — |\n",
			n.BaseCPUus, n.CPUus, n.CPUus-n.BaseCPUus)
	}
	return b.String()
}

// ratioMeasured describes a target's req/s against its baseline: the
// paired runs, which the targets are judged on, then the rounds.
func (r *results) ratioMeasured(p *pairedResult, s *summary) string {
	var m string
	if p != nil {
		m = fmt.Sprintf("paired runs: median %.1f %% (quartiles %.1f–%.1f %%, %d ratios)", 100*p.Median, 100*p.Q1, 100*p.Q3, len(p.Ratios))
	}
	if s != nil {
		if m != "" {
			m += "; "
		}
		m += fmt.Sprintf("rounds: %.1f %% median over median (per round %s)", 100*s.Ratio, percents(s.RoundRatios))
	}
	return m
}

// ratioMet judges a ratio on the paired runs if there are any, else on the
// rounds.
func ratioMet(p *pairedResult, s *summary, target float64) bool {
	if p != nil {
		return p.Median >= target
	}
	return s != nil && s.Ratio >= target
}

// cfgShort names a target in a table cell: "(2) cookie_normalizer, no cookies".
func cfgShort(name string) string {
	short := map[string]string{
		cfgPlain:       "(1) reverse_proxy",
		cfgPlainCopy:   "(1') reverse_proxy, second site",
		cfgNormalizer:  "(2) cookie_normalizer",
		cfgHeaderRegex: "(3) header regex",
		cfgNginx:       "(4) nginx",
		cfgUpstream:    "upstream alone",
	}
	base := strings.TrimSuffix(name, "-static")
	if base != name {
		return short[base] + " `" + pathStatic + "`"
	}
	return short[base]
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

// goSection lists the Go benchmarks, one table per benchmark function; the
// ns/field column only where the benchmark reports it.
func (r *results) goSection() string {
	var b strings.Builder
	for i := 0; i < len(r.Go); {
		family, _, _ := strings.Cut(r.Go[i].Name, "/")
		j := i
		perField := false
		for ; j < len(r.Go); j++ {
			if f, _, _ := strings.Cut(r.Go[j].Name, "/"); f != family {
				break
			}
			perField = perField || r.Go[j].NsField > 0
		}
		fmt.Fprintf(&b, "`Benchmark%s`\n\n| case | ns/op |", family)
		if perField {
			b.WriteString(" ns/field |")
		}
		fmt.Fprintf(&b, " B/op | allocs/op | ns/op of the %d runs |\n| --- | ---: |", len(r.Go[i].Runs))
		if perField {
			b.WriteString(" ---: |")
		}
		b.WriteString(" ---: | ---: | --- |\n")
		for _, g := range r.Go[i:j] {
			name := strings.TrimPrefix(strings.TrimPrefix(g.Name, family), "/")
			if name == "" {
				name = "—"
			}
			fmt.Fprintf(&b, "| %s | %s |", name, formatNs(g.NsOp))
			if perField {
				if g.NsField > 0 {
					fmt.Fprintf(&b, " %s |", formatNs(g.NsField))
				} else {
					b.WriteString(" |")
				}
			}
			runs := make([]string, len(g.Runs))
			for k, v := range g.Runs {
				runs[k] = formatNs(v)
			}
			fmt.Fprintf(&b, " %g | %g | %s |\n", g.BytesOp, g.AllocsOp, strings.Join(runs, " "))
		}
		b.WriteString("\n")
		i = j
	}
	return b.String()
}

func formatNs(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func (r *results) profileSection() string {
	p := r.Profile
	if p.Top == "" {
		return "No profile in this run.\n"
	}
	return fmt.Sprintf("`%s` (at the repository root), then `go tool pprof -top -nodecount=22 bench/out/cookienormalizer.test bench/out/rewrite.cpu.prof`:\n\n```\n%s\n\n%s\n```\n", p.Command, p.Bench, p.Top)
}

func (r *results) loadSection() string {
	var b strings.Builder
	b.WriteString("Median of the rounds. \"vs (1)\" is req/s against (1) on the same path, median over median, then the ratio within each round. \"CPU\" is the CPU time (user + system, from /proc) of the server wrk drives, per request: Caddy's or nginx's (master and workers) without the upstream's, or the upstream's alone. \"Foreign CPU\" is what processes the harness did not start used during a run (from /proc/stat, less the servers' and wrk's own CPU), as a share of the machine: other work on the machine slows a run down, so a run with more than -quiet of it is measured again (twice at most).\n\n")
	b.WriteString("| configuration | path | req/s | p50 ms | p99 ms | CPU µs/req | vs (1) | vs (1) per round | req/s per round | foreign CPU median / max (runs measured again) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |\n")
	for _, s := range r.summaries() {
		name := strings.TrimSuffix(s.Target, "-static")
		path := pathLogin
		if name != s.Target {
			path = pathStatic
		}
		rps := make([]string, len(s.RoundRPS))
		for i, v := range s.RoundRPS {
			rps[i] = fmt.Sprintf("%.0f", v)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %.0f | %.2f | %.2f | %.1f | %.3f | %s | %s | %.1f %% / %.1f %% (%d) |\n",
			cfgDescriptions[name], path, s.RPS, s.P50, s.P99, s.CPUus, s.Ratio, percents(s.RoundRatios), strings.Join(rps, ", "), 100*s.ForeignMedian, 100*s.ForeignMax, s.Retries)
	}
	if len(r.Paired) > 0 {
		fmt.Fprintf(&b, "\nPaired runs, after the rounds: for each comparison, %d times the four runs A B B A of %s each (A the baseline), giving two ratios B ÷ A of runs a second apart; a quadruple during which processes the harness did not start used more than %.0f %% of the machine is discarded and measured again. The targets are judged on the median.\n\n", r.Options.pairs, r.Options.pairD, 100*r.Options.quiet)
		b.WriteString("| comparison | median | quartiles | every ratio | quadruples discarded |\n| --- | ---: | --- | --- | ---: |\n")
		for _, p := range r.Paired {
			fmt.Fprintf(&b, "| %s ÷ %s | %.3f | %.3f–%.3f | %s | %d |\n", cfgShort(p.Target), cfgShort(p.Base), p.Median, p.Q1, p.Q3, ratios(p.Ratios), p.Discarded)
		}
	}
	for _, s := range r.summaries() {
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "\n**%s: wrk reported errors, %s**\n", s.Target, e)
		}
	}
	fmt.Fprintf(&b, "\n<details><summary>The configurations (ports vary per run)</summary>\n\n```caddyfile\n%s```\n", r.Caddyfile)
	if r.NginxConf != "" {
		fmt.Fprintf(&b, "\n```nginx\n%s```\n", r.NginxConf)
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

func (r *results) capturesSection() string {
	var b strings.Builder
	b.WriteString("Each configuration's response to `GET /login` and `GET /logout`, read from the socket: the Set-Cookie field values byte for byte (the Expires the module writes depends on the response's Date).\n")
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

// updateMarkdown replaces the generated sections of the file at path. A
// section whose markers are missing is appended at the end.
func updateMarkdown(path string, r *results) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		data = []byte("# Benchmarks\n")
	} else if err != nil {
		return err
	}
	for _, s := range r.sections() {
		begin := "<!-- BEGIN generated:" + s.name + " -->"
		end := "<!-- END generated:" + s.name + " -->"
		block := begin + "\n" + s.body + end
		i := bytes.Index(data, []byte(begin))
		j := bytes.Index(data, []byte(end))
		if i < 0 || j < i {
			data = append(bytes.TrimRight(data, "\n"), []byte("\n\n## "+s.title+"\n\n"+block+"\n")...)
			continue
		}
		data = slices.Concat(data[:i], []byte(block), data[j+len(end):])
	}
	return os.WriteFile(path, data, 0o644)
}
