// Command bench is the load harness. It measures
// cookie_normalizer through Caddy's reverse_proxy, side by side with plain
// reverse_proxy, with the header directive's regex replace doing a similar
// rewrite, and with nginx's proxy_pass, all on 127.0.0.1 with the same load
// generator (wrk), rounds interleaved, then in paired runs. It also runs
// the Go benchmarks and the allocation tests of the module, times the
// expiry-only rewrite at an earlier commit against the work tree, captures
// the Set-Cookie bytes each proxy sends for a log-in and a log-out, draws
// the charts and rewrites the generated sections of ../BENCHMARKS.md.
//
// Run it from this directory:
//
//	go run .
//
// It needs wrk (apt-get install -y wrk); nginx is optional (apt-get install
// -y nginx). Every process it starts is stopped by its PID when it ends,
// also on Ctrl-C.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// options are the harness's flags.
type options struct {
	repo      string        // the plugin's repository: builds ./cmd/caddy there, runs its benchmarks
	out       string        // raw results, logs and profiles
	charts    string        // committed SVG charts
	markdown  string        // the file whose generated sections are rewritten; "" for none
	duration  time.Duration // one wrk run
	warmup    time.Duration // the unrecorded wrk run per target before round 1
	rounds    int
	threads   int
	conns     int
	benchtime string // go test -benchtime
	benchN    int    // go test -count
	goBench   bool
	loadTest  bool
	wrk       string
	nginx     string
	keep      bool          // keep the temporary directory
	pairs     int           // ABBA quadruples per comparison
	pairD     time.Duration // one run of a pair
	from      string        // a results.json to report again, measuring nothing
	profileD  time.Duration // wrk run per CPU profile of Caddy; 0: none
	quiet     float64       // the most foreign CPU a paired quadruple may see
	sides     int           // side-by-side runs per comparison
	sideD     time.Duration // one side-by-side run
	before    string        // the commit the expiry-only rewrite is compared with; "" for none
	beforeN   int           // runs of each side of that comparison
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "upstream" {
		// The harness runs its upstream as a child process of its own
		// binary, so that it is stopped by PID like everything else.
		runUpstream(os.Args[2:])
		return
	}

	var o options
	flag.StringVar(&o.repo, "repo", "..", "the plugin's repository")
	flag.StringVar(&o.out, "out", "out", "directory for raw results, logs and profiles (git-ignored)")
	flag.StringVar(&o.charts, "charts", "charts", "directory for the SVG charts")
	flag.StringVar(&o.markdown, "md", "../BENCHMARKS.md", "markdown file whose generated sections are rewritten (empty: none)")
	flag.StringVar(&o.from, "from", "", "measure nothing: write the report again from a run's results.json (the other flags must be the run's, for the method text)")
	flag.DurationVar(&o.duration, "d", 3*time.Second, "duration of one wrk run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unrecorded wrk run per target before the first round")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every target once, compared targets back to back, in a rotated order")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.conns, "c", 32, "wrk connections")
	flag.StringVar(&o.benchtime, "benchtime", "100ms", "go test -benchtime for the Go benchmarks")
	flag.IntVar(&o.benchN, "count", 5, "go test -count for the Go benchmarks (the median is reported)")
	flag.BoolVar(&o.goBench, "gobench", true, "run the Go benchmarks and the profile")
	flag.BoolVar(&o.loadTest, "load", true, "run the load test")
	flag.StringVar(&o.wrk, "wrk", "", "path of wrk (default: from PATH, or /usr/bin/wrk)")
	flag.StringVar(&o.nginx, "nginx", "", "path of nginx (default: from PATH, or /usr/sbin/nginx); \"none\" to skip it")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, logs)")
	flag.IntVar(&o.pairs, "pairs", 7, "paired runs: ABBA quadruples per comparison (0: none)")
	flag.DurationVar(&o.pairD, "pair-d", time.Second, "duration of one paired run")
	flag.IntVar(&o.sides, "sides", 16, "side-by-side runs per comparison: (5), (1'), (6), (2) and (3) each beside (1), every one in a Caddy process of its own (0: none)")
	flag.DurationVar(&o.sideD, "side-d", 2*time.Second, "duration of one side-by-side run")
	flag.DurationVar(&o.profileD, "profile-d", 20*time.Second, "wrk run during each CPU profile of Caddy (the module's own share of its CPU); 0: no profiles")
	flag.Float64Var(&o.quiet, "quiet", 0.05, "a run (in the rounds) or a quadruple (in the paired runs) during which processes the harness did not start used more than this share of the machine is measured again")
	flag.StringVar(&o.before, "before", "afd2b66", "commit whose expiry-only rewrite (BenchmarkRewrite/pypi) is timed against the work tree's, interleaved (empty: none)")
	flag.IntVar(&o.beforeN, "before-count", 10, "runs of each side of the -before comparison")
	flag.Parse()
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		log.Printf("error: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	if err := checkRepo(repo); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}

	if o.from != "" {
		return report(o)
	}
	res := &results{Options: o, Started: start.UTC()}
	res.Machine = describeMachine(ctx, repo)
	res.LoadBefore = loadAverage()

	if o.goBench {
		if err := goBenchmarks(ctx, repo, o, res); err != nil {
			return err
		}
	}
	if o.loadTest {
		if err := loadTest(ctx, repo, o, res); err != nil {
			return fmt.Errorf("load test: %w", err)
		}
	}
	res.LoadAfter = loadAverage()
	res.Elapsed = time.Since(start).Round(time.Second)

	if err := res.save(o.out); err != nil {
		return err
	}
	if err := publish(res, o); err != nil {
		return err
	}
	log.Printf("done in %s; results in %s, charts in %s", res.Elapsed, o.out, o.charts)
	return nil
}

