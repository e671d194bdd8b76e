// Command soak drives concurrent load through Caddy's reverse_proxy and
// the cookie_normalizer module for a bounded time and request count, while
// replacing Caddy's config through the admin API every few seconds with one
// of two configs of different policies. It checks every response's
// Set-Cookie fields byte for byte against the config that served it, and
// reports requests, failures, mismatches, latency and the process's
// goroutines, open files and RSS at start and end. Everything runs in this
// process on 127.0.0.1 and stops by itself:
//
//	go run ./soak -duration 10m
//
// It exits with status 1 if any request failed, any response's cookies
// did not match, or a reload failed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"time"
)

func main() {
	var opts Options
	flag.DurationVar(&opts.Duration, "duration", 10*time.Minute, "how long to drive load")
	flag.Int64Var(&opts.Requests, "requests", 100_000_000, "stop after this many requests, if sooner")
	flag.IntVar(&opts.Concurrency, "concurrency", 8, "concurrent clients")
	flag.DurationVar(&opts.ReloadEvery, "reload", 3*time.Second, "time between config reloads")
	flag.BoolVar(&opts.Control, "control", false, "run without the module: the same load and reloads, cookies must pass unchanged")
	flag.DurationVar(&opts.Settle, "settle", 0, "wait this long after the load, Caddy running, and measure again")
	flag.BoolVar(&opts.HoldDials, "hold-dials", false, "make new connections wait while a reload runs (keeps Caddy's listener hand-over resets out of the count)")
	flag.Parse()
	opts.Logf = log.Printf

	log.Printf("soak: %s or %d requests, %d clients, a reload every %s; GOMAXPROCS %d",
		opts.Duration, opts.Requests, opts.Concurrency, opts.ReloadEvery, runtime.GOMAXPROCS(0))
	rep, err := Run(opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(rep)
	if !rep.OK() {
		os.Exit(1)
	}
}
