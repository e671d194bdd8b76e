package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// loadTest builds Caddy, starts the upstream, Caddy and nginx on free
// 127.0.0.1 ports, captures what each sends, and drives every target with
// wrk, rounds interleaved. Every process it starts is stopped by PID before
// it returns, and their ports are checked to be closed afterwards.
func loadTest(ctx context.Context, repo string, o options, res *results) (err error) {
	wrk, err := findTool(o.wrk, "wrk", "/usr/bin/wrk")
	if err != nil {
		return errors.New("wrk not found: install it with `apt-get install -y wrk`, or pass -wrk <path>")
	}
	res.Machine.Wrk = toolVersion(ctx, wrk, "-v")
	var nginx string
	if o.nginx != "none" {
		if nginx, err = findTool(o.nginx, "nginx", "/usr/sbin/nginx"); err != nil {
			res.NginxSkipped = "nginx not found (install it with `apt-get install -y nginx`): configuration (4) skipped"
			log.Print(res.NginxSkipped)
			nginx = ""
		} else {
			res.Machine.Nginx = toolVersion(ctx, nginx, "-v")
		}
	} else {
		res.NginxSkipped = "nginx skipped with -nginx none"
	}

	tmp, err := os.MkdirTemp("", "cookie-normalizer-bench-")
	if err != nil {
		return err
	}
	// nginx's workers run as nobody when the master is root: they must be
	// able to reach their temporary directories.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if o.keep {
		log.Printf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	caddy := filepath.Join(tmp, "caddy")
	log.Printf("building %s/cmd/caddy", repo)
	build := exec.CommandContext(ctx, "go", "build", "-o", caddy, "./cmd/caddy")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/caddy: %v\n%s", err, out)
	}
	if v := strings.Fields(toolVersion(ctx, caddy, "version")); len(v) > 0 {
		res.Machine.Caddy = v[0]
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	ports, err := freePorts(7)
	if err != nil {
		return err
	}
	pUp, pPlain, pNorm, pRegex, pNginx, pNginxHack, pPlainCopy := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]

	var procs []*proc
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			p := procs[i]
			if serr := p.stop(10 * time.Second); serr != nil && err == nil {
				err = serr
			}
			log.Printf("stopped %s (pid %d)", p.name, p.cmd.Process.Pid)
		}
		if cerr := waitClosed(ports, 5*time.Second); cerr != nil && err == nil {
			err = cerr
		}
	}()
	start := func(name, logName string, env []string, path string, args ...string) (*proc, error) {
		p, err := startProc(name, filepath.Join(tmp, logName), env, path, args...)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		log.Printf("started %s (pid %d)", name, p.cmd.Process.Pid)
		return p, nil
	}

	servers := map[string]*proc{}
	up, err := start("upstream", "upstream.log", os.Environ(), self, "upstream", "-addr", hostPort(pUp))
	if err != nil {
		return err
	}
	if err := waitListening(ctx, up, pUp, 10*time.Second); err != nil {
		return err
	}
	servers["upstream"] = up

	cf := caddyfile(pUp, pPlain, pNorm, pRegex, pPlainCopy)
	cfPath := filepath.Join(tmp, "Caddyfile")
	if err := os.WriteFile(cfPath, []byte(cf), 0o644); err != nil {
		return err
	}
	res.Caddyfile = cf
	// Caddy's data and config directories go to the temporary directory,
	// not to the user's home.
	caddyEnv := append(os.Environ(), "HOME="+tmp, "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"), "XDG_DATA_HOME="+filepath.Join(tmp, "data"))
	cp, err := start("caddy", "caddy.log", caddyEnv, caddy, "run", "--config", cfPath, "--adapter", "caddyfile")
	if err != nil {
		return err
	}
	for _, port := range []int{pPlain, pNorm, pRegex, pPlainCopy} {
		if err := waitListening(ctx, cp, port, 30*time.Second); err != nil {
			return err
		}
	}
	servers["caddy"] = cp

	if nginx != "" {
		dir := filepath.Join(tmp, "nginx")
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		conf := nginxConf(dir, pUp, pNginx, pNginxHack)
		confPath := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			return err
		}
		res.NginxConf = strings.ReplaceAll(conf, dir, "$TMP")
		np, err := start("nginx", "nginx.log", os.Environ(), nginx,
			"-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", confPath, "-g", "daemon off;")
		if err != nil {
			return err
		}
		for _, port := range []int{pNginx, pNginxHack} {
			if err := waitListening(ctx, np, port, 10*time.Second); err != nil {
				return err
			}
		}
		servers["nginx"] = np
	}

	configs := []endpoint{{cfgUpstream, pUp}, {cfgPlain, pPlain}, {cfgPlainCopy, pPlainCopy}, {cfgNormalizer, pNorm}, {cfgHeaderRegex, pRegex}}
	if nginx != "" {
		configs = append(configs, endpoint{cfgNginx, pNginx}, endpoint{cfgNginxPathHax, pNginxHack})
	}
	for _, path := range []string{pathLogin, pathLogout} {
		for _, c := range configs {
			got, err := captureSetCookies(c.name, c.port, path)
			if err != nil {
				return err
			}
			if err := checkCapture(got); err != nil {
				return err
			}
			res.Captures = append(res.Captures, got)
		}
	}
	log.Printf("captured the Set-Cookie fields of %d configurations; each answers as configured", len(configs))

	// Targets that are compared with each other run back to back in every
	// round, so that the host's slow spells, which last seconds, hit them
	// alike: blocks of targets, the order of the blocks and the order
	// within each block rotated from round to round.
	blocks := [][]target{
		{{Name: cfgUpstream, Port: pUp, Path: pathLogin, Server: "upstream"}},
		{
			{Name: cfgPlain, Port: pPlain, Path: pathLogin, Server: "caddy"},
			{Name: cfgNormalizer, Port: pNorm, Path: pathLogin, Server: "caddy"},
			{Name: cfgHeaderRegex, Port: pRegex, Path: pathLogin, Server: "caddy"},
		},
	}
	if nginx != "" {
		blocks = append(blocks, []target{{Name: cfgNginx, Port: pNginx, Path: pathLogin, Server: "nginx"}})
	}
	blocks = append(blocks, []target{
		{Name: cfgPlain + "-static", Port: pPlain, Path: pathStatic, Server: "caddy"},
		{Name: cfgNormalizer + "-static", Port: pNorm, Path: pathStatic, Server: "caddy"},
	})
	var targets []target
	for _, b := range blocks {
		targets = append(targets, b...)
	}
	res.Targets = targets
	// (1') takes part in the paired runs only: the A/A control.
	paired := append(slices.Clone(targets), target{Name: cfgPlainCopy, Port: pPlainCopy, Path: pathLogin, Server: "caddy"})

	runs := len(targets) * o.rounds
	estimate := time.Duration(len(paired))*o.warmup + time.Duration(runs)*(o.duration+100*time.Millisecond)
	log.Printf("load: %d targets, warm-up %s each, then %d rounds of %s each (about %s)", len(targets), o.warmup, o.rounds, o.duration, estimate.Round(time.Second))
	if o.warmup > 0 {
		for _, t := range paired {
			if _, _, err := runWrk(ctx, wrk, o, t.url(), o.warmup); err != nil {
				return err
			}
		}
	}
	d := &driver{ctx: ctx, wrk: wrk, o: o, servers: servers, procs: procs}
	var raw strings.Builder
	for r := 0; r < o.rounds; r++ {
		for _, t := range roundOrder(blocks, r) {
			// A run during which other processes used the machine is
			// measured again, twice at most; the last one counts.
			var (
				run wrkRun
				out string
			)
			for attempt := 0; attempt < 3; attempt++ {
				if run, out, err = d.measure(t, o.duration); err != nil {
					return err
				}
				run.Retries = attempt
				if run.ForeignCPU <= o.quiet {
					break
				}
				log.Printf("round %d/%d %s: %.1f %% foreign CPU during the run", r+1, o.rounds, t.Name, 100*run.ForeignCPU)
			}
			fmt.Fprintf(&raw, "### round %d, %s, %s\n%s\n", r+1, t.Name, t.url(), out)
			run.Round = r + 1
			res.Runs = append(res.Runs, run)
			log.Printf("round %d/%d %-18s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %s CPU %5.1f µs/req  foreign CPU %4.1f %% %s",
				r+1, o.rounds, t.Name, run.RPS, run.P50ms, run.P99ms, t.Server, run.CPUus, 100*run.ForeignCPU, run.Errors)
		}
	}
	if err := os.WriteFile(filepath.Join(o.out, "wrk.txt"), []byte(raw.String()), 0o644); err != nil {
		return err
	}
	return d.pairedRuns(paired, res)
}

