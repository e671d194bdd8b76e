//go:build !race

package cookienormalizer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Caddy calls the module's WriteHeader (and Write, ReadFrom, FlushError)
// deep inside reverse_proxy: about 14 KB into a connection goroutine's
// 16 KB stack on this project's Caddy. When the garbage collector has
// shrunk a goroutine's stack, a call that needs more than what is left
// makes Go copy the whole stack, on every such request: a cost that no
// benchmark of the module alone shows. So the frames the module stacks up
// below those methods on the path every response takes are kept small,
// and rare work runs out of line (see docs/design.md, "Consistency and
// sliding expiry").

// stackBudgets are the most stack the module may use below each of the
// writer's methods, counted from the method's own frame down, on the path
// every response of a config without `like` or `slide` takes: above what
// Go 1.26 needs (1368 bytes below WriteHeader, a sixteenth less than its
// budget; 1456 to 1664 below the others), so that a change that deepens
// the path fails here. WriteHeader is the one reverse_proxy calls deepest on every
// response; the others reach the rewrite only for a response written
// without WriteHeader, a cookie added after it, or a flush before it.
var stackBudgets = map[string]int{
	"(*responseWriter).WriteHeader": 1456,
	"(*responseWriter).Write":       1584,
	"(*responseWriter).ReadFrom":    1584,
	"(*responseWriter).FlushError":  1680,
}

// coldFunctions are the module's functions that that path does not take,
// each out of line on purpose, so that their frames do not count.
var coldFunctions = map[string]string{
	"apply":                           "rewrites a field the group's memo does not hold: once per second of Date per distinct attributes",
	"(*tailMemo).store":               "as above",
	"(*rewritePass).runLikes":         "like groups only",
	"(*rewritePass).runLike":          "like groups only",
	"(*rewritePass).applyLike":        "like groups only",
	"(*rewritePass).relead":           "like groups, when the consistency rules appended fields",
	"(*consistency).cascade":          "a log-out that cascades",
	"movedMember":                     "a log-out that would cascade: is a member set at another path or domain",
	"splitUnreached":                  "a log-out that would cascade: is a member some engine keeps, in a field passed unchanged, out of reach",
	"setsLeft":                        "a log-out beside a member's set: does the set count on this request",
	"(*consistency).expirePartial":    "a half jar",
	"(*request).partialAsArrived":     "a half jar, before its partial expiry",
	"(*cookieJar).missesRefused":      "a half jar, beside a member's field Chromium and Firefox refuse",
	"targetedCacheable":               "before a partial expiry or a re-issue",
	"(*request).clearsSiteCookies":    "before a re-issue",
	"(*rewritePass).shadowWrite":      "report_only with like groups",
	"(*consistency).applySliding":     "slide groups only",
	"(*consistency).slideFields":      "slide groups only",
	"(*responseWriter).rewriteFields": "1xx responses and trailers",
	"(*responseWriter).rewriteLate":   "a cookie added after WriteHeader",
	"(*rewritePass).placeDeletions":   "a field passed unchanged under a path or domain policy",
}

// frameOverhead is what a call adds to a function's locals: the return
// address and the saved frame pointer.
const frameOverhead = 16

// TestStackUnderWriteHeader compiles the package with -S, reads each
// function's frame and the module functions it calls, and checks the
// deepest chain below the writer's methods against stackBudget.
func TestStackUnderWriteHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the package")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command, to compile the package: %v", err)
	}
	cmd := exec.Command(goTool, "build", "-gcflags=-S", "-o", os.DevNull, ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build -gcflags=-S: %v\n%s", err, stderr.Bytes())
	}
	frames, calls := readAssembly(t, stderr.Bytes())
	for root, budget := range stackBudgets {
		if _, ok := frames[root]; !ok {
			t.Fatalf("no assembly for %s", root)
		}
		used, chain := deepest(root, frames, calls, map[string]bool{})
		t.Logf("%s: %d bytes: %s", root, used, strings.Join(chain, " → "))
		if used > budget {
			t.Errorf("%s uses %d bytes of stack, over its budget of %d: %s", root, used, budget, strings.Join(chain, " → "))
		}
	}
	for cold := range coldFunctions {
		if _, ok := frames[cold]; !ok {
			t.Errorf("cold function %s is not in the package's assembly (renamed or gone? update coldFunctions)", cold)
		}
	}
}

// readAssembly returns each module function's frame (locals plus the
// call's overhead) and the module functions it calls, from the compiler's
// -S output.
func readAssembly(t *testing.T, asm []byte) (frames map[string]int, calls map[string][]string) {
	const pkg = "github.com/cookie-normalizer/caddy-cookie-normalizer."
	header := regexp.MustCompile(`^` + regexp.QuoteMeta(pkg) + `(\S+) STEXT`)
	localsField := regexp.MustCompile(` locals=0x([0-9a-f]+)`)
	call := regexp.MustCompile(`\tCALL\t` + regexp.QuoteMeta(pkg) + `(\S+)\(SB\)`)
	frames, calls = map[string]int{}, map[string][]string{}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(asm))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := header.FindStringSubmatch(line); m != nil {
			current = m[1]
			locals := int64(0)
			if l := localsField.FindStringSubmatch(line); l != nil {
				var err error
				if locals, err = strconv.ParseInt(l[1], 16, 64); err != nil {
					t.Fatal(err)
				}
			}
			frames[current] = int(locals) + frameOverhead
			continue
		}
		if !strings.Contains(line, " STEXT") && current != "" {
			if m := call.FindStringSubmatch(line); m != nil {
				calls[current] = append(calls[current], m[1])
			}
		}
	}
	// Calls through an interface the assembly does not name: the
	// rewrite tells the handler about each matched field.
	calls["(*rewritePass).run"] = append(calls["(*rewritePass).run"], "(*Handler).observe")
	return frames, calls
}

// deepest returns the most stack fn and the module functions below it use,
// and that chain, leaving out coldFunctions.
func deepest(fn string, frames map[string]int, calls map[string][]string, onChain map[string]bool) (int, []string) {
	if onChain[fn] {
		panic(fmt.Sprintf("recursion through %s", fn))
	}
	onChain[fn] = true
	defer delete(onChain, fn)
	best, bestChain := 0, []string(nil)
	for _, callee := range calls[fn] {
		if _, cold := coldFunctions[callee]; cold {
			continue
		}
		if used, chain := deepest(callee, frames, calls, onChain); used > best {
			best, bestChain = used, chain
		}
	}
	return frames[fn] + best, append([]string{fmt.Sprintf("%s %d", fn, frames[fn])}, bestChain...)
}
