package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile" // the caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/cookie-normalizer/caddy-cookie-normalizer"
)

// Options bound a soak run: it stops at Duration or after Requests
// requests, whichever comes first.
type Options struct {
	Duration    time.Duration
	Requests    int64
	Concurrency int
	// ReloadEvery is the time between two config loads through the admin
	// API; the configs alternate.
	ReloadEvery time.Duration
	// Settle, if positive, is a wait after the load before the "settled"
	// figures are taken, Caddy still running: connections that replaced
	// configs' proxies keep idle to the upstream close after Caddy's
	// keep-alive idle timeout (2 minutes by default), not at the reload.
	Settle time.Duration
	// Control runs the same load and reloads without the module: both
	// configs must pass the upstream's cookies unchanged. It tells what
	// the reloads cost without the module.
	Control bool
	// HoldDials makes new client connections wait while a reload runs
	// and for reloadSettle after it, and a reload wait until every fresh
	// connection has its first response; the client then opens a
	// connection per request (no keep-alive), so that no connection waits
	// idle, unused, across a reload. Caddy hands a listening address
	// from the old config to the new one with SO_REUSEPORT, and a
	// connection the kernel queued on the old socket is reset when that
	// socket closes: a reset before any response, on a fresh connection,
	// a few times in a million requests (RELIABILITY.md), unless the
	// kernel moves it (net.ipv4.tcp_migrate_req = 1), which CI machines
	// need not allow setting. The long soak
	// counts those; the short test in CI holds dials instead, so that what
	// it checks, the module under reloads, decides its outcome.
	HoldDials bool
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

// Resources is what the process holds at one moment.
type Resources struct {
	Goroutines int
	OpenFiles  int
	RSSKiB     int64
}

func (r Resources) String() string {
	return fmt.Sprintf("%d goroutines, %d open files, RSS %.1f MiB", r.Goroutines, r.OpenFiles, float64(r.RSSKiB)/1024)
}

// Report is the outcome of a run.
type Report struct {
	Elapsed  time.Duration
	Requests int64
	// Failed counts transport errors, statuses other than 200 and bodies
	// other than the upstream's.
	Failed int64
	// Mismatched counts responses whose Set-Cookie fields are not exactly
	// what the config named in X-Soak-Config makes of the upstream's;
	// MatchedNeither those that fit neither config.
	Mismatched, MatchedNeither int64
	PerConfig                  [2]int64 // responses served under config a, b
	Reloads, ReloadErrors      int64
	P50, P99, Max              time.Duration
	// Start: after the warm-up; End: half a second after the load, the
	// clients' connections closed; Settled: Settle later (if set);
	// AfterStop: Caddy and the upstream stopped, once the process is back
	// to Start's goroutines and files, or afterStopWait later.
	Start, End, Settled, AfterStop Resources
	FirstErrors                    []string
	// MigrateReq is the kernel's net.ipv4.tcp_migrate_req at the start
	// ("" where it cannot be read): 1 makes Linux move the connections
	// queued on a closing SO_REUSEPORT socket to another socket of the
	// same address instead of resetting them.
	MigrateReq string
}

// The upstream's fields; sid and uid are under the policy, theme is not.
const (
	upstreamSID   = "sid=abc; Max-Age=600; Path=/"
	upstreamUID   = "uid=42; Path=/"
	upstreamTheme = "theme=dark; Max-Age=60"
	upstreamBody  = "ok"
)

// The two configs: a gives sid and uid 12 hours; b makes them session
// cookies with Secure. Each response says which config served it.
var policies = [2]string{
	`cookie_normalizer sid uid {
		expire 12h
	}
	header X-Soak-Config a`,
	`cookie_normalizer sid uid {
		expire session
		secure on
	}
	header X-Soak-Config b`,
}

// controlPolicies are the configs of a control run: no module.
var controlPolicies = [2]string{"header X-Soak-Config a", "header X-Soak-Config b"}

// expected returns the Set-Cookie fields config i makes of the upstream's,
// for a response with that Date.
func expected(i int, date string, control bool) ([]string, bool) {
	if control {
		return []string{upstreamSID, upstreamUID, upstreamTheme}, true
	}
	if i == 1 {
		return []string{"sid=abc; Path=/; Secure", "uid=42; Path=/; Secure", upstreamTheme}, true
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return nil, false
	}
	tail := "; Expires=" + t.Add(12*time.Hour).UTC().Format(http.TimeFormat) + "; Max-Age=43200"
	return []string{"sid=abc; Path=/" + tail, "uid=42; Path=/" + tail, upstreamTheme}, true
}

func caddyfile(admin, site, upstream, policy string) string {
	return fmt.Sprintf(`{
	admin %s
	persist_config off
	auto_https off
	log {
		level ERROR
	}
	servers {
		protocols h1
	}
}

http://%s {
	bind 127.0.0.1
	%s
	reverse_proxy %s
}
`, admin, site, policy, upstream)
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Run starts the upstream and Caddy on 127.0.0.1, drives load through
// reverse_proxy and the module while reloading the config, stops
// everything it started and reports.
func Run(opts Options) (Report, error) {
	var rep Report
	if b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req"); err == nil {
		rep.MigrateReq = strings.TrimSpace(string(b))
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if opts.Concurrency < 1 || opts.Duration <= 0 || opts.Requests <= 0 || opts.ReloadEvery <= 0 {
		return rep, errors.New("soak: duration, requests, concurrency and reload interval must be positive")
	}

	// The upstream: a Go server on loopback.
	ul, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	upstream := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Set-Cookie"] = []string{upstreamSID, upstreamUID, upstreamTheme}
			io.WriteString(w, upstreamBody)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go upstream.Serve(ul)
	defer upstream.Close()

	admin, err := freeAddr()
	if err != nil {
		return rep, err
	}
	site, err := freeAddr()
	if err != nil {
		return rep, err
	}
	configs := [2][]byte{}
	for i := range configs {
		policy := policies[i]
		if opts.Control {
			policy = controlPolicies[i]
		}
		configs[i] = []byte(caddyfile(admin, site, ul.Addr().String(), policy))
	}
	first, _, err := caddyconfig.GetAdapter("caddyfile").Adapt(configs[0], nil)
	if err != nil {
		return rep, fmt.Errorf("adapting: %v", err)
	}
	if err := caddy.Load(first, true); err != nil {
		return rep, fmt.Errorf("starting Caddy: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// Loading a config without admin stops the admin server, which
		// caddy.Stop leaves running.
		if err := caddy.Load([]byte(`{"admin":{"disabled":true}}`), true); err != nil {
			logf("stopping the admin endpoint: %v", err)
		}
		if err := caddy.Stop(); err != nil {
			logf("stopping Caddy: %v", err)
		}
	}
	defer stop()

	var reloading sync.RWMutex // held for writing while a reload runs, with HoldDials
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		MaxIdleConnsPerHost: opts.Concurrency,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !opts.HoldDials {
				return dialer.DialContext(ctx, network, addr)
			}
			// A fresh connection keeps a reload waiting until it has its
			// first response (or for heldConnMax at most), so that none is
			// queued on, or just accepted by, the listener Caddy hands over.
			reloading.RLock()
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				reloading.RUnlock()
				return nil, err
			}
			return newHeldConn(conn, reloading.RUnlock), nil
		},
	}
	if opts.HoldDials {
		// A connection the transport dials and then keeps idle unused
		// (another one freed up first) releases its hold after
		// heldConnMax, and its first request can then meet a reload that
		// closed it on the server's side: EOF or a reset on a fresh
		// connection, the very race the hold is there to keep out. With
		// a connection per request, every connection is used at once.
		tr.DisableKeepAlives = true
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + site + "/"

	// Warm up: every worker's connection, so that the start figures
	// include them.
	var warm sync.WaitGroup
	for range opts.Concurrency {
		warm.Go(func() {
			if resp, err := client.Get(url); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	warm.Wait()
	runtime.GC()
	rep.Start = resources()
	logf("start: %s", rep.Start)

	ctx, cancel := context.WithTimeout(context.Background(), opts.Duration)
	defer cancel()
	var (
		issued   atomic.Int64
		counts   [2]atomic.Int64
		failed   atomic.Int64
		mismatch atomic.Int64
		neither  atomic.Int64
		errMu    sync.Mutex
		errs     []string
	)
	note := func(format string, args ...any) {
		errMu.Lock()
		defer errMu.Unlock()
		if len(errs) < 10 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	latencies := make([][]int32, opts.Concurrency) // microseconds
	start := time.Now()
	var workers sync.WaitGroup
	for w := range opts.Concurrency {
		workers.Go(func() {
			for ctx.Err() == nil && issued.Add(1) <= opts.Requests {
				t0 := time.Now()
				status, cookies, date, config, body, reused, err := get(client, url)
				latencies[w] = append(latencies[w], int32(min(time.Since(t0).Microseconds(), 1<<31-1)))
				switch {
				case err != nil:
					failed.Add(1)
					note("request (connection reused: %t): %v", reused, err)
					continue
				case status != http.StatusOK || body != upstreamBody:
					failed.Add(1)
					note("status %d, body %q", status, body)
					continue
				}
				idx := strings.IndexByte("ab", config)
				if idx >= 0 {
					counts[idx].Add(1)
				}
				fits := [2]bool{}
				for i := range fits {
					want, ok := expected(i, date, opts.Control)
					fits[i] = ok && slices.Equal(cookies, want)
				}
				if idx < 0 || !fits[idx] {
					mismatch.Add(1)
					note("config %q, Date %q, Set-Cookie %q", config, date, cookies)
				}
				if !fits[0] && !fits[1] {
					neither.Add(1)
				}
			}
		})
	}

	// The reloader: alternate the configs through the admin API.
	adminClient := &http.Client{Timeout: 30 * time.Second}
	next := 1
	ticker := time.NewTicker(opts.ReloadEvery)
reload:
	for {
		select {
		case <-ctx.Done():
			break reload
		case <-ticker.C:
		}
		if issued.Load() >= opts.Requests {
			break
		}
		if opts.HoldDials {
			reloading.Lock()
		}
		err := load(adminClient, admin, configs[next])
		if opts.HoldDials {
			// The load returns once the old servers' shutdowns have
			// started, in goroutines of their own, not once their
			// listeners are closed (Caddy's App.Stop says as much): a
			// connection dialled right away can still land on the old
			// listener and be closed unanswered.
			time.Sleep(reloadSettle)
			reloading.Unlock()
		}
		if err != nil {
			rep.ReloadErrors++
			note("reload: %v", err)
		} else {
			rep.Reloads++
			next = 1 - next
		}
	}
	ticker.Stop()
	workers.Wait()
	rep.Elapsed = time.Since(start)
	rep.Requests = min(issued.Load(), opts.Requests)
	rep.Failed, rep.Mismatched, rep.MatchedNeither = failed.Load(), mismatch.Load(), neither.Load()
	rep.PerConfig = [2]int64{counts[0].Load(), counts[1].Load()}
	rep.FirstErrors = errs

	var all []int32
	for _, l := range latencies {
		all = append(all, l...)
	}
	slices.Sort(all)
	if n := len(all); n > 0 {
		at := func(q float64) time.Duration { return time.Duration(all[int(q*float64(n-1))]) * time.Microsecond }
		rep.P50, rep.P99, rep.Max = at(0.50), at(0.99), at(1)
	}

	tr.CloseIdleConnections()
	time.Sleep(500 * time.Millisecond) // let Caddy see the connections close
	runtime.GC()
	rep.End = resources()
	if opts.Settle > 0 {
		logf("end: %s; settling for %s", rep.End, opts.Settle)
		time.Sleep(opts.Settle)
		runtime.GC()
		rep.Settled = resources()
	}
	stop()
	upstream.Close()
	rep.AfterStop = settleAfterStop(rep.Start)
	return rep, nil
}

// get sends one request and returns what the check needs, and whether the
// connection was reused from an earlier request; the body is read to its
// end, so that the connection is reused.
func get(client *http.Client, url string) (status int, cookies []string, date string, config byte, body string, reused bool, err error) {
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, "", 0, "", false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", 0, "", reused, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return 0, nil, "", 0, "", reused, err
	}
	if c := resp.Header.Get("X-Soak-Config"); len(c) == 1 {
		config = c[0]
	}
	return resp.StatusCode, resp.Header.Values("Set-Cookie"), resp.Header.Get("Date"), config, string(b), reused, nil
}

// load replaces Caddy's config through the admin API.
func load(client *http.Client, admin string, caddyfile []byte) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+admin+"/load", bytes.NewReader(caddyfile))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/caddyfile")
	req.Header.Set("Cache-Control", "must-revalidate")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /load: %s: %s", resp.Status, msg)
	}
	return nil
}

// resources reads the goroutine count, the open file descriptors and the
// resident set size of this process (from /proc/self; zero where it is
// missing).
func resources() Resources {
	r := Resources{Goroutines: runtime.NumGoroutine()}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		r.OpenFiles = len(fds)
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				r.RSSKiB, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			}
		}
	}
	return r
}

