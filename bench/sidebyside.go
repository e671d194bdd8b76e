package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Side-by-side runs measure Caddy's CPU time per request with the full
// configuration against plain reverse_proxy finely enough to judge a 1 %
// target on this machine, which the paired runs cannot: the host's speed
// moves by several percent between two runs a second apart, and a run
// measured after another sees a different machine. Here (1) and (5) each
// run in a Caddy process of their own, and two wrk processes drive them at
// the same time, so whatever slows the host slows both alike; each
// process's CPU-time clock gives its CPU per request. (1') in a third
// process, driven beside (1) the same way, is the A/A control: it shows
// what two identical processes side by side differ by, and widens every
// interval by that much.

// solo is a configuration measured side by side, as the only site of a
// Caddy process of its own.
type solo struct {
	config, directive string
}

// solos are the configurations measured side by side: (1) the baseline,
// (1') the A/A control, (5) the full configuration the targets are about,
// and, for scale, (2) the expiry-only module, (3) the header directive's
// regex replace and (6) a deferred header edit that changes nothing.
var solos = []solo{
	{cfgPlain, ""},
	{cfgPlainCopy, ""},
	{cfgFull, fullDirective},
	{cfgNormalizer, normalizerDirective},
	{cfgHeaderRegex, headerRegexLine},
	{cfgHeaderFloor, headerFloorLine},
}

// soloServer names the process of config in driver.servers.
func soloServer(config string) string { return "caddy alone: " + cfgNumbers[config] }

// soloPorts are the ports of the single-site Caddy processes, by
// configuration.
type soloPorts map[string]int

// soloCaddyfile is one configuration as the only site of a Caddy process,
// without an admin endpoint.
func soloCaddyfile(upstream, port int, directive string) string {
	return fmt.Sprintf(`{
	admin off
	persist_config off
	auto_https off
	grace_period 2s
}

http://%s {
	bind 127.0.0.1
	%s
	reverse_proxy %s
}
`, hostPort(port), directive, hostPort(upstream))
}

