package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// loadTest builds Caddy, starts the upstream, Caddy and nginx on free
// 127.0.0.1 ports, captures what each sends, and drives every target with
// wrk, rounds interleaved, then in paired runs. Every process it starts is
// stopped by PID before it returns, and their ports are checked to be
// closed afterwards.
func loadTest(ctx context.Context, repo string, o options, res *results) (err error) {
	wrk, err := findTool(o.wrk, "wrk", "/usr/bin/wrk")
	if err != nil {
		return errors.New("wrk not found: install it with `apt-get install -y wrk`, or pass -wrk <path>")
	}
	res.Machine.Wrk = toolVersion(ctx, wrk, "-v")
	nginx := findNginx(ctx, o, res)

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

	caddy, err := buildCaddy(ctx, repo, tmp, res)
	if err != nil {
		return err
	}
	free, err := freePorts(9 + len(solos))
	if err != nil {
		return err
	}
	p := ports{free[0], free[1], free[2], free[3], free[4], free[5], free[6], free[7], free[8]}

	s := &servers{tmp: tmp, byName: map[string]*proc{}}
	defer func() {
		if serr := s.stopAll(free); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := s.startAll(ctx, caddy, nginx, p, res); err != nil {
		return err
	}
	if err := captureAll(p, nginx != "", res); err != nil {
		return err
	}
	solo := soloPorts{}
	for i, c := range solos {
		solo[c.config] = free[9+i]
	}
	if o.sides > 0 {
		if err := s.startSolos(ctx, caddy, p.upstream, solo); err != nil {
			return err
		}
	}

	blocks := loadBlocks(p, nginx != "")
	for _, b := range blocks {
		res.Targets = append(res.Targets, b...)
	}
	d := &driver{ctx: ctx, wrk: wrk, o: o, servers: s.byName, procs: s.procs}
	paired := append(res.Targets[:len(res.Targets):len(res.Targets)], controlTarget(p))
	if err := d.warmUp(paired); err != nil {
		return err
	}
	if err := d.rounds(blocks, res); err != nil {
		return err
	}
	if err := d.pairedRuns(paired, res); err != nil {
		return err
	}
	if o.sides > 0 {
		sides := sideComparisons(solo)
		var warm []target
		for _, c := range sides {
			if !slices.ContainsFunc(warm, func(t target) bool { return t.Name == c[0].Name }) {
				warm = append(warm, c[0])
			}
			warm = append(warm, c[1])
		}
		if err := d.warmUp(warm); err != nil {
			return err
		}
		if err := d.sideBySide(sides, res); err != nil {
			return err
		}
	}
	if o.profileD <= 0 {
		return nil
	}
	var profiled []target
	for _, name := range []string{cfgNormalizer, "full-jar", "full-jar-static"} {
		for _, t := range res.Targets {
			if t.Name == name {
				profiled = append(profiled, t)
			}
		}
	}
	log.Printf("CPU profiles of Caddy: %d targets × %s", len(profiled), o.profileD)
	return d.profileShares(p.admin, caddy, o.out, profiled, o.profileD, res)
}

// findNginx returns nginx's path, or "" (and why, in res) if it is not to
// be run.
func findNginx(ctx context.Context, o options, res *results) string {
	if o.nginx == "none" {
		res.NginxSkipped = "nginx skipped with -nginx none"
		return ""
	}
	nginx, err := findTool(o.nginx, "nginx", "/usr/sbin/nginx")
	if err != nil {
		res.NginxSkipped = "nginx not found (install it with `apt-get install -y nginx`): configuration (4) skipped"
		log.Print(res.NginxSkipped)
		return ""
	}
	res.Machine.Nginx = toolVersion(ctx, nginx, "-v")
	return nginx
}

// buildCaddy builds ../cmd/caddy (Caddy with the standard modules and this
// one) into dir.
func buildCaddy(ctx context.Context, repo, dir string, res *results) (string, error) {
	caddy := filepath.Join(dir, "caddy")
	log.Printf("building %s/cmd/caddy", repo)
	build := exec.CommandContext(ctx, "go", "build", "-o", caddy, "./cmd/caddy")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/caddy: %v\n%s", err, out)
	}
	if v := strings.Fields(toolVersion(ctx, caddy, "version")); len(v) > 0 {
		res.Machine.Caddy = v[0]
	}
	return caddy, nil
}

// servers are the processes the harness started, by the name targets use.
type servers struct {
	tmp    string
	procs  []*proc
	byName map[string]*proc
}

// start starts one server, its output going to tmp/logName.
func (s *servers) start(name, logName string, env []string, path string, args ...string) (*proc, error) {
	p, err := startProc(name, filepath.Join(s.tmp, logName), env, path, args...)
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	s.byName[name] = p
	log.Printf("started %s (pid %d)", name, p.cmd.Process.Pid)
	return p, nil
}