// afterStopWait bounds how long settleAfterStop waits for the
// goroutines and files of a stopped Caddy to go.
const afterStopWait = 10 * time.Second

// settleAfterStop returns the process's resources once it holds no more
// goroutines or open files than at start, or as they are after
// afterStopWait: what a stopped server leaves ends within milliseconds
// on a quiet machine, later on a loaded one, and a leak never does.
func settleAfterStop(start Resources) Resources {
	deadline := time.Now().Add(afterStopWait)
	for {
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		r := resources()
		if r.Goroutines <= start.Goroutines && r.OpenFiles <= start.OpenFiles || time.Now().After(deadline) {
			return r
		}
	}
}

// String writes the report as RELIABILITY.md quotes it.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "elapsed            %s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "requests           %d (%.0f/s)\n", r.Requests, float64(r.Requests)/r.Elapsed.Seconds())
	fmt.Fprintf(&b, "failed             %d\n", r.Failed)
	fmt.Fprintf(&b, "cookies mismatched %d (matching neither config: %d)\n", r.Mismatched, r.MatchedNeither)
	fmt.Fprintf(&b, "served by config   a (expire 12h): %d, b (expire session, secure on): %d\n", r.PerConfig[0], r.PerConfig[1])
	fmt.Fprintf(&b, "config reloads     %d (failed: %d)\n", r.Reloads, r.ReloadErrors)
	if r.MigrateReq != "" {
		fmt.Fprintf(&b, "tcp_migrate_req    %s\n", r.MigrateReq)
	}
	fmt.Fprintf(&b, "latency            p50 %s, p99 %s, max %s\n", r.P50, r.P99, r.Max)
	fmt.Fprintf(&b, "start              %s\n", r.Start)
	fmt.Fprintf(&b, "end                %s\n", r.End)
	if r.Settled != (Resources{}) {
		fmt.Fprintf(&b, "settled            %s\n", r.Settled)
	}
	fmt.Fprintf(&b, "after stop         %s\n", r.AfterStop)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "error              %s\n", e)
	}
	return b.String()
}

// OK reports whether the run found nothing wrong.
func (r Report) OK() bool {
	return r.Failed == 0 && r.Mismatched == 0 && r.ReloadErrors == 0 && r.Requests > 0
}

// reloadSettle is how long new connections wait after a reload returns,
// for the old servers to close their listeners.
const reloadSettle = 500 * time.Millisecond

// heldConnMax bounds how long a fresh connection holds a reload off: the
// transport may dial a connection it then keeps idle, with no response to
// wait for.
const heldConnMax = 2 * time.Second

// heldConn is a fresh client connection that calls release once: at its
// first read of response bytes, at close, or after heldConnMax.
type heldConn struct {
	net.Conn
	once    sync.Once
	release func()
	timer   *time.Timer
}

func newHeldConn(conn net.Conn, release func()) *heldConn {
	c := &heldConn{Conn: conn, release: release}
	c.timer = time.AfterFunc(heldConnMax, c.done)
	return c
}

func (c *heldConn) done() { c.once.Do(c.release) }

func (c *heldConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 || err != nil {
		c.timer.Stop()
		c.done()
	}
	return n, err
}

func (c *heldConn) Close() error {
	c.timer.Stop()
	c.done()
	return c.Conn.Close()
}
