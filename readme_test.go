package cookienormalizer

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cookie-normalizer/caddy-cookie-normalizer/internal/testcaddy"
)

// The README's transcripts are captured from two configs: the demo
// (Caddyfile.example) and the recipes (docs/recipes.Caddyfile). The tests
// here run every curl command of the README's console blocks against the
// config that serves its port, Caddy in this process on free ports, and
// compare what curl prints of the response with the README: the status
// line, the Set-Cookie and Cache-Control fields and the body, as far as the
// command shows them. Dates and slide stamps differ from run to run: a
// date is compared as its distance from the response's Date where the
// transcript shows the Date, else as a placeholder, as is a stamp.

// exampleConfigs are the configs the README's transcripts come from.
var exampleConfigs = []string{"Caddyfile.example", "docs/recipes.Caddyfile"}

// readmeCommand is one "$ curl …" line of a console block of the README,
// with the lines it printed.
type readmeCommand struct {
	line   int // in README.md
	text   string
	output []string
}

// readmeCommands returns the curl commands of the README's console blocks.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []readmeCommand
	inConsole := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```console":
			inConsole = true
		case !inConsole:
		case line == "```":
			inConsole = false
		case strings.HasPrefix(line, "$ curl "):
			cmds = append(cmds, readmeCommand{line: n, text: strings.TrimPrefix(line, "$ ")})
		case len(cmds) > 0:
			c := &cmds[len(cmds)-1]
			c.output = append(c.output, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatal("no curl command in the README's console blocks")
	}
	return cmds
}

// curlCommand is what the tests read of a README curl command: its URL
// and request headers, whether it prints the whole response (-i with no
// grep) and, if a grep follows, the header names it keeps (lower case).
type curlCommand struct {
	url     string
	headers [][2]string
	whole   bool
	shown   []string
	greps   []string // the pipeline's later commands, as written
}

// shellWords splits a command line at spaces outside single quotes, up to
// a comment.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inQuote, inWord := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '#' && !inQuote && !inWord:
			return words
		case c == '\'':
			inQuote, inWord = !inQuote, true
		case c == ' ' && !inQuote:
			if inWord {
				words = append(words, w.String())
				w.Reset()
			}
			inWord = false
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// parseCurl reads a README command line: curl with -s, -i and -H, then
// greps.
func parseCurl(t *testing.T, text string) curlCommand {
	t.Helper()
	stages := strings.Split(text, " | ")
	var c curlCommand
	headersShown := false
	words := shellWords(strings.TrimSpace(stages[0]))
	for i := 1; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-H" && i+1 < len(words):
			name, value, _ := strings.Cut(words[i+1], ": ")
			c.headers = append(c.headers, [2]string{name, value})
			i++
		case strings.HasPrefix(w, "-") && strings.Trim(w, "-si") == "":
			headersShown = headersShown || strings.Contains(w, "i")
		case strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "localhost:"):
			c.url = w
		default:
			t.Fatalf("%q: the test does not know curl's %q", text, w)
		}
	}
	for _, stage := range stages[1:] {
		c.greps = append(c.greps, strings.TrimSpace(stage))
		if g := shellWords(strings.TrimSpace(stage)); len(g) == 3 && g[0] == "grep" && g[1] == "-i" {
			c.shown = append(c.shown, strings.Split(strings.ToLower(g[2]), `\|`)...)
		}
	}
	c.whole = headersShown && len(stages) == 1
	if c.url == "" || (!c.whole && len(c.shown) == 0 && !strings.HasPrefix(c.url, "localhost:")) {
		t.Fatalf("%q: the test reads no URL or no shown header in it", text)
	}
	return c
}

// exampleSite matches a site address of the example configs, and any
// loopback address in them.
var (
	exampleSite     = regexp.MustCompile(`(?m)^http://127\.0\.0\.1:(\d+) \{`)
	exampleLoopback = regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
)

// startExample runs the config at path with its global options replaced
// by the tests' (admin on admin, or off when it is ""; errors only; no
// config written to disk) and every loopback port by a free one. It
// returns the new address of each port.
func startExample(t *testing.T, path, admin string) map[string]string {
	t.Helper()
	if admin == "" {
		admin = "off"
	}
	globals := "{\n\tadmin " + admin + "\n\tpersist_config off\n\tauto_https off\n\tlog {\n\t\tlevel ERROR\n\t}\n}"
	return startExampleWith(t, path, func(string) string { return globals })
}