// driver runs wrk against the servers the harness started.
type driver struct {
	ctx     context.Context
	wrk     string
	o       options
	servers map[string]*proc // by target.Server
	procs   []*proc
}

// measure drives t for d, and adds to wrk's numbers the CPU time the
// server used per request and the foreign CPU during the run.
func (d *driver) measure(t target, dur time.Duration) (wrkRun, string, error) {
	pid := d.servers[t.Server].cmd.Process.Pid
	cpu0, ours0, busy0, t0 := processCPU(pid), serversCPU(d.servers), machineBusy(), time.Now()
	run, out, wrkCPU, err := runWrkCPU(d.ctx, d.wrk, d.o, t.url(), dur)
	if err != nil {
		return run, out, err
	}
	run.Target = t.Name
	if run.Requests > 0 {
		run.CPUus = float64(processCPU(pid)-cpu0) / float64(time.Microsecond) / float64(run.Requests)
	}
	foreign := machineBusy() - busy0 - (serversCPU(d.servers) - ours0) - wrkCPU
	run.ForeignCPU = max(0, float64(foreign)/float64(time.Duration(runtime.NumCPU())*time.Since(t0)))
	for _, p := range d.procs {
		if p.exited() {
			return run, out, fmt.Errorf("%s exited during the load test: %v\n%s", p.name, p.err, p.logTail())
		}
	}
	return run, out, nil
}

