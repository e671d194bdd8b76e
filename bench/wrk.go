package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkRun is one wrk run against one target.
type wrkRun struct {
	Target   string  `json:"target"`
	Round    int     `json:"round"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Requests int     `json:"requests"`
	CPUus    float64 `json:"server_cpu_us_per_req"` // CPU time of the server wrk drives (nginx: master and workers), per request

	// ForeignCPU is the CPU time that processes the harness did not start
	// used during the run, as a share of the machine (cores × duration).
	ForeignCPU float64 `json:"foreign_cpu"`
	Retries    int     `json:"retries,omitempty"` // earlier runs of this one discarded for foreign CPU
	Errors     string  `json:"errors,omitempty"`  // socket errors and non-2xx responses, as wrk reports them
}

// runWrk drives t with wrk for d, parses its report and returns the CPU
// time wrk itself used. A run is bounded: wrk is killed if it has not
// finished 20 s after d.
func runWrk(ctx context.Context, wrk string, o options, t target, d time.Duration) (wrkRun, string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d+20*time.Second)
	defer cancel()
	args := wrkArgs(o, d)
	if t.Jar {
		args = append(args, "-H", "Cookie: "+cookieJar)
	}
	args = append(args, t.url())
	cmd := exec.CommandContext(ctx, wrk, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkRun{}, string(out), 0, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	run, err := parseWrk(string(out))
	return run, string(out), cpu, err
}

// wrkArgs are wrk's options for a run of d, without the URL and headers.
func wrkArgs(o options, d time.Duration) []string {
	return []string{
		"-t" + strconv.Itoa(o.threads),
		"-c" + strconv.Itoa(o.conns),
		"-d" + strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s",
		"--timeout", "5s",
		"--latency",
	}
}

// parseWrk reads wrk 4's report: "Requests/sec:", the --latency
// distribution, and the error lines it prints only when there were errors.
func parseWrk(out string) (wrkRun, error) {
	var r wrkRun
	var (
		haveRPS, haveP50, haveP99 bool
		errs                      []string
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: requests/sec %q: %v", f[1], err)
			}
			r.RPS, haveRPS = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			ms, err := parseWrkDuration(f[1])
			if err != nil {
				return r, err
			}
			if f[0] == "50%" {
				r.P50ms, haveP50 = ms, true
			} else {
				r.P99ms, haveP99 = ms, true
			}
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			r.Requests, _ = strconv.Atoi(f[0])
		case len(f) > 0 && (f[0] == "Socket" || f[0] == "Non-2xx"):
			errs = append(errs, strings.Join(f, " "))
		}
	}
	r.Errors = strings.Join(errs, "; ")
	if !haveRPS || !haveP50 || !haveP99 {
		return r, fmt.Errorf("wrk: no Requests/sec or latency distribution in its output:\n%s", out)
	}
	return r, nil
}

// parseWrkDuration converts wrk's "812.00us", "1.23ms", "1.01s" to
// milliseconds.
func parseWrkDuration(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"m", 60e3}, {"s", 1e3}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk: latency %q: %v", s, err)
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("wrk: latency %q: unknown unit", s)
}