// publish draws the charts and rewrites the generated sections of the
// markdown file, if any.
func publish(res *results, o options) error {
	if err := drawCharts(res, o.charts); err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	if o.markdown != "" {
		if err := updateMarkdown(o.markdown, res); err != nil {
			return fmt.Errorf("updating %s: %w", o.markdown, err)
		}
		log.Printf("rewrote the generated sections of %s", o.markdown)
	}
	return nil
}

// report writes the report of an earlier run again, from its results.json:
// for a change in how the numbers are judged or shown.
func report(o options) error {
	data, err := os.ReadFile(o.from)
	if err != nil {
		return err
	}
	res := &results{}
	if err := json.Unmarshal(data, res); err != nil {
		return fmt.Errorf("%s: %w", o.from, err)
	}
	res.Options = o
	return publish(res, o)
}

// goBenchmarks runs the Go benchmarks, the profile, the allocation tests
// and the comparison with -before, and records how much of the machine
// other processes used meanwhile.
func goBenchmarks(ctx context.Context, repo string, o options, res *results) error {
	var err error
	busy0, ours0, t0 := machineBusy(), childrenCPU(), time.Now()
	defer func() {
		foreign := machineBusy() - busy0 - (childrenCPU() - ours0)
		res.GoForeignCPU = machineShare(foreign, t0)
		log.Printf("Go benchmarks: %.1f %% foreign CPU meanwhile", 100*res.GoForeignCPU)
	}()
	log.Printf("Go benchmarks in %s (-benchtime %s -count %d)", repo, o.benchtime, o.benchN)
	if res.Go, err = runGoBenchmarks(ctx, repo, o); err != nil {
		return fmt.Errorf("go benchmarks: %w", err)
	}
	log.Printf("CPU profile of the PyPI rewrite")
	if res.Profile, err = profileRewrite(ctx, repo, o.out); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	log.Printf("allocation tests: %s", allocTestsCommand)
	if res.AllocTests, err = runAllocTests(ctx, repo, o.out); err != nil {
		return fmt.Errorf("allocation tests: %w", err)
	}
	if o.before != "" {
		log.Printf("expiry-only rewrite at %s and in the work tree, interleaved (%d runs each)", o.before, o.beforeN)
		if res.Before, err = compareBefore(ctx, repo, o); err != nil {
			return fmt.Errorf("comparison with %s: %w", o.before, err)
		}
	}
	return nil
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// checkRepo makes sure repo is the plugin's repository, so that the harness
// does not build some other Caddy.
func checkRepo(repo string) error {
	data, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		return fmt.Errorf("-repo %s: %w", repo, err)
	}
	const want = "module github.com/cookie-normalizer/caddy-cookie-normalizer\n"
	if len(data) < len(want) || string(data[:len(want)]) != want {
		return errors.New("-repo " + repo + " is not the caddy-cookie-normalizer repository")
	}
	return nil
}
