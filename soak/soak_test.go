package main

import (
	"testing"
	"time"
)

// TestSoakShort is the soak in 20 seconds: at least five reloads under
// load, no failed request, every response's cookies exactly those of the
// config that served it, both configs seen, and nothing left growing. New
// connections wait while a reload runs (see Options.HoldDials: Caddy's
// listener handover, not the module, resets a few of them otherwise).
// It is meant to run under -race, well within a minute.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20-second soak; runs without -short")
	}
	rep, err := Run(Options{
		Duration:    20 * time.Second,
		Requests:    2_000_000,
		Concurrency: 4,
		ReloadEvery: 2 * time.Second,
		HoldDials:   true,
		Logf:        t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if !rep.OK() {
		t.Errorf("failed %d, mismatched %d, reload errors %d, requests %d", rep.Failed, rep.Mismatched, rep.ReloadErrors, rep.Requests)
	}
	if rep.Reloads < 5 {
		t.Errorf("%d reloads, want at least 5", rep.Reloads)
	}
	if rep.PerConfig[0] == 0 || rep.PerConfig[1] == 0 {
		t.Errorf("responses per config %v: both must serve", rep.PerConfig)
	}
	// Nothing outlives Caddy: once it and the upstream are stopped, the
	// process holds no more goroutines or files than at the start (when
	// Caddy and the clients' connections were up). While Caddy runs,
	// replaced configs' idle upstream connections stay until Caddy's
	// keep-alive idle timeout; the long run measures that.
	if rep.AfterStop.Goroutines > rep.Start.Goroutines || rep.AfterStop.OpenFiles > rep.Start.OpenFiles {
		t.Errorf("start %s; after stop %s", rep.Start, rep.AfterStop)
	}
}
