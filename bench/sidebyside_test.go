package main

import (
	"strings"
	"testing"
)

// TestSideBySideVerdict: with side-by-side runs, they decide Caddy's CPU
// target for the full configuration, their interval widened by their own
// A/A control; the CPU profile can still make it missed or "cannot tell",
// never met on its own for the log-in.
func TestSideBySideVerdict(t *testing.T) {
	runs := func(v ...float64) []float64 { return v }
	// Sixteen ratios: the 95 % interval of the median is the 4th smallest
	// to the 4th largest.
	tight := func(mid float64) []float64 {
		return runs(mid-0.02, mid-0.01, mid-0.008, mid-0.004, mid-0.003, mid-0.002, mid-0.001, mid, mid, mid+0.001, mid+0.002, mid+0.003, mid+0.004, mid+0.008, mid+0.01, mid+0.02)
	}
	for _, c := range []struct {
		name      string
		full, aa  []float64
		share     *cpuShare
		want      verdict
		wantWords string
	}{
		{"above 1 %, control exact", tight(1.03), tight(1.0), nil, missed, "side by side: median +3.00 % (95 % interval +2.60 to +3.40 %, 16 runs; widened by the A/A control's 0.00 %)"},
		{"within 1 %, control exact", tight(0.995), tight(1.0), nil, met, "median -0.50 %"},
		{"within 1 % but the control is off by 1 %", tight(1.0), tight(1.01), nil, undecided, "widened by the A/A control's 1.00 %"},
		{"above, the control off by less than the gap", tight(1.03), tight(0.99), nil, missed, "median +3.00 %"},
		{"within 1 %, the profile's share spans 1 %", tight(0.995), tight(1.0), &cpuShare{Target: "full-jar", Module: 0.01, Samples: 2000}, undecided, "CPU profile"},
		{"within 1 %, the profile's share over 1 %", tight(0.995), tight(1.0), &cpuShare{Target: "full-jar", Module: 0.03, Samples: 2000}, missed, "CPU profile"},
	} {
		t.Run(c.name, func(t *testing.T) {
			plain := target{Name: "plain-jar", Config: cfgPlain, Path: pathLogin, Jar: true}
			full := target{Name: "full-jar", Config: cfgFull, Path: pathLogin, Jar: true, Base: "plain-jar"}
			r := &results{
				Targets: []target{plain, full},
				Runs:    []wrkRun{{Target: "plain-jar", Round: 1, RPS: 100, CPUus: 10}, {Target: "full-jar", Round: 1, RPS: 100, CPUus: 10}},
				Sides: []sideResult{
					{Base: "plain-jar", Target: "full-jar", Path: pathLogin, CPURatios: c.full, CPUMedian: medianOf(c.full)},
					{Base: "plain-jar", Target: "plain-copy-jar", Path: pathLogin, CPURatios: c.aa, CPUMedian: medianOf(c.aa)},
				},
			}
			if c.share != nil {
				r.Shares = []cpuShare{*c.share}
			}
			var got *check
			for _, ch := range r.fullConfigChecks() {
				if strings.Contains(ch.what, "Caddy's CPU per request within 1 %") {
					got = &ch
				}
			}
			if got == nil {
				t.Fatal("no CPU check")
			}
			if got.v != c.want || !strings.Contains(got.measured, c.wantWords) {
				t.Fatalf("verdict %q, measured %q; want %q, containing %q", got.v, got.measured, c.want, c.wantWords)
			}
		})
	}
}
