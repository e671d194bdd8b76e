package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// allocTest is one allocation assertion of the package (testing.AllocsPerRun)
// and how it ended.
type allocTest struct {
	Name   string `json:"name"`
	Result string `json:"result"` // PASS, FAIL or SKIP
}

// allocTestsCommand runs the allocation assertions. They are built only
// without -race, which the command does not set.
const allocTestsCommand = "go test -run Allocs -count 1 -v ."

// runAllocTests runs the package's allocation tests and returns how each
// ended; a failing test is a result, not an error.
func runAllocTests(ctx context.Context, repo, outDir string) ([]allocTest, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", strings.Fields(allocTestsCommand)[1:]...)
	cmd.Dir = repo
	out, runErr := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(outDir, "allocs.txt"), out, 0o644)
	var tests []allocTest
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == "---" && strings.HasSuffix(f[1], ":") {
			tests = append(tests, allocTest{Name: f[2], Result: strings.TrimSuffix(f[1], ":")})
		}
	}
	if len(tests) == 0 {
		return nil, fmt.Errorf("%s: no test results (%v):\n%s", allocTestsCommand, runErr, out)
	}
	return tests, nil
}
