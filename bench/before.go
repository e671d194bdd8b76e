package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// benchstatVersion is the benchstat the comparison runs, from the Go
// module proxy.
const benchstatVersion = "golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

// beforeBench is the benchmark timed at both commits.
const beforeBench = "^BenchmarkRewrite$/^pypi$"

// beforeAfter is one benchmark timed at an earlier commit and at the work
// tree in one session, the runs interleaved.
type beforeAfter struct {
	Rev       string    `json:"rev"`
	RevTitle  string    `json:"rev_title"`
	Bench     string    `json:"bench"`
	Before    []float64 `json:"before_ns_op"`
	After     []float64 `json:"after_ns_op"`
	P         float64   `json:"p"` // two-sided Mann–Whitney U
	Command   string    `json:"command"`
	Benchstat string    `json:"benchstat"` // its output, or why there is none
}

func (b *beforeAfter) beforeMedian() float64 { return medianOf(b.Before) }
func (b *beforeAfter) afterMedian() float64  { return medianOf(b.After) }

// compareBefore times beforeBench at o.before and in the work tree: it
// exports o.before with git archive into a temporary directory (the
// repository's own state is not touched), builds a test binary of each,
// and runs the two alternately, -count times each with one run per
// invocation, in the order A B B A, so that the machine's slow spells hit
// both alike.
func compareBefore(ctx context.Context, repo string, o options) (*beforeAfter, error) {
	title, err := exec.CommandContext(ctx, "git", "-C", repo, "log", "-1", "--format=%h %s", o.before).Output()
	if err != nil {
		return nil, fmt.Errorf("git log %s: %v", o.before, err)
	}
	res := &beforeAfter{Rev: o.before, RevTitle: strings.TrimSpace(string(title)), Bench: beforeBench}
	tmp, err := os.MkdirTemp("", "cookie-normalizer-before-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "src")
	if err := exportRev(ctx, repo, o.before, src); err != nil {
		return nil, err
	}
	before, after := filepath.Join(tmp, "before.test"), filepath.Join(tmp, "after.test")
	for _, b := range []struct{ dir, bin string }{{src, before}, {repo, after}} {
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", b.bin, ".")
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go test -c in %s: %v\n%s", b.dir, err, out)
		}
	}
	args := []string{"-test.run", "^$", "-test.bench", beforeBench, "-test.benchmem", "-test.benchtime", o.benchtime, "-test.count", "1"}
	res.Command = fmt.Sprintf("go test -c at each commit, then %d × each binary %s, alternating A B B A", o.beforeN, strings.Join(quoteArgs(args), " "))
	var raw [2]strings.Builder // before, after: benchstat's input
	for i := 0; i < o.beforeN; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			bin, dir := before, src
			if k == 1 {
				bin, dir = after, repo
			}
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("%s: %v\n%s", bin, err, out)
			}
			g, err := parseGoBench(string(out))
			if err != nil {
				return nil, err
			}
			if k == 0 {
				res.Before = append(res.Before, g[0].NsOp)
			} else {
				res.After = append(res.After, g[0].NsOp)
			}
			keepBenchLines(&raw[k], string(out), i == 0 || raw[k].Len() == 0)
		}
	}
	res.P = mannWhitney(res.Before, res.After)
	log.Printf("%s at %s: median %.0f ns/op; work tree: %.0f ns/op (p = %.3f)", beforeBench, o.before, res.beforeMedian(), res.afterMedian(), res.P)

	files := [2]string{filepath.Join(o.out, "before-"+o.before+".txt"), filepath.Join(o.out, "before-HEAD.txt")}
	for k, f := range files {
		if err := os.WriteFile(f, []byte(raw[k].String()), 0o644); err != nil {
			return nil, err
		}
	}
	res.Benchstat = runBenchstat(ctx, o.out, files)
	return res, nil
}

// exportRev writes the tree of rev into dir.
func exportRev(ctx context.Context, repo, rev, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archive := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", rev)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	if err := archive.Start(); err != nil {
		return err
	}
	if out, err := untar.CombinedOutput(); err != nil {
		_ = archive.Wait()
		return fmt.Errorf("tar -x: %v\n%s", err, out)
	}
	if err := archive.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %v", rev, err)
	}
	return nil
}

// keepBenchLines appends the benchmark lines of a test binary's output to
// b, with the configuration lines (goos, cpu, …) the first time.
func keepBenchLines(b *strings.Builder, out string, header bool) {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Benchmark") || (header && strings.Contains(line, ": ") && !strings.HasPrefix(line, "PASS")) {
			b.WriteString(line + "\n")
		}
	}
}

// runBenchstat runs benchstat on the two files, from dir (so that the
// columns are named after the files), and returns its output or why there
// is none.
func runBenchstat(ctx context.Context, dir string, files [2]string) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", benchstatVersion, filepath.Base(files[0]), filepath.Base(files[1]))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "benchstat did not run: " + err.Error() + "\n" + string(out)
	}
	return strings.TrimSpace(string(out))
}

// formatRuns lists ns/op values.
func formatRuns(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(s, " ")
}
