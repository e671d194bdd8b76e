package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// goBench is one Go benchmark: the median of its -count runs.
type goBench struct {
	Name     string    `json:"name"` // without "Benchmark" and the -GOMAXPROCS suffix
	NsOp     float64   `json:"ns_op"`
	NsField  float64   `json:"ns_field,omitempty"`
	BytesOp  float64   `json:"bytes_op"`
	AllocsOp float64   `json:"allocs_op"`
	Runs     []float64 `json:"runs_ns_op"`
	// Metrics are the benchmark's own units (b.ReportMetric), each the
	// median over the runs on its own.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// goBenchArgs are the arguments of `go` that run every benchmark once per
// -count.
func goBenchArgs(o options) []string {
	return []string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", o.benchtime, "-count", strconv.Itoa(o.benchN), "."}
}

// interleavedArgs run the interleaved benchmarks again, longer: each run
// of them is a number of alternating batches, and the ratios they report
// settle only over a second or so of batches.
var interleavedArgs = []string{"test", "-run", "^$", "-bench", "Interleaved", "-benchtime", "1s", "-count", "5", "."}

// shellCommand writes `go args...` as a shell line, for the report.
func shellCommand(args []string) string {
	return "go " + strings.ReplaceAll(strings.Join(args, " "), "^$", "'^$'")
}

// runGoBenchmarks runs every benchmark of the plugin's package, then the
// interleaved ones again with interleavedArgs (their results replace the
// first), and returns them in the order they ran.
func runGoBenchmarks(ctx context.Context, repo string, o options) ([]goBench, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	benches, err := goTestBench(ctx, repo, filepath.Join(o.out, "gobench.txt"), goBenchArgs(o)...)
	if err != nil {
		return nil, err
	}
	again, err := goTestBench(ctx, repo, filepath.Join(o.out, "gobench-interleaved.txt"), interleavedArgs...)
	if err != nil {
		return nil, err
	}
	for _, a := range again {
		for i := range benches {
			if benches[i].Name == a.Name {
				benches[i] = a
			}
		}
	}
	return benches, nil
}

// goTestBench runs `go args...` in repo, saves its output to file and
// parses it.
func goTestBench(ctx context.Context, repo, file string, args ...string) ([]goBench, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(file, out, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out)
	}
	return parseGoBench(string(out))
}

// parseGoBench reads `go test -bench` output and keeps, per benchmark, the
// median of its runs (by ns/op; the other columns of that same run).
func parseGoBench(out string) ([]goBench, error) {
	type run struct {
		ns, nsField, bytes, allocs float64
		metrics                    map[string]float64
	}
	var order []string
	runs := map[string][]run{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		var r run
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %v", sc.Text(), err)
			}
			switch f[i+1] {
			case "ns/op":
				r.ns = v
			case "ns/field":
				r.nsField = v
			case "B/op":
				r.bytes = v
			case "allocs/op":
				r.allocs = v
			default:
				if r.metrics == nil {
					r.metrics = map[string]float64{}
				}
				r.metrics[f[i+1]] = v
			}
		}
		if _, ok := runs[name]; !ok {
			order = append(order, name)
		}
		runs[name] = append(runs[name], r)
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no benchmark results in:\n%s", out)
	}
	var benches []goBench
	for _, name := range order {
		rs := runs[name]
		sorted := slices.Clone(rs)
		slices.SortFunc(sorted, func(a, b run) int {
			switch {
			case a.ns < b.ns:
				return -1
			case a.ns > b.ns:
				return 1
			}
			return 0
		})
		m := sorted[(len(sorted)-1)/2]
		b := goBench{Name: name, NsOp: m.ns, NsField: m.nsField, BytesOp: m.bytes, AllocsOp: m.allocs}
		for _, r := range rs {
			b.Runs = append(b.Runs, r.ns)
		}
		for unit := range rs[0].metrics {
			var vs []float64
			for _, r := range rs {
				if v, ok := r.metrics[unit]; ok {
					vs = append(vs, v)
				}
			}
			slices.Sort(vs)
			if b.Metrics == nil {
				b.Metrics = map[string]float64{}
			}
			b.Metrics[unit] = vs[(len(vs)-1)/2]
		}
		benches = append(benches, b)
	}
	return benches, nil
}

// profile is a CPU profile of one benchmark, as `go tool pprof -top` shows
// it.
type profile struct {
	Command string       `json:"command"`
	Bench   string       `json:"bench"` // the benchmark's own result line
	Top     string       `json:"top"`
	Allocs  []allocSites `json:"allocs,omitempty"`
}