// startSolos starts each of solos in a Caddy process of its own and checks
// that each answers the log-in as configured.
func (s *servers) startSolos(ctx context.Context, caddy string, upstream int, p soloPorts) error {
	for _, c := range solos {
		port, name := p[c.config], soloServer(c.config)
		file := filepath.Join(s.tmp, fmt.Sprintf("Caddyfile.solo-%d", port))
		if err := os.WriteFile(file, []byte(soloCaddyfile(upstream, port, c.directive)), 0o644); err != nil {
			return err
		}
		cp, err := s.start(name, fmt.Sprintf("caddy-solo-%d.log", port), s.caddyEnv(), caddy, "run", "--config", file, "--adapter", "caddyfile")
		if err != nil {
			return err
		}
		if err := waitListening(ctx, cp, port, 30*time.Second); err != nil {
			return err
		}
		got, err := captureSetCookies(c.config, port, pathLogin, cookieJar)
		if err != nil {
			return err
		}
		if err := checkCapture(got); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}

// target is config on path with the 10-cookie jar, in its own process.
func (p soloPorts) target(config, path string) target {
	return target{Name: targetName(config, path, true), Config: config, Port: p[config], Path: path, Jar: true, Server: soloServer(config)}
}

// sideResult is one comparison measured side by side.
type sideResult struct {
	Base      string    `json:"base"`   // target name of A, as in the other results
	Target    string    `json:"target"` // target name of B
	Path      string    `json:"path"`
	CPURatios []float64 `json:"cpu_ratios"` // CPU time per request, B over A, one per run
	RPSRatios []float64 `json:"rps_ratios"` // req/s, B over A (they share the machine, so this is not judged)
	CPUMedian float64   `json:"cpu_median"`
	Discarded int       `json:"discarded,omitempty"` // runs measured again because of foreign CPU
	Loaded    int       `json:"loaded,omitempty"`    // runs kept although foreign CPU exceeded -quiet
}

// sideComparisons are the comparisons measured side by side, all against
// (1) and with the 10-cookie jar: (5) and the A/A control (1') on the
// log-in and on the page without Set-Cookie; (6), what any handler that
// edits the response's header costs, on both too; and (2) and (3), which
// differ from (6) only where there are cookies to rewrite, on the log-in.
func sideComparisons(p soloPorts) [][2]target {
	var c [][2]target
	for _, path := range []string{pathLogin, pathStatic} {
		configs := []string{cfgFull, cfgPlainCopy, cfgHeaderFloor}
		if path == pathLogin {
			configs = append(configs, cfgNormalizer, cfgHeaderRegex)
		}
		for _, config := range configs {
			c = append(c, [2]target{p.target(cfgPlain, path), p.target(config, path)})
		}
	}
	return c
}

// sideBySide measures every comparison -sides times, the comparisons in a
// rotating order so that each sees the host's slow spells alike. A run
// during which other processes used more than -quiet of the machine is
// measured again, -sides times at most per comparison; after that it is
// kept and counted.
func (d *driver) sideBySide(comparisons [][2]target, res *results) error {
	o := d.o
	if o.sides <= 0 {
		return nil
	}
	log.Printf("side-by-side runs: %d comparisons × %d runs of %s (about %s)", len(comparisons), o.sides, o.sideD,
		(time.Duration(len(comparisons)*o.sides) * (o.sideD + 200*time.Millisecond)).Round(time.Second))
	out := make([]sideResult, len(comparisons))
	for i, c := range comparisons {
		out[i] = sideResult{Base: c[0].Name, Target: c[1].Name, Path: c[0].Path}
	}
	for rep := 0; rep < o.sides; rep++ {
		for k := range comparisons {
			i := (k + rep) % len(comparisons)
			c, r := comparisons[i], &out[i]
			for {
				cpu, rps, foreign, err := d.side(c[0], c[1])
				if err != nil {
					return err
				}
				if foreign > o.quiet {
					if r.Discarded < o.sides {
						r.Discarded++
						log.Printf("side by side %s / %s: %.1f %% foreign CPU, measuring it again", c[1].Name, c[0].Server, 100*foreign)
						continue
					}
					r.Loaded++
				}
				r.CPURatios, r.RPSRatios = append(r.CPURatios, cpu), append(r.RPSRatios, rps)
				break
			}
		}
	}
	for i := range out {
		out[i].CPUMedian = medianOf(out[i].CPURatios)
		lo, hi := medianInterval(out[i].CPURatios)
		log.Printf("side by side %-16s %-16s / %-16s CPU/req median %.4f (95 %% interval %.4f–%.4f), %d runs, %d measured again",
			out[i].Target, comparisons[i][1].Server, comparisons[i][0].Server, out[i].CPUMedian, lo, hi, len(out[i].CPURatios), out[i].Discarded)
	}
	res.Sides = append(res.Sides, out...)
	return nil
}

// side drives a and b at the same time, each with half of wrk's threads
// and connections, and returns b's CPU time per request over a's, b's
// req/s over a's, and the foreign CPU during the run.
func (d *driver) side(a, b target) (cpu, rps, foreign float64, err error) {
	o := d.o
	o.threads, o.conns = max(1, o.threads/2), max(1, o.conns/2)
	pa, pb := d.servers[a.Server].cmd.Process.Pid, d.servers[b.Server].cmd.Process.Pid
	var (
		runs [2]wrkRun
		wrkC [2]time.Duration
		errs [2]error
		wg   sync.WaitGroup
	)
	ca0, cb0, ours0, busy0, t0 := processCPU(pa), processCPU(pb), serversCPU(d.servers), machineBusy(), time.Now()
	for i, t := range []target{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], _, wrkC[i], errs[i] = runWrk(d.ctx, d.wrk, o, t, o.sideD)
		}()
	}
	wg.Wait()
	ca, cb := processCPU(pa)-ca0, processCPU(pb)-cb0
	for _, e := range errs {
		if e != nil {
			return 0, 0, 0, e
		}
	}
	if err := d.checkRunning(); err != nil {
		return 0, 0, 0, err
	}
	if runs[0].Requests == 0 || runs[1].Requests == 0 || ca <= 0 {
		return 0, 0, 0, fmt.Errorf("side by side %s / %s: no requests or no CPU time measured (%d, %d requests)", b.Name, a.Name, runs[0].Requests, runs[1].Requests)
	}
	foreign = machineShare(machineBusy()-busy0-(serversCPU(d.servers)-ours0)-wrkC[0]-wrkC[1], t0)
	cpu = (float64(cb) / float64(runs[1].Requests)) / (float64(ca) / float64(runs[0].Requests))
	return cpu, runs[1].RPS / runs[0].RPS, foreign, nil
}

// side returns the side-by-side result of target against base on path, or
// nil.
func (r *results) side(target, path string) *sideResult {
	for i := range r.Sides {
		if r.Sides[i].Target == target && r.Sides[i].Path == path {
			return &r.Sides[i]
		}
	}
	return nil
}

// sideMargin is the A/A control's distance from 1 on path, side by side
// (0 without one).
func (r *results) sideMargin(path string) float64 {
	if aa := r.side(targetName(cfgPlainCopy, path, true), path); aa != nil {
		return math.Abs(aa.CPUMedian - 1)
	}
	return 0
}