// stopAll stops every server by its PID, last started first, and checks
// that nothing answers on the ports any more.
func (s *servers) stopAll(ports []int) error {
	var err error
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if serr := p.stop(10 * time.Second); serr != nil && err == nil {
			err = serr
		}
		log.Printf("stopped %s (pid %d)", p.name, p.cmd.Process.Pid)
	}
	if cerr := waitClosed(ports, 5*time.Second); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// startAll starts the upstream (this binary's upstream subcommand), one
// Caddy with every Caddy configuration as a site, and nginx if it is to
// run, and waits until each listens.
func (s *servers) startAll(ctx context.Context, caddy, nginx string, p ports, res *results) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	up, err := s.start("upstream", "upstream.log", os.Environ(), self, "upstream", "-addr", hostPort(p.upstream))
	if err != nil {
		return err
	}
	if err := waitListening(ctx, up, p.upstream, 10*time.Second); err != nil {
		return err
	}

	res.Caddyfile = caddyfile(p)
	cfPath := filepath.Join(s.tmp, "Caddyfile")
	if err := os.WriteFile(cfPath, []byte(res.Caddyfile), 0o644); err != nil {
		return err
	}
	cp, err := s.start("caddy", "caddy.log", s.caddyEnv(), caddy, "run", "--config", cfPath, "--adapter", "caddyfile")
	if err != nil {
		return err
	}
	for _, port := range []int{p.plain, p.normalizer, p.headerRegex, p.plainCopy, p.full} {
		if err := waitListening(ctx, cp, port, 30*time.Second); err != nil {
			return err
		}
	}
	if nginx == "" {
		return nil
	}

	dir := filepath.Join(s.tmp, "nginx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	conf := nginxConf(dir, p)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return err
	}
	res.NginxConf = strings.ReplaceAll(conf, dir, "$TMP")
	np, err := s.start("nginx", "nginx.log", os.Environ(), nginx,
		"-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", confPath, "-g", "daemon off;")
	if err != nil {
		return err
	}
	for _, port := range []int{p.nginx, p.nginxPathHack} {
		if err := waitListening(ctx, np, port, 10*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// captureAll fetches the log-in and the log-out from every configuration
// and checks that each answers as configured. (5) is asked with the
// 10-cookie jar, as in its load test.
func captureAll(p ports, nginx bool, res *results) error {
	configs := []endpoint{{cfgUpstream, p.upstream}, {cfgPlain, p.plain}, {cfgPlainCopy, p.plainCopy},
		{cfgNormalizer, p.normalizer}, {cfgHeaderRegex, p.headerRegex}, {cfgFull, p.full}}
	if nginx {
		configs = append(configs, endpoint{cfgNginx, p.nginx}, endpoint{cfgNginxPathHax, p.nginxPathHack})
	}
	for _, path := range []string{pathLogin, pathLogout} {
		for _, c := range configs {
			jar := ""
			if c.name == cfgFull {
				jar = cookieJar
			}
			got, err := captureSetCookies(c.name, c.port, path, jar)
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
	return nil
}

// endpoint is a configuration and the port it listens on.
type endpoint struct {
	name string
	port int
}

// driver runs wrk against the servers the harness started.
type driver struct {
	ctx     context.Context
	wrk     string
	o       options
	servers map[string]*proc // by target.Server
	procs   []*proc
}

// warmUp drives every target once, unrecorded.
func (d *driver) warmUp(targets []target) error {
	if d.o.warmup <= 0 {
		return nil
	}
	for _, t := range targets {
		if _, _, _, err := runWrk(d.ctx, d.wrk, d.o, t, d.o.warmup); err != nil {
			return err
		}
	}
	return nil
}

// rounds runs every target once per round. Targets that are compared with
// each other run back to back in every round, so that the host's slow
// spells, which last seconds, hit them alike: the order of the blocks and
// the order within each block rotate from round to round. A run during
// which other processes used the machine is measured again, twice at
// most; the last one counts.
func (d *driver) rounds(blocks [][]target, res *results) error {
	o := d.o
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	log.Printf("load: %d targets, %d rounds of %s each (about %s)", n, o.rounds, o.duration,
		(time.Duration(n*o.rounds) * (o.duration + 100*time.Millisecond)).Round(time.Second))
	var raw strings.Builder
	for r := 0; r < o.rounds; r++ {
		for _, t := range roundOrder(blocks, r) {
			var (
				run wrkRun
				out string
				err error
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
			fmt.Fprintf(&raw, "### round %d, %s, %s (jar: %v)\n%s\n", r+1, t.Name, t.url(), t.Jar, out)
			run.Round = r + 1
			res.Runs = append(res.Runs, run)
			log.Printf("round %d/%d %-22s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %s CPU %5.1f µs/req  foreign CPU %4.1f %% %s",
				r+1, o.rounds, t.Name, run.RPS, run.P50ms, run.P99ms, t.Server, run.CPUus, 100*run.ForeignCPU, run.Errors)
		}
	}
	return os.WriteFile(filepath.Join(o.out, "wrk.txt"), []byte(raw.String()), 0o644)
}

// measure drives t for dur, and adds to wrk's numbers the CPU time the
// server used per request and the foreign CPU during the run.
func (d *driver) measure(t target, dur time.Duration) (wrkRun, string, error) {
	pid := d.servers[t.Server].cmd.Process.Pid
	cpu0, ours0, busy0, t0 := processCPU(pid), serversCPU(d.servers), machineBusy(), time.Now()
	run, out, wrkCPU, err := runWrk(d.ctx, d.wrk, d.o, t, dur)
	if err != nil {
		return run, out, err
	}
	run.Target = t.Name
	if run.Requests > 0 {
		run.CPUus = float64(processCPU(pid)-cpu0) / float64(time.Microsecond) / float64(run.Requests)
	}
	run.ForeignCPU = machineShare(machineBusy()-busy0-(serversCPU(d.servers)-ours0)-wrkCPU, t0)
	return run, out, d.checkRunning()
}

// checkRunning fails if a process the harness started has exited.
func (d *driver) checkRunning() error {
	for _, p := range d.procs {
		if p.exited() {
			return fmt.Errorf("%s exited during the load test: %v\n%s", p.name, p.err, p.logTail())
		}
	}
	return nil
}

// caddyEnv is the environment of a Caddy the harness starts: its data and
// config directories go to the temporary directory, not to the user's
// home.
func (s *servers) caddyEnv() []string {
	return append(os.Environ(), "HOME="+s.tmp, "XDG_CONFIG_HOME="+filepath.Join(s.tmp, "config"), "XDG_DATA_HOME="+filepath.Join(s.tmp, "data"))
}

// pairedRuns measures each comparison in short runs in the order A B B A,
// repeated: the host's slow spells last seconds, so two runs a second
// apart see the same machine far more often than two runs of a round do,
// and the median of many such paired ratios is a much steadier estimate
// than a ratio of medians. Each pair gives a ratio of req/s and one of the
// server's CPU time per request. A quadruple during which other processes
// used more than -quiet of the machine is measured again, at most -pairs
// more times per comparison in all.
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
		a, aok := byName[c[0]]
		b, bok := byName[c[1]]
		if !aok || !bok {
			continue
		}
		p, err := d.pair(a, b)
		if err != nil {
			return err
		}
		log.Printf("paired %-22s / %-16s req/s median %.3f (quartiles %.3f–%.3f), CPU/req median %.3f, %d ratios, %d quadruples discarded, %d kept loaded",
			c[1], c[0], p.Median, p.Q1, p.Q3, p.CPUMedian, len(p.Ratios), p.Discarded, p.Loaded)
		res.Paired = append(res.Paired, p)
	}
	return nil
}

// pair measures b against a in -pairs quadruples A B B A. A quadruple
// during which other processes used more than -quiet of the machine is
// measured again, -pairs times at most; after that it is kept and counted,
// so that a busy machine gives numbers that say so rather than none.
func (d *driver) pair(a, b target) (pairedResult, error) {
	o := d.o
	p := pairedResult{Base: a.Name, Target: b.Name}
	for len(p.Ratios) < 2*o.pairs {
		var (
			runs    [4]wrkRun
			foreign float64
		)
		for j, t := range []target{a, b, b, a} {
			run, _, err := d.measure(t, o.pairD)
			if err != nil {
				return p, err
			}
			runs[j], foreign = run, max(foreign, run.ForeignCPU)
		}
		if foreign > o.quiet {
			if p.Discarded < o.pairs {
				p.Discarded++
				log.Printf("paired %s / %s: %.1f %% foreign CPU during the quadruple, measuring it again", b.Name, a.Name, 100*foreign)
				continue
			}
			p.Loaded++
			log.Printf("paired %s / %s: %.1f %% foreign CPU during the quadruple, kept: no retries left", b.Name, a.Name, 100*foreign)
		}
		p.Ratios = append(p.Ratios, runs[1].RPS/runs[0].RPS, runs[2].RPS/runs[3].RPS)
		p.CPURatios = append(p.CPURatios, runs[1].CPUus/runs[0].CPUus, runs[2].CPUus/runs[3].CPUus)
	}
	p.Median = medianOf(p.Ratios)
	p.Q1, p.Q3 = quartiles(p.Ratios)
	p.CPUMedian = medianOf(p.CPURatios)
	p.CPUQ1, p.CPUQ3 = quartiles(p.CPURatios)
	return p, nil
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