// comparisons are the pairs of targets the paired runs compare, {base,
// target}: the targets are ratios against (1) on the same path,
// and (2) against (3). The first is the A/A control: (1') is (1) again, on
// its own port, so its ratio to (1) would be 1 without the method's own
// bias and noise.
var comparisons = [][2]string{
	{cfgPlain, cfgPlainCopy},
	{cfgPlain, cfgNormalizer},
	{cfgPlain, cfgHeaderRegex},
	{cfgHeaderRegex, cfgNormalizer},
	{cfgPlain + "-static", cfgNormalizer + "-static"},
}

// pairedRuns measures each comparison in short runs in the order A B B A,
// repeated: the host's slow spells last seconds, so two runs a second
// apart see the same machine far more often than two runs of a round do,
// and the median of many such paired ratios is a much steadier estimate
// than a ratio of medians. A quadruple during which other processes used
// more than -quiet of the machine is measured again, at most -pairs more
// times per comparison in all.
func (d *driver) pairedRuns(targets []target, res *results) error {
	o := d.o
	if o.pairs <= 0 {
		return nil
	}
	byName := map[string]target{}
	for _, t := range targets {
		byName[t.Name] = t
	}
	log.Printf("paired runs: %d comparisons × %d × ABBA of %s each (about %s)", len(comparisons), o.pairs, o.pairD,
		(time.Duration(len(comparisons)*o.pairs*4) * (o.pairD + 100*time.Millisecond)).Round(time.Second))
	for _, c := range comparisons {
		a, b := byName[c[0]], byName[c[1]]
		p := pairedResult{Base: c[0], Target: c[1]}
		for attempt := 0; len(p.Ratios) < 2*o.pairs && attempt < 2*o.pairs; attempt++ {
			var (
				rps     [4]float64
				foreign float64
			)
			for j, t := range []target{a, b, b, a} {
				run, _, err := d.measure(t, o.pairD)
				if err != nil {
					return err
				}
				rps[j], foreign = run.RPS, max(foreign, run.ForeignCPU)
			}
			if foreign > o.quiet {
				p.Discarded++
				log.Printf("paired %s / %s: %.1f %% foreign CPU during the quadruple, measuring it again", c[1], c[0], 100*foreign)
				continue
			}
			p.Ratios = append(p.Ratios, rps[1]/rps[0], rps[2]/rps[3])
		}
		if len(p.Ratios) == 0 {
			return fmt.Errorf("paired %s / %s: other processes kept using more than %.0f %% of the machine; run again when it is quiet, or raise -quiet", c[1], c[0], 100*o.quiet)
		}
		p.Median = medianOf(p.Ratios)
		p.Q1, p.Q3 = quartiles(p.Ratios)
		log.Printf("paired %-18s / %-13s median %.3f (quartiles %.3f–%.3f, %d ratios, %d quadruples discarded)", c[1], c[0], p.Median, p.Q1, p.Q3, len(p.Ratios), p.Discarded)
		res.Paired = append(res.Paired, p)
	}
	return nil
}

// endpoint is a configuration and the port it listens on.
type endpoint struct {
	name string
	port int
}

// serversCPU is the CPU time used by every server the harness started.
func serversCPU(servers map[string]*proc) time.Duration {
	var total time.Duration
	for _, p := range servers {
		total += processCPU(p.cmd.Process.Pid)
	}
	return total
}

// roundOrder is the order of the targets in round r.
func roundOrder(blocks [][]target, r int) []target {
	var order []target
	for i := range blocks {
		b := blocks[(i+r)%len(blocks)]
		for j := range b {
			order = append(order, b[(j+r)%len(b)])
		}
	}
	return order
}

func (t target) url() string { return "http://" + hostPort(t.Port) + t.Path }

// findTool returns flagValue if set, else name from PATH, else fallback if
// it exists.
func findTool(flagValue, name, fallback string) (string, error) {
	if flagValue != "" {
		return exec.LookPath(flagValue)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return exec.LookPath(fallback)
}

// toolVersion returns the first line a tool prints for its version flag
// (wrk exits with status 1 after printing it; nginx prints to stderr).
func toolVersion(ctx context.Context, path string, arg string) string {
	out, _ := exec.CommandContext(ctx, path, arg).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}