// startExampleWith is startExample with the global options block that
// globals makes of the config's own.
func startExampleWith(t *testing.T, path string, globals func(own string) string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The global options block: from a line "{" to the next line "}".
	start := strings.Index(string(src), "\n{\n")
	end := strings.Index(string(src), "\n}\n")
	if start < 0 || end < start {
		t.Fatalf("%s: no global options block", path)
	}
	addrs := map[string]string{}
	sites := exampleLoopback.ReplaceAllStringFunc(string(src[end+2:]), func(a string) string {
		port := strings.TrimPrefix(a, "127.0.0.1:")
		if addrs[port] == "" {
			addrs[port] = testcaddy.FreeAddr(t)
		}
		return addrs[port]
	})
	testcaddy.Start(t, globals(string(src[start+1:end+2]))+"\n"+sites)
	return addrs
}

// examplePorts returns the config each site port of the example configs
// belongs to.
func examplePorts(t *testing.T) map[string]string {
	t.Helper()
	ports := map[string]string{}
	for _, path := range exampleConfigs {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range exampleSite.FindAllStringSubmatch(string(src), -1) {
			ports[m[1]] = path
		}
	}
	return ports
}

// placeholders stand for what differs from run to run: a date other than
// the epoch that deletions carry, and a slide stamp's Unix second.
var (
	placeholderDate  = regexp.MustCompile(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT`)
	placeholderStamp = regexp.MustCompile(`^(Set-Cookie: cn_slide_[A-Za-z0-9_]+=)\d+;`)
)

// withPlaceholders puts the placeholders into line. With the response's
// Date (base, "" when the transcript does not show it) a date becomes its
// distance from base.
func withPlaceholders(line, base string) string {
	baseTime, baseErr := http.ParseTime(base)
	line = placeholderDate.ReplaceAllStringFunc(line, func(d string) string {
		if d == "Thu, 01 Jan 1970 00:00:00 GMT" {
			return d
		}
		if t, err := http.ParseTime(d); err == nil && baseErr == nil {
			return "<Date+" + t.Sub(baseTime).String() + ">"
		}
		return "<date>"
	})
	return placeholderStamp.ReplaceAllString(line, "${1}<unix second>;")
}

// printed is what curl prints of resp that the README's transcripts are
// compared on: with -i and no grep the status line, the Set-Cookie and
// Cache-Control fields and the body; with a grep, the fields it keeps of
// those two.
func printed(t *testing.T, c curlCommand, resp *http.Response) []string {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	base := ""
	if c.whole {
		lines = append(lines, resp.Proto+" "+resp.Status)
		base = resp.Header.Get("Date")
	}
	// Go's server writes the fields sorted by name.
	for _, name := range []string{"Cache-Control", "Set-Cookie"} {
		if !c.whole && !slices.Contains(c.shown, strings.ToLower(name)) {
			continue
		}
		for _, v := range resp.Header[name] {
			lines = append(lines, withPlaceholders(name+": "+v, base))
		}
	}
	if c.whole {
		lines = append(lines, "", string(body))
	}
	return lines
}

// readmeShown is the part of a README transcript that printed returns.
func readmeShown(c curlCommand, output []string) []string {
	var lines []string
	base := ""
	for _, line := range output {
		if d, ok := strings.CutPrefix(line, "Date: "); ok && c.whole {
			base = d
		}
	}
	for i, line := range output {
		switch {
		case c.whole && i == 0:
			lines = append(lines, line)
		case c.whole && line == "":
			return append(append(lines, ""), strings.Join(output[i+1:], "\n"))
		case strings.HasPrefix(line, "Cache-Control: ") || strings.HasPrefix(line, "Set-Cookie: "):
			lines = append(lines, withPlaceholders(line, base))
		}
	}
	return lines
}

// readmeClient is curl without redirects, on a connection per request.
var readmeClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// runCurl sends c's request to the address addrs gives its port.
func runCurl(t *testing.T, c curlCommand, addrs map[string]string) *http.Response {
	t.Helper()
	rest := strings.TrimPrefix(c.url, "http://127.0.0.1:")
	port, path, _ := strings.Cut(rest, "/")
	req, err := http.NewRequest(http.MethodGet, "http://"+addrs[port]+"/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := readmeClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestREADMETranscripts runs each config once, and the README's commands
// for its ports in the README's order (a recipe's later commands may
// depend on its earlier ones, as a browser's would).
func TestREADMETranscripts(t *testing.T) {
	cmds := readmeCommands(t)
	ports := examplePorts(t)
	ran := 0
	for _, path := range exampleConfigs {
		t.Run(path, func(t *testing.T) {
			addrs := startExample(t, path, "")
			for _, cmd := range cmds {
				c := parseCurl(t, cmd.text)
				port, _, _ := strings.Cut(strings.TrimPrefix(c.url, "http://127.0.0.1:"), "/")
				if ports[port] != path {
					continue
				}
				ran++
				got := printed(t, c, runCurl(t, c, addrs))
				want := readmeShown(c, cmd.output)
				if !equalStrings(got, want) {
					t.Errorf("README.md:%d %s\nprinted:\n%s\nthe README shows:\n%s", cmd.line, cmd.text,
						strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
	// Every command but the metrics scrape (TestREADMEMetrics) ran.
	for _, cmd := range cmds {
		c := parseCurl(t, cmd.text)
		port, _, _ := strings.Cut(strings.TrimPrefix(c.url, "http://127.0.0.1:"), "/")
		if ports[port] == "" && !strings.HasPrefix(c.url, "localhost:2019/") {
			t.Errorf("README.md:%d %s: no example config serves its port", cmd.line, cmd.text)
		}
	}
	if ran < 8 {
		t.Errorf("ran %d of the README's commands, want at least the 8 of the demo and the recipes", ran)
	}
}

// TestREADMEMetrics runs the README's metrics scrape as it was captured:
// after the PyPI recipe's commands, on the recipes' admin API.
func TestREADMEMetrics(t *testing.T) {
	admin := testcaddy.FreeAddr(t)
	addrs := startExample(t, "docs/recipes.Caddyfile", admin)
	var scrape *readmeCommand
	cmds := readmeCommands(t)
	for i, cmd := range cmds {
		c := parseCurl(t, cmd.text)
		switch {
		case strings.HasPrefix(c.url, "http://127.0.0.1:9080/"):
			runCurl(t, c, addrs)
		case strings.HasPrefix(c.url, "localhost:2019/metrics"):
			scrape = &cmds[i]
		}
	}
	if scrape == nil {
		t.Fatal("no metrics scrape in the README")
	}
	c := parseCurl(t, scrape.text)
	if want := []string{"grep cookie_normalizer", "grep -v ' 0$'"}; !equalStrings(c.greps, want) {
		t.Fatalf("README.md:%d: the scrape's greps are %q; the test applies %q", scrape.line, c.greps, want)
	}
	resp, err := readmeClient.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "cookie_normalizer") && !strings.HasSuffix(line, " 0") {
			got = append(got, line)
		}
	}
	if !equalStrings(got, scrape.output) {
		t.Errorf("README.md:%d %s\nprinted:\n%s\nthe README shows:\n%s", scrape.line, scrape.text,
			strings.Join(got, "\n"), strings.Join(scrape.output, "\n"))
	}
}

// TestREADMEDemoLog runs the demo's log-in and log-out and compares the
// module's log lines with those the README's quick start shows after its
// transcript, but for their times: the demo's own global options, its
// `log cookies` block writing to a file instead of the terminal, and the
// rest of Caddy's log at ERROR.
func TestREADMEDemoLog(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "demo's `log cookies` block")
	if !ok {
		t.Fatal("README.md: the quick start does not show the demo's log lines")
	}
	_, block, _ := strings.Cut(after, "```\n")
	block, _, _ = strings.Cut(block, "```")
	stamp := regexp.MustCompile(`"ts":[0-9.]+,`)
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		want = append(want, stamp.ReplaceAllString(line, `"ts":…,`))
	}
	logFile := filepath.Join(t.TempDir(), "cookies.log")
	addrs := startExampleWith(t, "Caddyfile.example", func(own string) string {
		const include = "\t\tinclude http.handlers.cookie_normalizer\n"
		if !strings.Contains(own, "\tlog cookies {\n") || !strings.Contains(own, include) {
			t.Fatalf("Caddyfile.example: no log cookies block including the module's logger:\n%s", own)
		}
		own = strings.Replace(own, include, include+"\t\toutput file "+logFile+"\n", 1)
		return strings.Replace(own, "\tlog cookies {", "\tlog {\n\t\tlevel ERROR\n\t}\n\tlog cookies {", 1)
	})
	for _, path := range []string{"/login", "/logout"} {
		resp, err := readmeClient.Get("http://" + addrs["8080"] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var got []string
	for range 1500 { // the log's writer may lag the response (30 s at most)
		text, _ := os.ReadFile(logFile)
		if got = strings.Split(strings.TrimSpace(string(text)), "\n"); len(got) >= len(want) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range got {
		got[i] = stamp.ReplaceAllString(got[i], `"ts":…,`)
	}
	if !equalStrings(got, want) {
		t.Errorf("the demo logs\n%s\nthe README shows\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