// allocSites are the functions that allocate in one benchmark's loop.
type allocSites struct {
	Bench string `json:"bench"`
	Sites string `json:"sites"` // allocations per op, then the function
}

// allocBenches are the benchmarks whose allocations are not zero by
// design; where they allocate is part of the report.
var allocBenches = []struct{ pattern, name string }{
	{"^BenchmarkSlide$/^reissue$", "Slide/reissue"},
	{"^BenchmarkConsistency$/^cascade$", "Consistency/cascade"},
}

// profileAllocs records every allocation of a fixed number of iterations
// of each of allocBenches and lists, per op, the functions that allocate
// under rewriteResponse (the benchmark's setup left out).
func profileAllocs(ctx context.Context, repo, out string) ([]allocSites, error) {
	const n = 20000
	bin := filepath.Join(out, "allocs.test")
	var sites []allocSites
	for _, ab := range allocBenches {
		prof := filepath.Join(out, strings.ReplaceAll(ab.name, "/", "-")+".mem.prof")
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ab.pattern, "-benchtime", strconv.Itoa(n)+"x",
			"-memprofile", prof, "-memprofilerate", "1", "-o", bin, ".")
		cmd.Dir = repo
		if res, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%v\n%s", err, res)
		}
		// By the module's function that allocates, then by the function
		// that calls the allocator (the standard library's included).
		var views []string
		for _, hide := range []string{`^(internal/|runtime\.|strings\.|strconv\.|bytes\.)`, "^$"} {
			top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-sample_index=alloc_objects", "-top", "-focus=rewriteResponse", "-hide="+hide, bin, prof).Output()
			if err != nil {
				return nil, fmt.Errorf("go tool pprof: %v", err)
			}
			// A sub-benchmark runs once with b.N = 1 before the n iterations.
			views = append(views, perOp(string(top), n+1))
		}
		sites = append(sites, allocSites{Bench: ab.name, Sites: "by the module's function:\n" + views[0] + "\nby the function that allocates:\n" + views[1]})
	}
	return sites, nil
}

// perOp turns pprof -top's flat allocation counts into counts per op.
func perOp(top string, iterations int) string {
	var b strings.Builder
	started := false
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "flat" {
			started = true
			continue
		}
		if !started || len(f) < 6 {
			continue
		}
		flat, err := strconv.ParseFloat(f[0], 64)
		if err != nil || flat == 0 {
			continue
		}
		fmt.Fprintf(&b, "%6.2f  %s\n", flat/float64(iterations), strings.Join(f[5:], " "))
	}
	return strings.TrimRight(b.String(), "\n")
}

// profileRewrite profiles the PyPI rewrite, the benchmark whose target is
// hardest. Async preemption is off for the run: with it on, this VM
// charges about a quarter of the samples to runtime.asyncPreempt instead of
// the functions that were preempted, and the time per op is the same.
func profileRewrite(ctx context.Context, repo, outDir string) (profile, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := filepath.Abs(outDir)
	if err != nil {
		return profile{}, err
	}
	prof := filepath.Join(out, "rewrite.cpu.prof")
	bin := filepath.Join(out, "cookienormalizer.test")
	args := []string{"test", "-run", "^$", "-bench", "^BenchmarkRewrite$/^pypi$", "-benchmem", "-benchtime", "3s",
		"-cpuprofile", prof, "-o", bin, "."}
	p := profile{Command: "GODEBUG=asyncpreemptoff=1 go " + strings.Join(quoteArgs(args), " ")}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1")
	res, err := cmd.CombinedOutput()
	if err != nil {
		return p, fmt.Errorf("%v\n%s", err, res)
	}
	for _, line := range strings.Split(string(res), "\n") {
		if strings.HasPrefix(line, "Benchmark") {
			p.Bench = strings.Join(strings.Fields(line), " ")
		}
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=22", bin, prof).Output()
	if err != nil {
		return p, fmt.Errorf("go tool pprof: %v", err)
	}
	// Keep the table, without the header that names local files.
	lines := strings.Split(strings.TrimSpace(string(top)), "\n")
	for i, line := range lines {
		if strings.Contains(line, "flat%") {
			lines = lines[i:]
			break
		}
	}
	p.Top = strings.Join(lines, "\n")
	p.Command = strings.ReplaceAll(p.Command, out, "bench/out")
	p.Allocs, err = profileAllocs(ctx, repo, out)
	return p, err
}

func quoteArgs(args []string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$*") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return q
}
