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
	LoadBefore   string         `json:"loadavg_before"` // /proc/loadavg when the run started
	LoadAfter    string         `json:"loadavg_after"`
	Machine      machine        `json:"machine"`
	Go           []goBench      `json:"go_benchmarks,omitempty"`
	GoForeignCPU float64        `json:"go_foreign_cpu"` // share of the machine other processes used during the Go benchmarks
	Profile      profile        `json:"profile"`
	AllocTests   []allocTest    `json:"alloc_tests,omitempty"`
	Before       *beforeAfter   `json:"before,omitempty"`
	Targets      []target       `json:"targets,omitempty"`
	Runs         []wrkRun       `json:"wrk_runs,omitempty"`
	Paired       []pairedResult `json:"paired,omitempty"`
	Sides        []sideResult   `json:"sides,omitempty"`
	Shares       []cpuShare     `json:"cpu_shares,omitempty"`
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

// shortCommit is the commit's abbreviated hash.
func (m machine) shortCommit() string {
	h, _, _ := strings.Cut(m.Commit, " ")
	return h
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
	s := []section{
		{"summary", "Summary", r.summarySection()},
		{"targets", "Targets", r.targetsSection()},
		{"machine", "Machine and run", r.machineSection()},
	}
	if len(r.Runs) > 0 {
		s = append(s,
			section{"load", "Load test", r.loadSection()},
			section{"captures", "Set-Cookie bytes on the wire", r.capturesSection()})
	}
	if len(r.Go) > 0 {
		s = append(s,
			section{"go", "Go benchmarks", r.goSection()},
			section{"allocs", "Allocation tests", r.allocTestsSection()},
			section{"profile", "Profile of the PyPI rewrite", r.profileSection()})
	}
	if r.Before != nil {
		s = append(s, section{"before", "Expiry-only rewrite before and after the reshape", r.beforeSection()})
	}
	return s
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

// bench returns the Go benchmark called name, or nil.
func (r *results) bench(name string) *goBench {
	for i := range r.Go {
		if r.Go[i].Name == name {
			return &r.Go[i]
		}
	}
	return nil
}

// target returns the load-test target called name (the A/A control
// included), or one named after it.
func (r *results) target(name string) target {
	for _, t := range r.Targets {
		if t.Name == name {
			return t
		}
	}
	if name == cfgPlainCopy {
		return target{Name: name, Config: cfgPlainCopy, Path: pathLogin}
	}
	return target{Name: name, Config: name}
}

// summary is one load-test target over all rounds.
type summary struct {
	Target      target
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

// summaries summarise every target's rounds, in the order of the targets.
func (r *results) summaries() []summary {
	byTarget := map[string][]wrkRun{}
	for _, run := range r.Runs {
		byTarget[run.Target] = append(byTarget[run.Target], run)
	}
	var out []summary
	for _, t := range r.Targets {
		out = append(out, summarize(t, byTarget[t.Name], byTarget[t.Base]))
	}
	return out
}

// summarize is one target's summary from its runs and its baseline's.
func summarize(t target, runs, base []wrkRun) summary {
	median := func(runs []wrkRun, f func(wrkRun) float64) float64 {
		v := make([]float64, len(runs))
		for i, run := range runs {
			v[i] = f(run)
		}
		return medianOf(v)
	}
	rps := func(w wrkRun) float64 { return w.RPS }
	cpu := func(w wrkRun) float64 { return w.CPUus }
	s := summary{
		Target:        t,
		RPS:           median(runs, rps),
		P50:           median(runs, func(w wrkRun) float64 { return w.P50ms }),
		P99:           median(runs, func(w wrkRun) float64 { return w.P99ms }),
		CPUus:         median(runs, cpu),
		BaseCPUus:     median(base, cpu),
		ForeignMedian: median(runs, func(w wrkRun) float64 { return w.ForeignCPU }),
	}
	if b := median(base, rps); b > 0 {
		s.Ratio = s.RPS / b
	}
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
	return s
}

func (r *results) summary(name string) *summary {
	for _, s := range r.summaries() {
		if s.Target.Name == name {
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
	CPURatios    []float64 // the server's CPU time per request, Target over Base
	CPUMedian    float64
	CPUQ1, CPUQ3 float64
	Discarded    int // quadruples measured again because of foreign CPU
	Loaded       int // quadruples kept although foreign CPU exceeded -quiet: the retries were spent
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

// control is the A/A control of the paired runs, or nil.
func (r *results) control() *pairedResult { return r.paired(cfgPlainCopy, cfgPlain) }

// foreignLoad is the foreign CPU over every run of the load test: median,
// worst, and how many runs were measured again.
func (r *results) foreignLoad() (median, worst float64, retries int) {
	v := make([]float64, len(r.Runs))
	for i, run := range r.Runs {
		v[i] = run.ForeignCPU
		worst = max(worst, run.ForeignCPU)
		retries += run.Retries
	}
	for _, p := range r.Paired {
		retries += p.Discarded
	}
	return medianOf(v), worst, retries
}

// loadedQuadruples is how many paired quadruples were kept although other
// processes used more than -quiet of the machine.
func (r *results) loadedQuadruples() int {
	n := 0
	for _, p := range r.Paired {
		n += p.Loaded
	}
	return n
}
