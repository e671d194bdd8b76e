package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The module's own share of Caddy's CPU. Paired wrk runs compare Caddy's
// CPU per request with and without the module, but on a shared VM their
// error (the A/A control's) is several percent: larger than the 1 % the
// full configuration is allowed. A CPU profile of Caddy, taken through its
// admin endpoint while wrk drives one target, splits one run's CPU by
// function: its ratios do not move with the machine's speed, only with
// the number of samples. The module's share of the samples is the part of
// Caddy's CPU the module itself spends, a lower bound of what it adds (the
// garbage collection of its allocations and cache effects are not in it).

// cpuShare is the module's own share of Caddy's CPU on one target.
type cpuShare struct {
	Target string `json:"target"`
	// Samples counts the profile's samples (10 ms each).
	Samples int `json:"samples"`
	// Module is the share of the samples whose innermost attributable
	// frame is the module's (see attribute).
	Module float64 `json:"module"`
	// Background is the share with no attributable frame: the garbage
	// collector's workers and the scheduler (preemptions included),
	// shared by everything.
	Background float64 `json:"background"`
	// StackGrowth is the share of the samples that are the module's and
	// grow the goroutine's stack (runtime.newstack under a module frame):
	// Go grows a stack that a collection shrank at the first call that
	// needs more, so this is the module being the deepest point of a
	// request.
	StackGrowth float64 `json:"stack_growth"`
	Command     string  `json:"command"`
}

// profileShares profiles Caddy on each of targets while wrk drives it
// alone, for d seconds, and records the module's share of each.
func (dr *driver) profileShares(admin int, caddy, out string, targets []target, d time.Duration, res *results) error {
	for _, t := range targets {
		file := filepath.Join(out, "cpu-"+t.Name+".pprof")
		secs := int((d - 2*time.Second) / time.Second)
		errc := make(chan error, 1)
		go func() {
			_, _, _, err := runWrk(dr.ctx, dr.wrk, dr.o, t, d)
			errc <- err
		}()
		time.Sleep(time.Second) // past wrk's connection set-up
		perr := fetchProfile(dr.ctx, admin, secs, file)
		if err := <-errc; err != nil {
			return err
		}
		if perr != nil {
			return perr
		}
		s, err := attributeProfile(dr.ctx, caddy, file)
		if err != nil {
			return err
		}
		s.Target = t.Name
		s.Command = fmt.Sprintf("curl 'http://127.0.0.1:<admin>/debug/pprof/profile?seconds=%d' while wrk drives %s; go tool pprof -traces", secs, t.Name)
		log.Printf("profile %-16s module %.2f %% of Caddy's CPU, background %.1f %%, %d samples", t.Name, 100*s.Module, 100*s.Background, s.Samples)
		res.Shares = append(res.Shares, s)
	}
	return nil
}

// fetchProfile saves a CPU profile of secs seconds from Caddy's admin
// endpoint.
func fetchProfile(ctx context.Context, admin, secs int, file string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs+20)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", hostPort(admin), secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CPU profile from Caddy's admin endpoint: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// attributeProfile reads a CPU profile with `go tool pprof -traces` and
// shares its samples out (see attribute).
func attributeProfile(ctx context.Context, binary, file string) (cpuShare, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-traces", binary, file).Output()
	if err != nil {
		return cpuShare{}, fmt.Errorf("go tool pprof -traces %s: %v", file, err)
	}
	return shareOut(string(out))
}

// shareOut parses `go tool pprof -traces` output: samples separated by a
// line of dashes, each a value and the leaf function, then its callers.
func shareOut(traces string) (cpuShare, error) {
	var s cpuShare
	var total, module, background, growth time.Duration
	var value time.Duration
	var stack []string
	flush := func() {
		if len(stack) == 0 {
			return
		}
		total += value
		switch attribute(stack) {
		case ownerModule:
			module += value
			if slices.Contains(stack, "runtime.newstack") {
				growth += value
			}
		case ownerNone:
			background += value
		}
		s.Samples += int(value / (10 * time.Millisecond))
	}
	sc := bufio.NewScanner(strings.NewReader(traces))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			stack = []string{}
			continue
		}
		if stack == nil || strings.TrimSpace(line) == "" {
			continue // the header, before the first sample
		}
		f := strings.Fields(line)
		if len(stack) == 0 {
			if len(f) < 2 {
				return s, fmt.Errorf("pprof -traces: sample line %q", line)
			}
			v, err := time.ParseDuration(f[0])
			if err != nil {
				return s, fmt.Errorf("pprof -traces: sample value in %q: %v", line, err)
			}
			value = v
			f = f[1:]
		}
		stack = append(stack, f[0])
	}
	flush()
	if total <= 0 {
		return s, fmt.Errorf("pprof -traces: no samples")
	}
	s.Module, s.Background = float64(module)/float64(total), float64(background)/float64(total)
	s.StackGrowth = float64(growth) / float64(total)
	return s, sc.Err()
}

// owner is who a sample's CPU is attributed to.
type owner int

const (
	ownerNone   owner = iota // no attributable frame
	ownerModule              // the module
	ownerHost                // Caddy, net/http and the rest of the server
)

// modulePrefix starts every function of the module.
const modulePrefix = "github.com/cookie-normalizer/caddy-cookie-normalizer."

// neutralPrefixes are the packages a frame of which says nothing about
// whose work a sample is: the runtime, the standard library's helpers and
// the logging and metrics libraries that both the module and Caddy call.
var neutralPrefixes = []string{
	"runtime.", "internal/", "syscall.", "sync.", "sync/atomic.", "strings.", "strconv.", "bytes.",
	"unicode", "math", "sort.", "slices.", "maps.", "time.", "errors.", "fmt.", "reflect.", "io.", "bufio.",
	"go.uber.org/zap", "github.com/prometheus/", "indexbytebody", "memeqbody", "aeshashbody", "cmpbody",
}

// attribute returns the owner of a sample from its stack, leaf first: the
// first frame, from the leaf up, that is neither neutral nor anonymous
// decides. So the module's scan, and the allocation of the field it
// writes, are the module's; the write of the header the module wraps,
// which goes through net/http below the module's wrapper, is the host's;
// and the proxying that reverse_proxy does inside the module's ServeHTTP
// is the host's too.
//
// A preemption is the scheduler's: the runtime stops whichever goroutine
// runs when its time slice ends or the collector needs its stack, at the
// next function entry, so which function's entry that is says nothing of
// whose work the switch is.
func attribute(stack []string) owner {
	for _, fn := range stack {
		switch {
		case preemption(fn):
			return ownerNone
		case strings.HasPrefix(fn, modulePrefix):
			return ownerModule
		case neutral(fn):
		default:
			return ownerHost
		}
	}
	return ownerNone
}

// preemption reports whether fn is where the runtime preempts a
// goroutine: at a function's entry (the stack check) or at a signal.
func preemption(fn string) bool {
	switch fn {
	case "runtime.gopreempt_m", "runtime.preemptPark", "runtime.asyncPreempt", "runtime.asyncPreempt2":
		return true
	}
	return false
}

func neutral(fn string) bool {
	for _, p := range neutralPrefixes {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return !strings.Contains(fn, ".") // assembly routines without a package
}
